/**
 * Projections for the read methods (`getTask`, `findTask`, `findTasks`):
 * MongoDB's include/exclude of fields, compiled once per call into a function
 * that builds the caller's copy of a task from its live document.
 *
 * Only what the projection keeps is copied: `{ uuid: 1, status: 1 }` never
 * clones `data` or `result`, and an exclusion never clones what it excludes.
 *
 * Rules (MongoDB's, where MongoDB has one):
 * - `{ field: 1, … }` keeps only these fields (and `uuid`, unless `uuid: 0`);
 *   `{ field: 0, … }` keeps every field but these. `true`/`false` are `1`/`0`.
 *   Mixing `1` and `0` is an error, except for `uuid` and `logs`.
 * - Dot paths reach into objects (`'data.file': 1`) and through arrays, where
 *   they apply to each element (`'concurrency.limit': 1`). An inclusion keeps
 *   an object it reaches into even when none of the named fields is in it
 *   (`data: {}`), drops a non-object (`data: 5` is left out by `'data.file': 1`)
 *   and drops non-object array elements; an exclusion keeps them untouched.
 * - Two paths where one is inside the other (`data` and `data.file`) collide: error.
 * - No operators (`$`, `$slice`, `$elemMatch`, `$meta`), no empty path or
 *   segment, no path inside `uuid` (a string): errors.
 * - `logs` exist only with `withLogs: true`, and then behave like `uuid`: kept
 *   unless `logs: 0`, also by an inclusion that does not name them (`withLogs`
 *   asked for them); sub-paths narrow them (`'logs.message': 1`,
 *   `'logs.data': 0`). Asking a projection to include `logs` without
 *   `withLogs: true` is an error (it would silently return none).
 *
 * Output fields come in the document's order, `logs` last, as without a
 * projection. Every error is a `TaskerError` `ERR_INVALID_QUERY` naming the key.
 */
import { describeValue } from './describe.js';
import { ErrorCodes, TaskerError } from './errors.js';
import type { TaskDoc } from './store/task-store.js';
import type { LogEntry, Task } from './types.js';

/**
 * Builds the caller's copy of a task. `logs`, given only with `withLogs`,
 * returns the task's live log entries (already filtered by level, not copied);
 * it is called only when the projection keeps them.
 */
export type Projector = (doc: TaskDoc, logs: (() => readonly LogEntry[]) | undefined) => Task;

export interface ProjectionOptions {
  /** Whether the call asked for the logs; a projection cannot include them otherwise. */
  withLogs?: boolean;
}

/**
 * The compiled projection as a tree of path segments: `null` is a field named
 * whole (kept by an inclusion, dropped by an exclusion), a node a field whose
 * sub-fields are named.
 */
type Node = Map<string, Node | null>;

type Mode = 'include' | 'exclude';

/** Fields that may take the other value than the rest of the projection. */
const EXCEPTIONS = new Set(['uuid', 'logs']);

export function compileProjection(projection: unknown, options: ProjectionOptions = {}): Projector {
  if (!isPlainObject(projection)) {
    throw invalid(`projection must be a plain object such as { status: 1, 'data.file': 1 }, got ${describeProjection(projection)}`);
  }
  const withLogs = options.withLogs === true;
  const paths: Array<{ key: string; parts: string[] }> = [];
  const exceptions = new Map<string, boolean>();
  let mode: Mode | undefined;
  let modeKey = '';
  for (const key of Object.keys(projection)) {
    const include = flag(key, projection[key]);
    const parts = parsePath(key);
    if (parts[0] === 'uuid' && parts.length > 1) throw invalid(`${name(key)}: uuid is a string and has no fields; project it whole`);
    if (include && parts[0] === 'logs' && !withLogs) {
      throw invalid(`${name(key)}: logs appear only with withLogs: true; a projection cannot add them`);
    }
    if (EXCEPTIONS.has(key)) {
      exceptions.set(key, include);
      continue;
    }
    const keyMode: Mode = include ? 'include' : 'exclude';
    if (mode === undefined) {
      mode = keyMode;
      modeKey = key;
    } else if (mode !== keyMode) {
      const [included, excluded] = include ? [key, modeKey] : [modeKey, key];
      throw invalid(
        `projection mixes inclusion (${name(included)}: 1) and exclusion (${name(excluded)}: 0); only uuid and logs may take the other value`,
      );
    }
    paths.push({ key, parts });
  }
  // With only uuid and/or logs named, any 1 makes it an inclusion ({ uuid: 1 } keeps only the uuid).
  mode ??= [...exceptions.values()].includes(true) ? 'include' : 'exclude';

  const tree: Node = new Map();
  for (const { key, parts } of paths) insert(tree, key, parts);
  for (const [key, include] of exceptions) {
    const inside = tree.get(key);
    if (inside !== undefined && inside !== null) {
      throw invalid(`${name(key)} collides with ${name(firstPathUnder(inside, key))}: name a field or fields inside it, not both`);
    }
    if (include === (mode === 'include')) tree.set(key, null);
  }
  if (mode === 'include') {
    // uuid always, and logs when asked for with withLogs, unless excluded by name.
    for (const key of EXCEPTIONS) {
      if (exceptions.get(key) !== false && !tree.has(key)) tree.set(key, null);
    }
    return (doc, logs) => {
      const out = includeObject(doc, tree);
      if (logs !== undefined) {
        const child = tree.get('logs');
        if (child !== undefined) putIncluded(out, 'logs', logs(), child);
      }
      return out as unknown as Task;
    };
  }
  return (doc, logs) => {
    const out = excludeObject(doc, tree);
    if (logs !== undefined) {
      const child = tree.get('logs');
      if (child === undefined) setField(out, 'logs', copy(logs()));
      else if (child !== null) setField(out, 'logs', excludeIn(logs(), child));
    }
    return out as unknown as Task;
  };
}

