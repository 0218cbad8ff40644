/**
 * The retention policy of ended tasks: its option on `new Tasker({ retention })`,
 * the per-task override `addTask({ retention: { maxAge } })`, their defaults and
 * their validation. A malformed policy is refused at the boundary, with the
 * codes of the place it came from (ERR_INVALID_OPTION / ERR_INVALID_TASK).
 */
import { describeValue } from './describe.js';
import { ErrorCodes, TaskerError } from './errors.js';
import type { EndedTaskStatus } from './types.js';

/** The tasker's `retention` option: which ended tasks are removed, and how often it is checked. */
export interface RetentionOptions {
  /** Ended tasks whose `endedAt` is older than this many ms are removed. */
  maxAge?: number;
  /** Keep only the newest N ended tasks of each status (a number: the same N for each). */
  maxCount?: number | { done?: number; failed?: number; aborted?: number };
  /** Milliseconds between two sweeps while started. Default 60 000. */
  interval?: number;
}

/** Per task: overrides the tasker's `maxAge` for this task. */
export interface TaskRetention {
  maxAge?: number;
}

export interface RetentionPolicy {
  maxAge: number | null;
  maxCount: Record<EndedTaskStatus, number | null>;
  interval: number;
}

export const DEFAULT_RETENTION_INTERVAL_MS = 60_000;
/** Same bound as options.MAX_TIMER_MS (not imported: options.ts imports this file). */
const MAX_TIMER_MS = 2 ** 31 - 1;
const STATUSES: readonly EndedTaskStatus[] = ['done', 'failed', 'aborted'];

/** Validates `options.retention`; throws a TypeError/RangeError with code ERR_INVALID_OPTION. */
export function validateRetentionOption(value: unknown): RetentionPolicy {
  const fail = (Kind: TypeErrorConstructor | RangeErrorConstructor, message: string): Error => {
    const error = new Kind(message);
    (error as Error & { code: string }).code = ErrorCodes.INVALID_OPTION;
    return error;
  };
  const o = plainObject(value, 'options.retention', (m) => fail(TypeError, m));
  for (const key of Object.keys(o)) {
    if (key !== 'maxAge' && key !== 'maxCount' && key !== 'interval') {
      throw fail(TypeError, `options.retention.${key} is not a retention option (maxAge, maxCount, interval)`);
    }
  }
  const policy: RetentionPolicy = {
    maxAge: null,
    maxCount: { done: null, failed: null, aborted: null },
    interval: DEFAULT_RETENTION_INTERVAL_MS,
  };
  if (o['maxAge'] !== undefined) policy.maxAge = maxAge(o['maxAge'], 'options.retention.maxAge', fail);
  const count = o['maxCount'];
  if (typeof count === 'number' || (count !== undefined && (typeof count !== 'object' || count === null || Array.isArray(count)))) {
    const n = maxCount(count, 'options.retention.maxCount', fail);
    for (const status of STATUSES) policy.maxCount[status] = n;
  } else if (count !== undefined) {
    for (const [status, n] of Object.entries(count)) {
      if (!(STATUSES as readonly string[]).includes(status)) {
        throw fail(TypeError, `options.retention.maxCount.${status} is not an ended status (done, failed, aborted)`);
      }
      if (n !== undefined) policy.maxCount[status as EndedTaskStatus] = maxCount(n, `options.retention.maxCount.${status}`, fail);
    }
  }
  const interval = o['interval'];
  if (interval !== undefined) {
    if (typeof interval !== 'number' || Number.isNaN(interval)) throw fail(TypeError, 'options.retention.interval must be a number of ms');
    // At least 1 ms, so that a sweep can never spin the event loop.
    if (interval < 1 || interval > MAX_TIMER_MS) {
      throw fail(RangeError, `options.retention.interval must be between 1 and ${MAX_TIMER_MS} ms, got ${interval}`);
    }
    policy.interval = interval;
  }
  return policy;
}

/** Validates `addTask({ retention })`; throws ERR_INVALID_TASK. */
export function validateTaskRetention(value: unknown): TaskRetention {
  const fail = (_Kind: unknown, message: string): Error => new TaskerError(ErrorCodes.INVALID_TASK, message);
  const o = plainObject(value, 'retention', (m) => fail(null, m));
  for (const key of Object.keys(o)) {
    if (key === 'maxCount' || key === 'interval') {
      throw fail(null, `retention.${key} is a tasker option (new Tasker({ retention })), not a task field; a task may only set retention.maxAge`);
    }
    if (key !== 'maxAge') throw fail(null, `retention.${key} is not a task retention field (maxAge)`);
  }
  const out: TaskRetention = {};
  if (o['maxAge'] !== undefined) out.maxAge = maxAge(o['maxAge'], 'retention.maxAge', fail);
  return out;
}

type Fail = (Kind: TypeErrorConstructor | RangeErrorConstructor, message: string) => Error;

function plainObject(value: unknown, label: string, fail: (message: string) => Error): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(`${label} must be an object`);
  return value as Record<string, unknown>;
}

/** Not a timer delay (it is compared with endedAt), so it may exceed 2^31 - 1 ms: months are fine. */
function maxAge(value: unknown, label: string, fail: Fail): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw fail(TypeError, `${label} must be a number of ms, got ${describeValue(value)}`);
  if (!Number.isFinite(value) || value < 0) throw fail(RangeError, `${label} must be a finite number of ms >= 0, got ${value}`);
  return value;
}

function maxCount(value: unknown, label: string, fail: Fail): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw fail(TypeError, `${label} must be an integer >= 0 or { done, failed, aborted }, got ${describeValue(value)}`);
  }
  if (!Number.isInteger(value) || value < 0) throw fail(RangeError, `${label} must be an integer >= 0, got ${value}`);
  return value;
}
