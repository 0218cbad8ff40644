/**
 * Equality pre-filters for Mongo-style queries, so that the scheduler can find
 * the queries a document may match (and the documents a query may match)
 * without testing every pair. A query is indexed by its first top-level
 * `path: primitive` (or `path: { $eq: primitive }`) constraint; sift matches
 * such a query only if the document has that primitive at that path (or in an
 * array there). Anything the index cannot decide is returned as a candidate,
 * and candidates are always confirmed with the real query test.
 */

export interface Equality {
  path: string;
  key: string;
}

function primitiveKey(value: unknown): string | null {
  switch (typeof value) {
    case 'string':
      return `s:${value}`;
    case 'number':
      return `n:${value}`;
    case 'boolean':
      return `b:${value}`;
    default:
      return value === null ? 'null' : null;
  }
}

/** The constraint a query is indexed by, or null when it has none usable. */
export function equalityOf(query: Record<string, unknown>): Equality | null {
  for (const [path, condition] of Object.entries(query)) {
    if (path.startsWith('$')) continue;
    let value: unknown = condition;
    if (typeof condition === 'object' && condition !== null && !Array.isArray(condition) && !(condition instanceof Date)) {
      const keys = Object.keys(condition);
      if (keys.length !== 1 || keys[0] !== '$eq') continue;
      value = (condition as { $eq: unknown }).$eq;
    }
    const key = primitiveKey(value);
    // null also matches a missing field: not indexable.
    if (key !== null && key !== 'null') return { path, key };
  }
  return null;
}

/**
 * The primitive keys found at `path` in `doc` (one per array element for an
 * array), or `null` when the path crosses an array or holds something the
 * index cannot decide: then every query on that path is a candidate.
 */
export function keysAt(doc: unknown, path: string): string[] | null {
  let current: unknown = doc;
  for (const part of path.split('.')) {
    if (Array.isArray(current)) return null;
    // sift also reads into strings ('name.length') and Dates: undecided.
    if (current === null || current === undefined) return [];
    if (typeof current !== 'object' || current instanceof Date) return null;
    if (!Object.prototype.hasOwnProperty.call(current, part)) return part in current ? null : [];
    current = (current as Record<string, unknown>)[part];
  }
  if (Array.isArray(current)) {
    const keys: string[] = [];
    for (const item of current) {
      const key = primitiveKey(item);
      if (key === null && item !== null && typeof item === 'object') return null;
      if (key !== null) keys.push(key);
    }
    return keys;
  }
  const key = primitiveKey(current);
  if (key !== null) return [key];
  // Objects and Dates (sift compares a Date with a number by its time): undecided.
  return current !== null && typeof current === 'object' ? null : [];
}

/** Items (queries or documents) grouped by the primitive found at one or more paths. */
export class EqualityIndex<T> {
  /** path → primitive key → items */
  readonly #byPath = new Map<string, Map<string, Set<T>>>();
  /** path → items the index cannot place (always candidates for that path) */
  readonly #undecided = new Map<string, Set<T>>();

  get paths(): IterableIterator<string> {
    return this.#byPath.keys();
  }

  /** No path is indexed: nothing to look up or file. */
  get empty(): boolean {
    return this.#byPath.size === 0;
  }

  hasPath(path: string): boolean {
    return this.#byPath.has(path);
  }

  addPath(path: string): void {
    if (!this.#byPath.has(path)) {
      this.#byPath.set(path, new Map());
      this.#undecided.set(path, new Set());
    }
  }

  deletePath(path: string): void {
    this.#byPath.delete(path);
    this.#undecided.delete(path);
  }

  /** Files `item` under `path` by `keys` (`null`: undecided). */
  add(path: string, keys: readonly string[] | null, item: T): void {
    this.addPath(path);
    if (keys === null) {
      this.#undecided.get(path)!.add(item);
      return;
    }
    const byKey = this.#byPath.get(path)!;
    for (const key of keys) {
      let set = byKey.get(key);
      if (set === undefined) byKey.set(key, (set = new Set()));
      set.add(item);
    }
  }

  delete(path: string, keys: readonly string[] | null, item: T): void {
    if (keys === null) {
      this.#undecided.get(path)?.delete(item);
      return;
    }
    const byKey = this.#byPath.get(path);
    if (byKey === undefined) return;
    for (const key of keys) {
      const set = byKey.get(key);
      if (set === undefined) continue;
      set.delete(item);
      if (set.size === 0) byKey.delete(key);
    }
  }

  /** Items filed under `path` with `key`, plus the undecided ones of that path. */
  *lookup(path: string, keys: readonly string[] | null): Generator<T> {
    const byKey = this.#byPath.get(path);
    if (byKey === undefined) return;
    if (keys === null) {
      for (const set of byKey.values()) yield* set;
    } else {
      for (const key of keys) {
        const set = byKey.get(key);
        if (set !== undefined) yield* set;
      }
    }
    yield* this.#undecided.get(path) ?? [];
  }
}