function invalid(message: string): TaskerError {
  return new TaskerError(ErrorCodes.INVALID_QUERY, message);
}

function name(key: string): string {
  return `projection[${JSON.stringify(key)}]`;
}

function describeProjection(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object that is not a plain object';
  return `${typeof value} ${describeValue(value)}`;
}

function flag(key: string, value: unknown): boolean {
  if (value === 1 || value === true) return true;
  if (value === 0 || value === false) return false;
  throw invalid(`${name(key)} must be 1, 0, true or false, got ${typeof value === 'object' && value !== null ? 'an object' : describeValue(value)}`);
}

function parsePath(key: string): string[] {
  if (key === '') throw invalid(`${name(key)}: the path is empty`);
  const parts = key.split('.');
  for (const part of parts) {
    if (part === '') throw invalid(`${name(key)}: the path has an empty segment`);
    if (part.startsWith('$')) {
      throw invalid(`${name(key)}: projection operators (${part}) are not supported; use field paths with 1 or 0`);
    }
  }
  return parts;
}

/** Adds a path to the tree; a path inside another (or the same) one is a collision. */
function insert(tree: Node, key: string, parts: readonly string[]): void {
  let node = tree;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const existing = node.get(part);
    const last = i === parts.length - 1;
    if (existing === null) {
      throw invalid(`${name(key)} collides with ${name(parts.slice(0, i + 1).join('.'))}: name a field or fields inside it, not both`);
    }
    if (last) {
      if (existing !== undefined) {
        throw invalid(`${name(key)} collides with ${name(firstPathUnder(existing, key))}: name a field or fields inside it, not both`);
      }
      node.set(part, null);
      return;
    }
    if (existing === undefined) {
      const child: Node = new Map();
      node.set(part, child);
      node = child;
    } else {
      node = existing;
    }
  }
}

function firstPathUnder(node: Node, prefix: string): string {
  const [entry] = node;
  if (entry === undefined) return prefix;
  const [part, child] = entry;
  return child === null ? `${prefix}.${part}` : firstPathUnder(child, `${prefix}.${part}`);
}

/** Returned by `includeIn` for a value an inclusion leaves out (a non-object reached into). */
const OMIT = Symbol('omit');

function includeObject(object: object, node: Node): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    const child = node.get(key);
    if (child !== undefined) putIncluded(out, key, (object as Record<string, unknown>)[key], child);
  }
  return out;
}

function putIncluded(out: Record<string, unknown>, key: string, value: unknown, child: Node | null): void {
  if (child === null) {
    setField(out, key, copy(value));
    return;
  }
  const projected = includeIn(value, child);
  if (projected !== OMIT) setField(out, key, projected);
}

function includeIn(value: unknown, node: Node): unknown {
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const element of value as unknown[]) {
      const projected = includeIn(element, node);
      if (projected !== OMIT) out.push(projected);
    }
    return out;
  }
  return isPlainObject(value) ? includeObject(value, node) : OMIT;
}

function excludeObject(object: object, node: Node): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    const child = node.get(key);
    if (child === null) continue;
    const value = (object as Record<string, unknown>)[key];
    setField(out, key, child === undefined ? copy(value) : excludeIn(value, child));
  }
  return out;
}

function excludeIn(value: unknown, node: Node): unknown {
  if (Array.isArray(value)) return (value as unknown[]).map((element) => excludeIn(element, node));
  return isPlainObject(value) ? excludeObject(value, node) : copy(value);
}

/**
 * The copy handed out: primitives as they are, Dates (every task has two or
 * three) rebuilt, which is much cheaper than a structuredClone call and gives
 * the same Date; anything else cloned, as a whole task is without a projection.
 */
function copy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) return new Date(value.getTime());
  return structuredClone(value);
}

/** An own property, even one named `__proto__` (JSON data may have one), never a prototype change. */
function setField(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
  else out[key] = value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
