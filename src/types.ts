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
import type { DedupeOptions } from './dedupe-options.js';
import type { TaskRetention } from './retention-options.js';

export type { JsonValue } from './json-value.js';
export type { SerializedError } from './errors.js';
export type { RetryBackoff, RetryOutcome, RetryPolicy, RetryPredicate, StoredRetryPolicy } from './retry.js';

/** `new → running → done | failed | aborted`, `new → aborted`, and `running → new` (retry, requeue, postpone). */
export type TaskStatus = 'new' | 'running' | 'done' | 'failed' | 'aborted';
/** The statuses a task ends in: it never leaves them. */
export type EndedTaskStatus = 'done' | 'failed' | 'aborted';

/** Log levels, most severe first. */
export type LogLevel = 'fatal' | 'error' | 'warning' | 'info' | 'debug';
/** The log levels, most severe first (the order `logsMaxLevel` filters by). */
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warning', 'info', 'debug'];

/** A log entry of a task, as stored and as `listenTaskLogs` yields it. */
export interface LogEntry {
  level: LogLevel;
  message: string;
  data?: JsonValue;
  timestamp: Date;
}

/**
 * A task's progress, as its runner last reported it with `ctx.progress()`:
 * `ratio` in [0, 1] always; `done` and `total` when it was given as
 * `{ done, total }` (then `ratio` is `done / total`); `at` when it was reported.
 */
export interface Progress {
  ratio: number;
  done?: number;
  total?: number;
  message?: string;
  at: Date;
}

/** What a runner passes to `ctx.progress()`: a ratio in [0, 1], or `{ done, total }` (`0 <= done <= total`, `total > 0`). */
export type ProgressValue = number | { done: number; total: number };

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

/**
 * A task as read back (`getTask`, `findTasks`). `Operation` narrows
 * `operation` for a typed tasker, where `TaskOf<Runners>` is a union of one
 * `Task` per operation, discriminated by `operation`.
 */
export interface Task<Data = JsonValue, Result = JsonValue, Operation extends string = string> {
  uuid: string;
  id?: JsonValue;
  operation: Operation;
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
  /** This task's retention (overrides the tasker's `retention.maxAge`). */
  retention?: TaskRetention;
  /** The `dedupe.key` it was added with. */
  dedupeKey?: string;
  /** Log entries not kept because the task reached `maxLogsPerTask`. */
  logsDropped?: number;
  /** The latest `ctx.progress()` of its current (or last) run; cleared when the task goes back to `new`. */
  progress?: Progress;
  /** Present only when asked for with `withLogs`. */
  logs?: LogEntry[];
}

/** What `addTask` accepts. A typed tasker narrows it to `TaskDefOf<Runners, Op>`. */
export interface AddTaskDef<Data = unknown, Operation extends string = string> {
  operation: Operation;
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
  /** Removes the task this many ms after it ended (overrides the tasker's `retention.maxAge`). */
  retention?: TaskRetention;
  /** Refuses (or returns, or replaces) a duplicate of a new/running task: same `key`, or matching `query`. */
  dedupe?: DedupeOptions;
}

/** The fields `updateTask(uuid, patch)` may change on a `new` task. */
export type TaskPatch<Data = unknown> = Partial<
  Pick<AddTaskDef<Data>, 'data' | 'id' | 'priority' | 'concurrency' | 'runTimeout' | 'abortGraceMs' | 'maxLogs' | 'retry' | 'queueTimeout' | 'onTaskerStop' | 'onInterrupted'>
>;

/** Options of `stop()`: what happens to the running tasks (see README → Stop policies). */
export interface StopOptions {
  /** What happens to running tasks without their own `onTaskerStop.running`. Default `'abort'`. */
  running?: 'abort' | 'wait' | 'requeue';
  /** With `'wait'`: milliseconds after which the tasks still running are aborted. Default: no limit. */
  timeout?: number;
}

/**
 * Mongo-style projection of the returned tasks: `{ status: 1, 'data.file': 1 }`
 * keeps only these fields (and `uuid` unless `uuid: 0`), `{ data: 0, result: 0 }`
 * keeps all but these; `true`/`false` count as `1`/`0`. Mixing `1` and `0` is
 * an error except for `uuid` and `logs`. Only the kept fields are copied.
 */
export type TaskProjection = Record<string, 0 | 1 | boolean>;

/** Options of `getTask`: logs and projection. */
export interface RetrieveOptions {
  withLogs?: boolean;
  /** The least severe level returned with `withLogs` (`'info'` returns fatal…info). Default `'debug'`: all. */
  logsMaxLevel?: LogLevel;
  /**
   * The fields to return (see `TaskProjection`); the others are absent from
   * the result, which is then typed `Partial<Task>`. `logs` still need
   * `withLogs: true`; a projection can leave them out (`logs: 0`) or narrow
   * them (`'logs.message': 1`).
   */
  projection?: TaskProjection;
}

/** Options of `findTask`: those of `getTask`, and a sort. */
export interface FindOptions extends RetrieveOptions {
  sort?: TaskSort;
}

/** Options of `findTasks`: those of `findTask`, and `limit`/`skip`. */
export interface FindManyOptions extends FindOptions {
  limit?: number;
  skip?: number;
}

/** Options of `listenTaskLogs`. */
export interface ListenLogsOptions {
  /** Yield the logs already stored before the live ones. */
  fromBeginning?: boolean;
  /** Ends the iteration when it fires. */
  abortSignal?: AbortSignal;
}

