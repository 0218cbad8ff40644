/**
 * Retry policies: their validation, which outcomes they retry, and the delay
 * before the next attempt. A policy given to `addTask` is stored with the task
 * (so `retryOn` there is a list of outcome kinds); one given to `assignRunner`
 * lives in memory and may use a predicate.
 */
import { describeValue } from './describe.js';
import { ErrorCodes, type SerializedError } from './errors.js';
import { MAX_TIMER_MS } from './options.js';
import type { JsonValue } from './json-value.js';

/** What ended an attempt, as `retryOn` names it. */
export type RetryOutcome = 'error' | 'timeout' | 'crash' | 'out-of-memory';
export const RETRY_OUTCOMES: readonly RetryOutcome[] = ['error', 'timeout', 'crash', 'out-of-memory'];

/** How long a failed task waits before each retry. */
export interface RetryBackoff {
  type: 'fixed' | 'exponential';
  /** Milliseconds before the first retry (and every retry, with `fixed`). */
  delay: number;
  /** Upper bound of an exponential delay. */
  maxDelay?: number;
  /** 0–1: each delay is drawn uniformly from [delay × (1 − jitter), delay]. Default 0. */
  jitter?: number;
}

/** Decides, from the failed run's stored error and its number (`ctx.attempt`: 1 for the first run), whether to retry. */
export type RetryPredicate = (error: SerializedError | JsonValue, attempt: number) => boolean;

/** When and how often a failed task runs again (`retry` of `addTask` and `assignRunner`). */
export interface RetryPolicy<On = RetryOutcome[] | RetryPredicate> {
  /** Most runs in all, the first one included (`attempts: 3` = one run and up to two retries). */
  attempts: number;
  /** Default: no delay. */
  backoff?: RetryBackoff;
  /** Which failures retry. Default: every kind (`error`, `timeout`, `crash`, `out-of-memory`). */
  retryOn?: On;
}

/** The form stored with a task: JSON only. */
export type StoredRetryPolicy = RetryPolicy<RetryOutcome[]>;

export class RetryPolicyError extends Error {}

export function validateRetryPolicy(value: unknown, path: string, predicateAllowed: boolean): RetryPolicy {
  const fail = (message: string): never => {
    throw new RetryPolicyError(`${path}${message}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(' must be an object { attempts, backoff?, retryOn? }');
  const policy = value as Record<string, unknown>;
  for (const key of Object.keys(policy)) {
    if (key !== 'attempts' && key !== 'backoff' && key !== 'retryOn') fail(`.${key} is not a retry field`);
  }
  const { attempts, backoff, retryOn } = policy;
  if (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 1 || attempts > 1_000_000) {
    fail(`.attempts must be an integer from 1 to 1000000, got ${describeValue(attempts)}`);
  }
  const valid: RetryPolicy = { attempts: attempts as number };
  if (backoff !== undefined) valid.backoff = validateBackoff(backoff, `${path}.backoff`, fail);
  if (retryOn !== undefined) {
    if (typeof retryOn === 'function') {
      if (!predicateAllowed) fail('.retryOn must be a list of outcomes here (a task is stored as JSON); a predicate is accepted by assignRunner');
      valid.retryOn = retryOn as RetryPredicate;
    } else if (Array.isArray(retryOn) && retryOn.every((kind) => RETRY_OUTCOMES.includes(kind as RetryOutcome))) {
      valid.retryOn = [...new Set(retryOn as RetryOutcome[])];
    } else {
      fail(`.retryOn must be a list of ${RETRY_OUTCOMES.map((kind) => `'${kind}'`).join(', ')}${predicateAllowed ? ' or a function' : ''}`);
    }
  }
  return valid;
}

function validateBackoff(value: unknown, path: string, fail: (message: string) => never): RetryBackoff {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('.backoff must be an object { type, delay, maxDelay?, jitter? }');
  const b = value as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!['type', 'delay', 'maxDelay', 'jitter'].includes(key)) fail(`.backoff.${key} is not a backoff field`);
  }
  if (b['type'] !== 'fixed' && b['type'] !== 'exponential') fail(`.backoff.type must be 'fixed' or 'exponential', got ${describeValue(b['type'])}`);
  const ms = (name: string): number | undefined => {
    const v = b[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_TIMER_MS) {
      fail(`.backoff.${name} must be a number of ms from 0 to ${MAX_TIMER_MS}, got ${describeValue(v)}`);
    }
    return v as number;
  };
  const delay = ms('delay');
  if (delay === undefined) fail(`.backoff.delay is required (${path})`);
  const valid: RetryBackoff = { type: b['type'] as RetryBackoff['type'], delay: delay as number };
  const maxDelay = ms('maxDelay');
  if (maxDelay !== undefined) valid.maxDelay = maxDelay;
  const jitter = b['jitter'];
  if (jitter !== undefined) {
    if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) fail(`.backoff.jitter must be a number from 0 to 1, got ${describeValue(jitter)}`);
    valid.jitter = jitter as number;
  }
  return valid;
}

/** The kind of a failed attempt, from its stored error (or abort reason, for a timeout). */
export function outcomeKind(error: SerializedError | JsonValue | undefined, timedOut: boolean): RetryOutcome {
  if (timedOut) return 'timeout';
  const code = typeof error === 'object' && error !== null && !Array.isArray(error) ? (error as { code?: unknown }).code : undefined;
  if (code === ErrorCodes.WORKER_OUT_OF_MEMORY) return 'out-of-memory';
  if (code === ErrorCodes.WORKER_CRASHED || code === ErrorCodes.WORKER_EXITED) return 'crash';
  return 'error';
}

/**
 * Whether a policy retries a run that failed this way: `failedRuns` counts
 * against `attempts` (runs a stop or a postpone put back do not), `attempt`
 * is the failed run's number (`ctx.attempt`), given to a predicate. A
 * throwing predicate means no retry.
 */
export function shouldRetry(
  policy: RetryPolicy,
  failedRuns: number,
  attempt: number,
  kind: RetryOutcome,
  error: SerializedError | JsonValue,
  onPredicateError: (e: unknown) => void,
): boolean {
  if (failedRuns >= policy.attempts) return false;
  const { retryOn } = policy;
  if (retryOn === undefined) return true;
  if (Array.isArray(retryOn)) return retryOn.includes(kind);
  try {
    return (retryOn as RetryPredicate)(structuredClone(error), attempt) === true;
  } catch (predicateError) {
    onPredicateError(predicateError);
    return false;
  }
}

/** Milliseconds before retry number `retry` (1 for the first retry). */
export function retryDelay(backoff: RetryBackoff | undefined, retry: number, random: () => number = Math.random): number {
  if (backoff === undefined) return 0;
  let delay = backoff.type === 'fixed' ? backoff.delay : backoff.delay * 2 ** Math.min(retry - 1, 64);
  delay = Math.min(delay, backoff.maxDelay ?? MAX_TIMER_MS, MAX_TIMER_MS);
  if (backoff.jitter !== undefined && backoff.jitter > 0) delay -= delay * backoff.jitter * random();
  return Math.round(delay);
}
