/**
 * JSON-compatible values: what tasks hold in `id`, `data`, `result` and log data.
 *
 * Allowed: null, booleans, finite numbers, strings, arrays, plain objects
 * (prototype `Object.prototype` or `null`) and valid `Date`s. Object properties
 * whose value is `undefined` are dropped, as `JSON.stringify` does. Everything
 * else (functions, symbols, BigInt, NaN/Infinity, class instances, cycles,
 * `undefined` array items) is refused with the path of the offending value.
 *
 * This module is shared by the main thread and the worker threads.
 */

export type JsonValue = null | boolean | number | string | Date | JsonValue[] | { [key: string]: JsonValue };

/** Thrown by `copyJsonValue`; callers wrap it into a `TaskerError` with their own code. */
export class JsonValueError extends Error {
  readonly path: string;
  constructor(path: string, reason: string) {
    super(`${path} ${reason}`);
    this.name = 'JsonValueError';
    this.path = path;
  }
}

/** Validates `value` and returns a deep copy that shares nothing with it. */
export function copyJsonValue(value: unknown, path: string): JsonValue {
  return copy(value, path, new Set());
}

/** Deeper values are refused: they would overflow the stack of every recursive walk after this one. */
export const MAX_DEPTH = 512;

function copy(value: unknown, path: string, ancestors: Set<object>): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new JsonValueError(path, `is ${value}, which JSON cannot represent`);
      return value;
    case 'undefined':
      throw new JsonValueError(path, 'is undefined, which JSON cannot represent');
    case 'bigint':
      throw new JsonValueError(path, 'is a BigInt, which JSON cannot represent');
    case 'symbol':
      throw new JsonValueError(path, 'is a symbol, which JSON cannot represent');
    case 'function':
      throw new JsonValueError(path, 'is a function, which JSON cannot represent');
  }
  if (value === null) return null;
  const object = value as object;
  if (object instanceof Date) {
    let time: number;
    try {
      time = object.getTime();
    } catch {
      throw new JsonValueError(path, 'is not a real Date');
    }
    if (Number.isNaN(time)) throw new JsonValueError(path, 'is an invalid Date');
    return new Date(time);
  }
  if (ancestors.has(object)) throw new JsonValueError(path, 'is a circular reference');
  if (ancestors.size >= MAX_DEPTH) throw new JsonValueError(path, `is nested deeper than ${MAX_DEPTH} levels`);
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      const out: JsonValue[] = new Array(object.length);
      for (let i = 0; i < object.length; i++) out[i] = copy(object[i], `${path}[${i}]`, ancestors);
      return out;
    }
    const proto = Object.getPrototypeOf(object) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      let name: unknown;
      try {
        name = (object.constructor as { name?: unknown } | undefined)?.name;
      } catch {
        name = undefined;
      }
      throw new JsonValueError(path, `is an instance of ${typeof name === 'string' ? name : 'a class'}; only plain objects, arrays and Dates are allowed`);
    }
    const out: { [key: string]: JsonValue } = {};
    for (const key of Object.keys(object)) {
      const field = (object as Record<string, unknown>)[key];
      if (field === undefined) continue;
      setOwn(out, key, copy(field, `${path}.${key}`, ancestors));
    }
    return out;
  } finally {
    ancestors.delete(object);
  }
}

/** Defines an own property, so that a key named `__proto__` stays data and never changes a prototype. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/*
 * Storage encoding. JSON has no Date, so a Date is written as {"$$date": "<ISO>"}.
 * To keep user keys that start with "$$" unambiguous, they get one more "$" on
 * write and lose it on read: {"$$date": 1} in user data is stored as {"$$$date": 1}.
 */
const DATE_TAG = '$$date';

export function encodeJsonValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  // Most values hold no Date and no `$$` key: they are written as they are, without a copy.
  if (!needsEncoding(value)) return value;
  return encodeObject(value);
}

/** Whether `value` holds a Date or a key starting with `$$`, at any depth. */
function needsEncoding(value: object): boolean {
  if (value instanceof Date) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (item !== null && typeof item === 'object' && needsEncoding(item)) return true;
    return false;
  }
  for (const key in value) {
    if (key.startsWith('$$')) return true;
    const item = (value as Record<string, unknown>)[key];
    if (item !== null && typeof item === 'object' && needsEncoding(item)) return true;
  }
  return false;
}

/** The encoded copy, once `needsEncoding` said yes: nested values are copied without being checked again. */
function encodeObject(value: object): unknown {
  if (value instanceof Date) return { [DATE_TAG]: value.toISOString() };
  if (Array.isArray(value)) return value.map(encodeNested);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    setOwn(out, key.startsWith('$$') ? `$${key}` : key, encodeNested((value as Record<string, unknown>)[key]));
  }
  return out;
}

function encodeNested(value: unknown): unknown {
  return value === null || typeof value !== 'object' ? value : encodeObject(value);
}

/**
 * Reverses `encodeJsonValue`. It reuses its input, which must be freshly
 * parsed JSON that nobody else holds: decoding in place allocates nothing for
 * the common value without Dates or `$$` keys (start-up decodes every task).
 */
export function decodeJsonValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = decodeJsonValue(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0] === DATE_TAG && typeof record[DATE_TAG] === 'string') {
    return new Date(record[DATE_TAG]);
  }
  // Renaming escaped keys in place could overwrite a key not yet visited ('$$$$a' -> '$$$a'): build a new object then.
  if (keys.some((key) => key.startsWith('$$$'))) {
    const out: Record<string, unknown> = {};
    for (const key of keys) setOwn(out, key.startsWith('$$$') ? key.slice(1) : key, decodeJsonValue(record[key]));
    return out;
  }
  for (const key of keys) {
    const decoded = decodeJsonValue(record[key]);
    if (decoded !== record[key]) setOwn(record, key, decoded);
  }
  return record;
}