/** Options of `listenTaskProgress`. */
export interface ListenProgressOptions {
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
  /**
   * Reports progress: a ratio in [0, 1], or `{ done, total }`, and an optional
   * message. Throws a TypeError for an invalid value. Cheap in a hot loop:
   * only the latest value is sent, at most every 100 ms, and the last one
   * before the task ends.
   */
  progress(value: ProgressValue, message?: string): void;
  abortSignal: AbortSignal;
}

/** `ctx.logger` of a runner: one method per level, `(message, data?)`. */
export interface TaskLogger {
  fatal(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
  warning(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  debug(message: string, data?: unknown): void;
}

/** The signature of a runner module's export. */
export type Runner<Data = JsonValue, Result = unknown> = (ctx: RunnerContext<Data>) => Promise<Result> | Result;

// ---- the typed API ----------------------------------------------------------
//
// A tasker is typed by a map of its operations to their runners' types:
//
//   type Runners = { sum: Runner<[number, number], number>; resize: typeof import('./resize.js').default };
//   const tasker = new Tasker<Runners>();
//
// Every type below is erased at run time: a TaskId is a plain string.

/** Any runner function: the constraint on the values of a runner map. */
export type AnyRunner = (ctx: never) => unknown;

/**
 * The runner map of a `Tasker` without a type argument: any operation name,
 * any data in (checked at run time), JSON values out. A map with a string index
 * signature behaves the same way for names (any string) and ids (plain strings).
 */
export type UntypedRunners = Record<string, Runner<unknown, JsonValue>>;

/** The constraint on a runner map: every key names a runner. Interfaces and type literals both fit. */
export type RunnerMapOf<Runners> = { [Op in keyof Runners]: AnyRunner };

/** The data a runner reads as `ctx.data`. */
export type RunnerData<R> = R extends (ctx: RunnerContext<infer Data>) => unknown ? Data : never;

/** The result a runner resolves with, as stored: awaited, and `undefined` stored as `null`. */
export type RunnerResult<R> = R extends (ctx: never) => infer Returned ? StoredResult<Awaited<Returned>> : never;

type StoredResult<T> = T extends undefined | void ? null : T;

/**
 * `Runner<Data, Result>` of a runner function, or of a module whose default
 * export is one: `RunnerOf<typeof import('./sum.js')>`. For a named export,
 * pass the export: `RunnerOf<typeof import('./sum.js')['product']>`.
 */
export type RunnerOf<T> = T extends { default: infer F } ? RunnerOf<F> : T extends (ctx: never) => infer Returned ? Runner<RunnerData<T>, Awaited<Returned>> : never;

/** The operation names of a runner map (`string` for an untyped tasker). */
export type OperationOf<Runners> = keyof Runners & string;

/** True for a map with a string index signature (the untyped tasker): ids are then plain strings. */
type IsOpen<Runners> = string extends keyof Runners ? true : false;

/** A runner's data or result that says nothing (`unknown`, `any`) is a JSON value once stored. */
type Stored<T> = unknown extends T ? JsonValue : T;

declare const taskIdOperation: unique symbol;

/**
 * The uuid of a task of operation `Op`, as `addTask` of a typed tasker returns
 * it: a plain string at run time, branded so that `waitForTaskOutputData(id)`
 * and `getTask(id)` know the task's types. A plain string is not a `TaskId`;
 * cast one you know (`uuid as TaskId<'sum'>`), or pass it as it is and get the
 * union of the map's types.
 */
export type TaskId<Op extends string = string> = string & { readonly [taskIdOperation]: Op };

/** The operation of a `TaskId` type. */
export type OperationOfId<Id> = Id extends TaskId<infer Op> ? Op : never;

/** The operation of an id passed to a typed method: every operation for `never` (an id cast `as never`). */
export type OperationOfIdIn<Runners, Id> = [Id] extends [never] ? OperationOf<Runners> : OperationOfId<Id>;

/** What `addTask` returns for operation `Op`: a `TaskId<Op>`, or a plain string for an untyped tasker. */
export type TaskIdOf<Runners, Op extends string> = IsOpen<Runners> extends true ? string : TaskId<Op>;

/** The data of a task of operation `Op` (a union over a union of operations); absent data is no data. */
export type TaskDataOf<Runners, Op extends OperationOf<Runners> = OperationOf<Runners>> = Op extends unknown
  ? Stored<Exclude<RunnerData<Runners[Op]>, undefined | void>>
  : never;

/** The result of a done task of operation `Op` (a union over a union of operations). */
export type TaskResultOf<Runners, Op extends OperationOf<Runners> = OperationOf<Runners>> = Op extends unknown
  ? Stored<RunnerResult<Runners[Op]>>
  : never;

/** A task of operation `Op` as read back; over several operations, a union discriminated by `operation`. */
export type TaskOf<Runners, Op extends OperationOf<Runners> = OperationOf<Runners>> = Op extends unknown
  ? Task<TaskDataOf<Runners, Op>, TaskResultOf<Runners, Op>, Op>
  : never;

/**
 * What `addTask` accepts for operation `Op`: `data` as its runner reads it,
 * required unless the runner's data may be `undefined`.
 */
export type TaskDefOf<Runners, Op extends OperationOf<Runners>> = Op extends unknown
  ? AddTaskDef<RunnerData<Runners[Op]>, Op> & (undefined extends RunnerData<Runners[Op]> ? unknown : { data: RunnerData<Runners[Op]> })
  : never;

/** A console-compatible logger for the engine's own diagnostics. */
export interface EngineLogger {
  error(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
}
