/**
 * `addTask({ dedupe })`: its type and its validation at the boundary. A bad
 * dedupe option rejects with ERR_INVALID_TASK, like any malformed field.
 */
import { describeValue } from './describe.js';
import { ErrorCodes, TaskerError } from './errors.js';
import { copyJsonValue, JsonValueError } from './json-value.js';
import { compileQuery, type QueryTester } from './query.js';
import type { TaskQuery } from './types.js';

/** What `addTask` does with a duplicate: refuse it, return the existing task's uuid, or replace (abort) the existing task. */
export type DedupeMode = 'reject' | 'return-existing' | 'replace';

/** `addTask({ dedupe })`: what a duplicate is (a `key` or a `query`), and what to do with one. */
export interface DedupeOptions {
  /** Tasks with the same key (stored as `dedupeKey`) are duplicates. */
  key?: string;
  /** A sift query selecting the duplicates (a scan of the tasks: see the README for its cost). */
  query?: TaskQuery;
  /** Default 'reject'. */
  mode?: DedupeMode;
  /** Also count tasks that ended within this many ms (by `endedAt`). Default: only new and running tasks. */
  includeEnded?: number;
}

export interface ValidDedupe {
  key: string | null;
  query: { source: TaskQuery; test: QueryTester } | null;
  mode: DedupeMode;
  includeEnded: number | null;
}

const KNOWN = new Set(['key', 'query', 'mode', 'includeEnded']);
const MODES: readonly DedupeMode[] = ['reject', 'return-existing', 'replace'];

function invalid(message: string, cause?: unknown): TaskerError {
  return new TaskerError(ErrorCodes.INVALID_TASK, message, cause === undefined ? undefined : { cause });
}

export function validateDedupe(value: unknown): ValidDedupe {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('dedupe must be an object { key | query, mode?, includeEnded? }');
  const d = value as Record<string, unknown>;
  for (const key of Object.keys(d)) {
    if (!KNOWN.has(key)) throw invalid(`dedupe.${key} is not a dedupe field (key, query, mode, includeEnded)`);
  }
  if ((d['key'] === undefined) === (d['query'] === undefined)) throw invalid('dedupe needs exactly one of key and query');
  const valid: ValidDedupe = { key: null, query: null, mode: 'reject', includeEnded: null };
  if (d['key'] !== undefined) {
    if (typeof d['key'] !== 'string' || d['key'].length === 0) throw invalid(`dedupe.key must be a non-empty string, got ${describeValue(d['key'])}`);
    valid.key = d['key'];
  } else {
    let source: TaskQuery;
    try {
      // Copied, so that a later change to the caller's object cannot change what was checked.
      source = copyJsonValue(d['query'], 'dedupe.query') as TaskQuery;
    } catch (error) {
      if (error instanceof JsonValueError) throw invalid(`${error.message}; a dedupe query must be JSON-compatible`, error);
      throw error;
    }
    try {
      valid.query = { source, test: compileQuery(source, 'dedupe.query') };
    } catch (error) {
      throw invalid((error as Error).message, error);
    }
  }
  if (d['mode'] !== undefined) {
    if (!(MODES as readonly unknown[]).includes(d['mode'])) throw invalid(`dedupe.mode must be one of ${MODES.map((m) => `'${m}'`).join(', ')}, got ${describeValue(d['mode'])}`);
    valid.mode = d['mode'] as DedupeMode;
  }
  const window = d['includeEnded'];
  if (window !== undefined) {
    if (typeof window !== 'number' || !Number.isFinite(window) || window < 0) {
      throw invalid(`dedupe.includeEnded must be a finite number of ms >= 0, got ${describeValue(window)}`);
    }
    valid.includeEnded = window;
  }
  return valid;
}
