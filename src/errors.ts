/**
 * Every error Tasker raises carries a stable `code`: branch on the code, never
 * on the message. The README's "Errors" table lists every code.
 */

import { describeValue } from './describe.js';

/** All error codes raised by Tasker itself (runner errors keep their own). */
export const ErrorCodes = {
  /** An option passed to `new Tasker()` or a method is malformed. */
  INVALID_OPTION: 'ERR_INVALID_OPTION',
  /** A task definition given to `addTask` is malformed. */
  INVALID_TASK: 'ERR_INVALID_TASK',
  /** A query, sort, limit or skip is malformed or would execute code. */
  INVALID_QUERY: 'ERR_INVALID_QUERY',
  /** A runner given to `assignRunner` is malformed. */
  INVALID_RUNNER: 'ERR_INVALID_RUNNER',
  /** `assignRunner` was called twice for one operation. */
  RUNNER_ALREADY_ASSIGNED: 'ERR_RUNNER_ALREADY_ASSIGNED',
  /** No task has this uuid. */
  TASK_NOT_FOUND: 'ERR_TASK_NOT_FOUND',
  /** The task's status does not allow the operation (e.g. prioritizing a running task). */
  TASK_STATE: 'ERR_TASK_STATE',
  /** `waitForTaskOutputData`: the task ended `failed`; `cause` is the stored error. */
  TASK_FAILED: 'ERR_TASK_FAILED',
  /** `waitForTaskOutputData`: the task ended `aborted`; `cause` is the abort reason. */
  TASK_ABORTED: 'ERR_TASK_ABORTED',
  /** A concurrency condition could not be evaluated; the task failed with this code. */
  CONDITION_FAILED: 'ERR_CONDITION_FAILED',
  /** The runner module could not be imported, or has no such export. */
  RUNNER_LOAD_FAILED: 'ERR_RUNNER_LOAD_FAILED',
  /** The runner resolved with a value that is not JSON-compatible. */
  RESULT_NOT_SERIALIZABLE: 'ERR_RESULT_NOT_SERIALIZABLE',
  /** The worker thread exited (e.g. `process.exit()`) while running the task. */
  WORKER_EXITED: 'ERR_WORKER_EXITED',
  /** The worker thread crashed (uncaught exception, unhandled rejection). */
  WORKER_CRASHED: 'ERR_WORKER_CRASHED',
  /** The worker thread ran out of memory. */
  WORKER_OUT_OF_MEMORY: 'ERR_WORKER_OUT_OF_MEMORY',
  /** The store could not be read because a file is not valid. */
  STORE_CORRUPT: 'ERR_STORE_CORRUPT',
  /** The store could not be opened (the directory or file cannot be read or created); `cause` says why. */
  STORE_OPEN_FAILED: 'ERR_STORE_OPEN_FAILED',
  /** The tasker was closed (`close()`); it accepts no more calls. */
  TASKER_CLOSED: 'ERR_TASKER_CLOSED',
  /** Another Tasker (in this or another process) has the store open. */
  STORE_LOCKED: 'ERR_STORE_LOCKED',
  /** The store could not write a change. */
  STORE_WRITE_FAILED: 'ERR_STORE_WRITE_FAILED',
  /** `addTask` with `dedupe` (mode 'reject') found a duplicate; `existingUuid` names it. */
  DUPLICATE_TASK: 'ERR_DUPLICATE_TASK',
  /** `addTask` for an operation with no runner assigned, with `onMissingRunner: 'reject'` (the default). */
  RUNNER_NOT_ASSIGNED: 'ERR_RUNNER_NOT_ASSIGNED',
} as const;

