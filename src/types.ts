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
import type { DedupeOptions } from './dedupe-options.js';
import type { TaskRetention } from './retention-options.js';

export type { JsonValue } from './json-value.js';
export type { SerializedError } from './errors.js';

/** `new → running → done | failed | aborted`, and `new → aborted`. */
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
  /** This task's retention (overrides the tasker's `retention.maxAge`). */
  retention?: TaskRetention;
  /** The `dedupe.key` it was added with. */
  dedupeKey?: string;
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
  /** Removes the task this many ms after it ended (overrides the tasker's `retention.maxAge`). */
  retention?: TaskRetention;
  /** Refuses (or returns, or replaces) a duplicate of a new/running task: same `key`, or matching `query`. */
  dedupe?: DedupeOptions;
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
