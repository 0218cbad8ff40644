/**
 * Public types of Tasker.
 *
 * Terms:
 * - task: a persisted, JSON-compatible unit of work for one `operation`.
 * - operation: a name; `assignRunner(operation, runner)` binds it to a runner module.
 * - runner: a module whose export `async (ctx) => result` runs in a worker thread.
 * - queue: the `new` tasks whose operation has a runner, in run order
 *   (highest `priority` first, FIFO among equal priorities).
 */
import type { SerializedError } from './errors.js';
import type { JsonValue } from './json-value.js';
import type { StoredRetryPolicy } from './retry.js';

export type { JsonValue } from './json-value.js';
export type { SerializedError } from './errors.js';
export type { RetryBackoff, RetryOutcome, RetryPolicy, RetryPredicate, StoredRetryPolicy } from './retry.js';

/** `new → running → done | failed | aborted`, `new → aborted`, and `running → new` (retry, requeue, postpone). */
export type TaskStatus = 'new' | 'running' | 'done' | 'failed' | 'aborted';
export type EndedTaskStatus = 'done' | 'failed' | 'aborted';

/** Log levels, most severe first. */
export type LogLevel = 'fatal' | 'error' | 'warning' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warning', 'info', 'debug'];

export interface LogEntry {
  level: LogLevel;
  message: string;
  data?: JsonValue;
  timestamp: Date;
}

/**
 * A Mongo-style query (sift) on the task document. Dot paths reach into
 * `data` and `id` (`{ 'data.book': 'b1' }`). `$where` is refused.
 */
export type TaskQuery = Record<string, unknown>;

/** Mongo-style sort: `{ priority: -1, createdAt: 1 }`. */
export type TaskSort = Record<string, 1 | -1>;

/**
 * A condition a task must meet to start.
 * - `running`: start only while fewer than `limit` *running* tasks match `query`.
 * - `before-queued`: start only while fewer than `limit` tasks *ahead of it in
 *   the queue* that match `query` are waiting (they could not start).
 */
export interface ConcurrencyCondition {
  scope: 'running' | 'before-queued';
  query: TaskQuery;
  limit: number;
}

/**
 * What a stop does to a task: for a running one, abort it (`'abort'`), let it
 * finish (`'wait'`) or abort it and put it back to `new` to run after the next
 * start (`'requeue'`); for a queued (`new`) one, keep it (`'keep'`) or abort it.
 */
export interface StopPolicy {
  running?: 'abort' | 'wait' | 'requeue';
  queued?: 'keep' | 'abort';
}

/** What happens, at the next start-up, to a task that was running when its process died. */
export type InterruptedPolicy = 'abort' | 'requeue';

/** One run of a task that ran more than once (see `Task.attempts`). */
export interface Attempt {
  /** 1 for the first run. */
  attempt: number;
  startedAt: Date;
  endedAt: Date;
  /**
   * `failed`, `aborted` (a timeout, say), `done`; `interrupted` (the process
   * died while it ran); `requeued` (a stop or `postponeTask` put it back).
   */
  outcome: 'done' | 'failed' | 'aborted' | 'interrupted' | 'requeued';
  /** The error (failed) or abort reason (aborted, requeued) of that run. */
  error?: SerializedError | JsonValue;
}

export interface Task<Data = JsonValue, Result = JsonValue> {
  uuid: string;
  id?: JsonValue;
  operation: string;
  data?: Data;
  priority: number;
  status: TaskStatus;
  createdAt: Date;
  startedAt?: Date;
  endedAt?: Date;
  /** The runner's result (`done`). A runner returning `undefined` stores `null`. */
  result?: Result;
  /** The error thrown by the runner or the engine (`failed`). */
  error?: SerializedError | JsonValue;
  /** The `AbortError` explaining the abort (`aborted`). */
  abortReason?: SerializedError;
  /** `true` when the worker thread had to be terminated after `abortGraceMs`. */
  terminated?: boolean;
  runTimeout?: number;
  abortGraceMs?: number;
  maxLogs?: number;
  concurrency?: ConcurrencyCondition[];
  retry?: StoredRetryPolicy;
  /** Milliseconds a task may stay `new` (from `queuedAt`, else `createdAt`) before it is aborted. */
  queueTimeout?: number;
  onTaskerStop?: StopPolicy;
  onInterrupted?: InterruptedPolicy;
  /** Every run, once a task has run more than once (a retry, a requeue); absent otherwise. */
  attempts?: Attempt[];
  /** A `new` task waiting for a retry does not start before this time. */
  runAfter?: Date;
  /** When a task went back to the queue (retry, requeue, postpone); its place among equal priorities. */
  queuedAt?: Date;
  /** Log entries not kept because the task reached `maxLogsPerTask`. */
  logsDropped?: number;
  /** Present only when asked for with `withLogs`. */
  logs?: LogEntry[];
}