/** Codes carried by the `AbortError` stored as a task's `abortReason`. */
export const AbortCodes = {
  /** `abortTask(uuid, reason)` was called. */
  REQUESTED: 'ERR_TASK_ABORT_REQUESTED',
  /** The task's `runTimeout` elapsed. */
  RUN_TIMEOUT: 'ERR_TASK_RUN_TIMEOUT',
  /** The `abortSignal` given to `addTask` fired. */
  SIGNAL: 'ERR_TASK_SIGNAL_ABORTED',
  /** `stop()` (or the `start()` signal) stopped the tasker while the task ran. */
  TASKER_STOPPED: 'ERR_TASKER_STOPPED',
  /** The task was `running` when the process died; found on restart. */
  INTERRUPTED: 'ERR_TASK_INTERRUPTED',
  /** The task stayed `new` longer than its `queueTimeout`. */
  QUEUE_TIMEOUT: 'ERR_TASK_QUEUE_TIMEOUT',
  /** `postponeTask(uuid)` put the running task back to `new` (what its runner's signal says). */
  POSTPONED: 'ERR_TASK_POSTPONED',
  /** A newer task with `dedupe: { mode: 'replace' }` replaced it. */
  REPLACED: 'ERR_TASK_REPLACED',
} as const;

/** One of the stable codes of `ErrorCodes`, carried by every `TaskerError`. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
/** One of the codes of `AbortCodes`: why a task was aborted (its `abortReason.code`). */
export type AbortCode = (typeof AbortCodes)[keyof typeof AbortCodes];

/** Base class of every error Tasker throws or rejects with. */
export class TaskerError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TaskerError';
    this.code = code;
  }
}

/** `waitForTaskOutputData` rejects with this when the task ended `failed`. */
export class TaskFailedError extends TaskerError {
  readonly uuid: string;
  constructor(uuid: string, cause: unknown) {
    super(ErrorCodes.TASK_FAILED, `Task ${uuid} failed: ${describe(cause)}`, { cause });
    this.name = 'TaskFailedError';
    this.uuid = uuid;
  }
}

/** `waitForTaskOutputData` rejects with this when the task ended `aborted`. */
export class TaskAbortedError extends TaskerError {
  readonly uuid: string;
  constructor(uuid: string, cause: unknown) {
    super(ErrorCodes.TASK_ABORTED, `Task ${uuid} was aborted: ${describe(cause)}`, { cause });
    this.name = 'TaskAbortedError';
    this.uuid = uuid;
  }
}

/** `addTask` with `dedupe` in mode 'reject' found a duplicate in scope. */
export class DuplicateTaskError extends TaskerError {
  /** The uuid of the task found (a new or running one first, else the latest ended). */
  readonly existingUuid: string;
  constructor(existingUuid: string, message: string) {
    super(ErrorCodes.DUPLICATE_TASK, message);
    this.name = 'DuplicateTaskError';
    this.existingUuid = existingUuid;
  }
}

/** The reason of every abort: `name` is `'AbortError'`, `code` says why. */
export class AbortError extends Error {
  readonly code: AbortCode;
  constructor(code: AbortCode, message: string) {
    super(message);
    this.name = 'AbortError';
    this.code = code;
  }
}

/** An error in its stored, JSON form: `name`, `message`, `stack`, `code` and other own properties. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  [key: string]: unknown;
}

export function isSerializedError(value: unknown): value is SerializedError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

const ABORT_CODES = new Set<string>(Object.values(AbortCodes));

/**
 * Rebuilds an `Error` from its stored form so that callers get a real `Error`
 * as `cause` (an `AbortError` for a stored abort reason). A stored non-Error
 * value is returned as it is.
 */
export function deserializeError(value: unknown): unknown {
  if (!isSerializedError(value)) return value;
  const error =
    value.name === 'AbortError' && typeof value.code === 'string' && ABORT_CODES.has(value.code)
      ? new AbortError(value.code as AbortCode, value.message)
      : new Error(value.message);
  for (const [key, field] of Object.entries(value)) {
    if (key === 'message' || (key === 'code' && error instanceof AbortError)) continue;
    Object.defineProperty(error, key, { value: field, writable: true, configurable: true, enumerable: key !== 'stack' });
  }
  return error;
}

function describe(cause: unknown): string {
  if (isSerializedError(cause)) return cause.message;
  if (cause instanceof Error) return cause.message;
  try {
    return JSON.stringify(cause) ?? describeValue(cause);
  } catch {
    return describeValue(cause);
  }
}
