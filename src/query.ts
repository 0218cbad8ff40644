/**
 * Mongo-style queries (sift) and sorts over task documents.
 *
 * Queries must never run code: `$where` and function values are refused
 * before sift sees the query. Sift's own compile errors (unknown operators)
 * are reported as `ERR_INVALID_QUERY`.
 */
import { describeValue } from './describe.js';
import siftModule from 'sift';
import { ErrorCodes, TaskerError } from './errors.js';
import type { TaskQuery, TaskSort } from './types.js';

export type QueryTester = (document: unknown) => boolean;

// sift is CommonJS; its default export is re-exposed as a property of the module object.
const sift = siftModule.default;

const FORBIDDEN_OPERATORS = new Set(['$where', '$function', '$accumulator', '$expr']);

export function compileQuery(query: unknown, label = 'query'): QueryTester {
  if (typeof query !== 'object' || query === null || Array.isArray(query)) {
    throw new TaskerError(ErrorCodes.INVALID_QUERY, `${label} must be a plain object`);
  }
  assertNoCode(query, label, 0);
  let test: QueryTester;
  try {
    test = sift(query as TaskQuery) as QueryTester;
  } catch (error) {
    throw new TaskerError(ErrorCodes.INVALID_QUERY, `${label} is not a valid query: ${(error as Error).message}`, {
      cause: error,
    });
  }
  // Some mistakes surface only when a document is tested (an unknown $type): report them with the code too.
  return (document) => {
    try {
      return test(document);
    } catch (error) {
      throw new TaskerError(ErrorCodes.INVALID_QUERY, `${label} could not be evaluated: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };
}

function assertNoCode(value: unknown, path: string, depth: number): void {
  if (depth > 64) throw new TaskerError(ErrorCodes.INVALID_QUERY, `${path} is nested too deeply`);
  if (typeof value === 'function') {
    throw new TaskerError(ErrorCodes.INVALID_QUERY, `${path} is a function; queries cannot execute code`);
  }
  if (typeof value !== 'object' || value === null || value instanceof RegExp || value instanceof Date) return;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_OPERATORS.has(key)) {
      throw new TaskerError(ErrorCodes.INVALID_QUERY, `${path} uses ${key}; operators that execute code are refused`);
    }
    assertNoCode((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
  }
}

export function getPath(document: unknown, path: string): unknown {
  let current: unknown = document;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Orders values like Mongo, simplified: missing < null < numbers < strings < objects < booleans < dates. */
function typeRank(value: unknown): number {
  if (value === undefined) return 0;
  if (value === null) return 1;
  if (typeof value === 'number') return 2;
  if (typeof value === 'string') return 3;
  if (value instanceof Date) return 6;
  if (typeof value === 'boolean') return 5;
  return 4;
}

export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 2:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 3:
      return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    case 5:
      return Number(a) - Number(b);
    case 6:
      return (a as Date).getTime() - (b as Date).getTime();
    case 4:
      return compareValues(JSON.stringify(a), JSON.stringify(b));
    default:
      return 0;
  }
}

export function validateSort(sort: unknown): TaskSort {
  if (typeof sort !== 'object' || sort === null || Array.isArray(sort)) {
    throw new TaskerError(ErrorCodes.INVALID_QUERY, 'sort must be an object such as { priority: -1, createdAt: 1 }');
  }
  for (const [key, direction] of Object.entries(sort)) {
    if (direction !== 1 && direction !== -1) {
      throw new TaskerError(ErrorCodes.INVALID_QUERY, `sort.${key} must be 1 or -1`);
    }
  }
  return sort as TaskSort;
}

export function makeComparator(sort: TaskSort): (a: unknown, b: unknown) => number {
  const keys = Object.entries(sort);
  return (a, b) => {
    for (const [path, direction] of keys) {
      const order = compareValues(getPath(a, path), getPath(b, path));
      if (order !== 0) return order * direction;
    }
    return 0;
  };
}

export function validateCount(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TaskerError(ErrorCodes.INVALID_QUERY, `${name} must be a non-negative integer, got ${describeValue(value)}`);
  }
  return value;
}