export interface AddTaskDef<Data = unknown> {
  operation: string;
  data?: Data;
  id?: unknown;
  /** Higher runs first; `-Infinity` and `Infinity` allowed. Default 0. */
  priority?: number;
  concurrency?: ConcurrencyCondition[];
  /** Milliseconds from the start of the run after which the task is aborted. */
  runTimeout?: number;
  /** Overrides the tasker's `abortGraceMs` for this task. */
  abortGraceMs?: number;
  /** Overrides the tasker's `maxLogsPerTask` for this task. */
  maxLogs?: number;
  /** Aborts the task when it fires (while new or running). */
  abortSignal?: AbortSignal;
  /** Runs it again after a failure (same task, same uuid). `retryOn` is a list of outcomes here. */
  retry?: StoredRetryPolicy;
  /** Aborts the task (`ERR_TASK_QUEUE_TIMEOUT`) if it is still `new` after this many ms. */
  queueTimeout?: number;
  /** What `stop()` does to this task; overrides `stop()`'s options. */
  onTaskerStop?: StopPolicy;
  /** Overrides the tasker's `onInterrupted` for this task. */
  onInterrupted?: InterruptedPolicy;
}

/** The fields `updateTask(uuid, patch)` may change on a `new` task. */
export type TaskPatch<Data = unknown> = Partial<
  Pick<AddTaskDef<Data>, 'data' | 'id' | 'priority' | 'concurrency' | 'runTimeout' | 'abortGraceMs' | 'maxLogs' | 'retry' | 'queueTimeout' | 'onTaskerStop' | 'onInterrupted'>
>;

export interface StopOptions {
  /** What happens to running tasks without their own `onTaskerStop.running`. Default `'abort'`. */
  running?: 'abort' | 'wait' | 'requeue';
  /** With `'wait'`: milliseconds after which the tasks still running are aborted. Default: no limit. */
  timeout?: number;
}

export interface RetrieveOptions {
  withLogs?: boolean;
  /** The least severe level returned with `withLogs` (`'info'` returns fatal…info). Default `'debug'`: all. */
  logsMaxLevel?: LogLevel;
}

export interface FindOptions extends RetrieveOptions {
  sort?: TaskSort;
}

export interface FindManyOptions extends FindOptions {
  limit?: number;
  skip?: number;
}

export interface ListenLogsOptions {
  /** Yield the logs already stored before the live ones. */
  fromBeginning?: boolean;
  /** Ends the iteration when it fires. */
  abortSignal?: AbortSignal;
}

/** A runner module: a path, a `file:` URL string or a `URL`, optionally with a named export. */
export type RunnerSpec = string | URL | { module: string | URL; export?: string };

/** What a runner receives. */
export interface RunnerContext<Data = JsonValue> {
  uuid: string;
  id: JsonValue | undefined;
  operation: string;
  data: Data;
  priority: number;
  createdAt: Date;
  startedAt: Date;
  /** 1 for the first run, 2 for the first retry, … */
  attempt: number;
  logger: TaskLogger;
  abortSignal: AbortSignal;
}

export interface TaskLogger {
  fatal(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
  warning(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  debug(message: string, data?: unknown): void;
}

/** The signature of a runner module's export. */
export type Runner<Data = JsonValue, Result = unknown> = (ctx: RunnerContext<Data>) => Promise<Result> | Result;

/** A console-compatible logger for the engine's own diagnostics. */
export interface EngineLogger {
  error(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
}
