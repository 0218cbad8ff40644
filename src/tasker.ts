/**
 * The public facade. It validates what callers pass at the boundary, turns
 * every failure into a rejected promise with a stable code, and delegates to
 * the engine. Listener errors are caught here so that no listener can break
 * a transition.
 *
 * Promise coherence: every method that returns a promise is an `async`
 * function, so that a failure (validation included) is a rejection, never a
 * synchronous throw. The exceptions are `assignRunner`, synchronous by design
 * (it throws), the constructor, and `listenTaskLogs` and `listenTaskProgress`,
 * which report their errors through the iterator.
 *
 * Typing: `Tasker<Runners>` is typed by a map of operation names to runner
 * types (see the typed API in types.ts). The types are erased at run time.
 */
import { EventEmitter } from 'node:events';
import { Engine } from './engine.js';
import { AsyncStream } from './async-stream.js';
import { LogStream } from './log-stream.js';
import { ErrorCodes, TaskerError } from './errors.js';
import { isTaskEventName, type TaskerEvents } from './events.js';
import { resolveOptions, type ResolvedOptions, type TaskerOptions } from './options.js';
import { compileProjection } from './projection.js';
import { compileQuery, validateCount, validateSort } from './query.js';
import { toPublicTask, type OutputOptions } from './registry.js';
import type { RunnerOptions } from './runner-spec.js';
import type { TaskerStats } from './stats.js';
import { priority as validatePriority, validateTaskDef, validateTaskPatch } from './task-definition.js';
import { validateStopOptions } from './stop-options.js';
import {
  LOG_LEVELS,
  type AddTaskDef,
  type FindManyOptions,
  type FindOptions,
  type JsonValue,
  type ListenLogsOptions,
  type ListenProgressOptions,
  type LogEntry,
  type Progress,
  type OperationOf,
  type OperationOfIdIn,
  type RetrieveOptions,
  type RunnerMapOf,
  type RunnerSpec,
  type StopOptions,
  type Task,
  type TaskPatch,
  type TaskDataOf,
  type TaskDefOf,
  type TaskId,
  type TaskIdOf,
  type TaskOf,
  type TaskQuery,
  type TaskResultOf,
  type UntypedRunners,
} from './types.js';

/**
 * A persisted task queue whose runners run in worker threads.
 *
 * `Runners` maps operation names to runner types
 * (`{ sum: Runner<[number, number], number> }`); without it, any operation
 * name and any data are accepted, as at run time.
 */
export class Tasker<Runners extends RunnerMapOf<Runners> = UntypedRunners> extends EventEmitter<TaskerEvents> {
  readonly #options: ResolvedOptions;
  readonly #engine: Engine;
  /**
   * Set once a per-task event (`task.<uuid>.done`) has had a listener: until
   * then the engine does not build those names (several strings per task).
   */
  #taskListeners = false;
  readonly #watchTaskListeners = (name: string | symbol): void => {
    if (isTaskEventName(name)) this.#taskListeners = true;
  };

  constructor(options: TaskerOptions = {}) {
    super();
    this.#options = resolveOptions(options);
    (this as EventEmitter).on('newListener', this.#watchTaskListeners);
    this.#engine = new Engine(this.#options, (name, ...args) => this.#safeEmit(name, args), () => this.#taskListeners);
  }

  /** Keeps the watch on per-task listeners (see #taskListeners), which removing every listener would remove. */
  override removeAllListeners(...args: Parameters<EventEmitter<TaskerEvents>['removeAllListeners']>): this {
    // As EventEmitter's: no argument removes every listener; an explicit `undefined` names one event.
    super.removeAllListeners(...args);
    if (args.length === 0 || (args[0] as unknown) === 'newListener') (this as EventEmitter).on('newListener', this.#watchTaskListeners);
    return this;
  }

  /**
   * Binds `operation` to a runner module. Synchronous: it throws (a
   * `TaskerError`) if one is already assigned, for a bad runner, or once the
   * tasker is closed. Schedules its waiting tasks. `options.resourceLimits`
   * gives its threads their own memory limits.
   */
  assignRunner(operation: OperationOf<Runners>, runner: RunnerSpec, options?: RunnerOptions): void {
    this.#engine.assignRunner(operation, runner, options);
  }

  /** Begins dispatching. An abort of `abortSignal` stops the tasker. */
  async start(abortSignal?: AbortSignal): Promise<void> {
    if (abortSignal !== undefined && !(abortSignal instanceof AbortSignal)) {
      throw new TaskerError(ErrorCodes.INVALID_OPTION, 'start(abortSignal): abortSignal must be an AbortSignal');
    }
    await this.#engine.start(abortSignal);
  }

  /**
   * Stops dispatching, deals with running tasks (by default aborts them; see
   * `options.running` and each task's `onTaskerStop`) and waits for them,
   * flushes the store, closes the threads.
   */
  async stop(options?: StopOptions): Promise<void> {
    await this.#engine.stop(validateStopOptions(options));
  }

  /**
   * Stops, compacts the store and releases it (its files and its lock): a new
   * Tasker may then open the same `persistDir`. Every later call rejects with
   * `ERR_TASKER_CLOSED`. Safe to call twice, and on a tasker never started.
   */
  async close(): Promise<void> {
    return this.#engine.close();
  }

  /** Resolves when nothing is running and nothing runnable is queued (or the tasker is stopped). */
  async onIdle(): Promise<void> {
    return this.#engine.onIdle();
  }

  /**
   * Stores a new task; resolves to its uuid once it is stored. A typed tasker
   * checks `data` against the runner of `operation` and resolves to a
   * `TaskId<Op>`.
   */
  async addTask<Op extends OperationOf<Runners>>(def: TaskDefOf<Runners, Op>): Promise<TaskIdOf<Runners, Op>> {
    const valid = validateTaskDef(def);
    return (await this.#engine.addTask(valid, def as AddTaskDef)) as TaskIdOf<Runners, Op>;
  }

  /** Aborts a new or running task and resolves once it has ended. Does nothing to an ended task. */
  async abortTask(uuid: string, reason?: string): Promise<void> {
    if (reason !== undefined && typeof reason !== 'string') {
      throw new TaskerError(ErrorCodes.INVALID_OPTION, 'abortTask(uuid, reason): reason must be a string');
    }
    await this.#engine.abortTask(uuid, reason);
  }

  /**
   * Removes an ended task and its logs, from memory and from the store.
   * Rejects with `ERR_TASK_STATE` for a task that has not ended (abort it
   * first) and `ERR_TASK_NOT_FOUND` for an unknown uuid.
   */
  async removeTask(uuid: string): Promise<void> {
    const record = await this.#engine.getRecord(uuid);
    await this.#engine.removeTasks([record]);
  }

  /**
   * Removes every task matching `query`, which must select ended tasks only
   * (e.g. `{ status: 'done', endedAt: { $lt: cutoff } }`); resolves to how many
   * were removed. If any match has not ended, nothing is removed and it rejects
   * with `ERR_TASK_STATE`.
   */
  async removeTasks(query: TaskQuery): Promise<number> {
    const test = compileQuery(query);
    await this.#engine.ready();
    return this.#engine.removeTasks(this.#engine.registry.filter(test));
  }

  /**
   * Changes fields of a `new` task at once (`data`, `priority`, `concurrency`,
   * `runTimeout`, `retry`, `queueTimeout`, …). Rejects with `ERR_TASK_STATE`
   * once the task has started, `ERR_INVALID_TASK` for a malformed patch.
   */
  // One signature, not overloads: a TaskId's patch must fit its own operation, not fall back to any operation's.
  async updateTask<Id extends string>(uuid: Id, patch: TaskPatch<TaskDataOf<Runners, PatchOperation<Runners, Id>>>): Promise<void> {
    const valid = validateTaskPatch(patch);
    await this.#engine.updateTask(uuid, valid);
  }

  /**
   * Puts a task behind the others of its priority. A running task is aborted
   * (its signal's reason has code `ERR_TASK_POSTPONED`) and goes back to
   * `new`, same uuid. Resolves once that is stored.
   */
  async postponeTask(uuid: string): Promise<void> {
    await this.#engine.postponeTask(uuid);
  }

  /** Changes the priority of a `new` task; the queue is re-sorted at once. */
  async prioritizeTask(uuid: string, priority: number): Promise<void> {
    let value: number;
    try {
      if (priority === undefined) throw new Error('prioritizeTask(uuid, priority): priority is required');
      value = validatePriority(priority);
    } catch (error) {
      throw new TaskerError(ErrorCodes.INVALID_OPTION, (error as Error).message);
    }
    await this.#engine.prioritizeTask(uuid, value);
  }

  /**
   * A copy of the task (rejects with `ERR_TASK_NOT_FOUND`). Typed by a
   * `TaskId`, by the type arguments, or else the union of the runner map's
   * tasks. With `projection`, only the projected fields are copied and
   * present, hence the `Partial` type.
   */
  getTask<Id extends TaskId<OperationOf<Runners>>>(uuid: Id, options?: RetrieveOptions & NoProjection): Promise<TaskOf<Runners, OperationOfIdIn<Runners, Id>>>;
  getTask(uuid: string, options?: RetrieveOptions & NoProjection): Promise<TaskOf<Runners>>;
  getTask<Data, Result = JsonValue>(uuid: string, options?: RetrieveOptions & NoProjection): Promise<Task<Data, Result>>;
  getTask<Id extends TaskId<OperationOf<Runners>>>(uuid: Id, options: RetrieveOptions): Promise<Partial<TaskOf<Runners, OperationOfIdIn<Runners, Id>>>>;
  getTask(uuid: string, options: RetrieveOptions): Promise<Partial<TaskOf<Runners>>>;
  getTask<Data, Result = JsonValue>(uuid: string, options: RetrieveOptions): Promise<Partial<Task<Data, Result>>>;
  async getTask(uuid: string, options: RetrieveOptions = {}): Promise<Partial<Task<unknown, unknown>>> {
    checkOptions(options, RETRIEVE_OPTIONS);
    const output = outputOptions(options);
    const record = await this.#engine.getRecord(uuid);
    return toPublicTask(record, output) as Task<unknown, unknown>;
  }

  /** Whether any task matches `query`. */
  async hasTask(query: TaskQuery): Promise<boolean> {
    const test = compileQuery(query);
    await this.#engine.ready();
    return this.#engine.registry.some(test);
  }

  /** How many tasks match `query` (all of them by default). */
  async countTasks(query: TaskQuery = {}): Promise<number> {
    const test = compileQuery(query);
    await this.#engine.ready();
    return this.#engine.registry.count(test);
  }

  /** The first task `findTasks` would return, or `undefined`. */
  findTask(query: TaskQuery, options?: FindOptions & NoProjection): Promise<TaskOf<Runners> | undefined>;
  findTask<Data, Result = JsonValue>(query: TaskQuery, options?: FindOptions & NoProjection): Promise<Task<Data, Result> | undefined>;
  findTask(query: TaskQuery, options: FindOptions): Promise<Partial<TaskOf<Runners>> | undefined>;
  findTask<Data, Result = JsonValue>(query: TaskQuery, options: FindOptions): Promise<Partial<Task<Data, Result>> | undefined>;
  async findTask(query: TaskQuery, options: FindOptions = {}): Promise<Partial<Task<unknown, unknown>> | undefined> {
    checkOptions(options, FIND_ONE_OPTIONS);
    const [task] = await this.findTasks<unknown, unknown>(query, { ...options, limit: 1 });
    return task;
  }

  /**
   * Copies of the matching tasks, in run order (or `sort`), after `skip`, at
   * most `limit`. Queries and sorts see whole documents; `projection` then
   * decides what is copied and present, hence the `Partial` type with it.
   */
  findTasks(query?: TaskQuery, options?: FindManyOptions & NoProjection): Promise<TaskOf<Runners>[]>;
  findTasks<Data, Result = JsonValue>(query?: TaskQuery, options?: FindManyOptions & NoProjection): Promise<Task<Data, Result>[]>;
  findTasks(query: TaskQuery, options: FindManyOptions): Promise<Partial<TaskOf<Runners>>[]>;
  findTasks<Data, Result = JsonValue>(query: TaskQuery, options: FindManyOptions): Promise<Partial<Task<Data, Result>>[]>;
  async findTasks(query: TaskQuery = {}, options: FindManyOptions = {}): Promise<Partial<Task<unknown, unknown>>[]> {
    const test = compileQuery(query);
    checkOptions(options, FIND_OPTIONS);
    const sort = options.sort === undefined ? undefined : validateSort(options.sort);
    const skip = options.skip === undefined ? 0 : validateCount(options.skip, 'skip');
    const limit = options.limit === undefined ? Infinity : validateCount(options.limit, 'limit');
    const output = outputOptions(options);
    await this.#engine.ready();
    return this.#engine.registry.find(test, sort, skip, limit).map((record) => toPublicTask(record, output) as Task<unknown, unknown>);
  }

  /**
   * Counts of the tasks by status and, for waiting and running ones, by
   * operation (kept up to date at each change: cheap to call often), and
   * histograms of the wait and run times of the runs started since this
   * tasker was created. Async like every method: it awaits the store's load.
   */
  async getStats(): Promise<TaskerStats> {
    await this.#engine.ready();
    return this.#engine.stats.snapshot();
  }

  /**
   * Resolves with the task's result once it is `done`. Rejects with
   * `ERR_TASK_FAILED` or `ERR_TASK_ABORTED` (the stored error or reason as
   * `cause`), or `ERR_TASK_NOT_FOUND`. Typed by a `TaskId`, by the type
   * argument, or else the union of the runner map's results.
   */
  waitForTaskOutputData<Id extends TaskId<OperationOf<Runners>>>(uuid: Id): Promise<TaskResultOf<Runners, OperationOfIdIn<Runners, Id>>>;
  waitForTaskOutputData<Result = TaskResultOf<Runners>>(uuid: string): Promise<Result>;
  async waitForTaskOutputData(uuid: string): Promise<unknown> {
    return this.#engine.waitForTaskOutputData(uuid);
  }

  /**
   * The task's log entries as an async iterable: the stored ones first with
   * `fromBeginning`, then live ones until the task ends or the signal fires.
   */
  listenTaskLogs(uuid: string, options: ListenLogsOptions = {}): AsyncIterableIterator<LogEntry> {
    try {
      checkOptions(options, LISTEN_OPTIONS);
      const { fromBeginning, abortSignal } = options;
      if (fromBeginning !== undefined && typeof fromBeginning !== 'boolean') throw invalidQuery('fromBeginning must be a boolean');
      if (abortSignal !== undefined && !(abortSignal instanceof AbortSignal)) throw invalidQuery('abortSignal must be an AbortSignal');
    } catch (error) {
      // Reported through the iterator, like every other failure of this method.
      const failed = new LogStream();
      failed.fail(error);
      return failed;
    }
    return this.#engine.listenTaskLogs(uuid, options);
  }

  /**
   * The task's progress as an async iterable: the current one first (if any),
   * then each update, until the task ends or the signal fires. A slow
   * consumer skips to the latest value.
   */
  listenTaskProgress(uuid: string, options: ListenProgressOptions = {}): AsyncIterableIterator<Progress> {
    try {
      checkOptions(options, LISTEN_PROGRESS_OPTIONS);
      if (options.abortSignal !== undefined && !(options.abortSignal instanceof AbortSignal)) throw invalidQuery('abortSignal must be an AbortSignal');
    } catch (error) {
      // Reported through the iterator, like every other failure of this method.
      const failed = new AsyncStream<Progress>();
      failed.fail(error);
      return failed;
    }
    return this.#engine.listenTaskProgress(uuid, options);
  }

  #reportListenerError(name: keyof TaskerEvents, error: unknown): void {
    this.#options.logger?.error(`tasker: a listener of '${String(name)}' threw`, error);
  }

  /** Emits to every listener, each isolated: a throwing listener is reported, never propagated. */
  #safeEmit(name: keyof TaskerEvents, args: unknown[]): void {
    if (this.listenerCount(name) === 0) return;
    for (const listener of this.rawListeners(name)) {
      try {
        const returned: unknown = Reflect.apply(listener as (...a: unknown[]) => unknown, this, args);
        // An async listener that rejects is reported too, never left as an unhandled rejection.
        if (typeof (returned as Promise<unknown> | undefined)?.then === 'function') {
          (returned as Promise<unknown>).then(undefined, (error: unknown) => this.#reportListenerError(name, error));
        }
      } catch (error) {
        this.#reportListenerError(name, error);
      }
    }
  }
}

/** Read options without a projection: the overloads that return whole tasks take these. */
type NoProjection = { projection?: never };

const RETRIEVE_OPTIONS = new Set(['withLogs', 'logsMaxLevel', 'projection']);
const FIND_ONE_OPTIONS = new Set([...RETRIEVE_OPTIONS, 'sort']);
const FIND_OPTIONS = new Set([...FIND_ONE_OPTIONS, 'limit', 'skip']);
const LISTEN_OPTIONS = new Set(['fromBeginning', 'abortSignal']);
const LISTEN_PROGRESS_OPTIONS = new Set(['abortSignal']);

/** The operation whose data a patch must fit: a TaskId's own, or any of the map's for a plain string. */
type PatchOperation<Runners, Id> = Id extends TaskId<infer Op> ? Extract<Op, OperationOf<Runners>> : OperationOf<Runners>;

function invalidQuery(message: string): TaskerError {
  return new TaskerError(ErrorCodes.INVALID_QUERY, message);
}

/** Read options must be an object of known keys: a typo is an error, not a silent default. */
function checkOptions(options: unknown, known: ReadonlySet<string>): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidQuery('options must be an object');
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw invalidQuery(`${key} is not an option here; expected one of ${[...known].join(', ')}`);
  }
}

function outputOptions(options: RetrieveOptions): OutputOptions {
  const { withLogs, logsMaxLevel } = options;
  if (withLogs !== undefined && typeof withLogs !== 'boolean') throw new TaskerError(ErrorCodes.INVALID_QUERY, 'withLogs must be a boolean');
  if (logsMaxLevel !== undefined && !LOG_LEVELS.includes(logsMaxLevel)) {
    throw new TaskerError(ErrorCodes.INVALID_QUERY, `logsMaxLevel must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const out: OutputOptions = {};
  if (withLogs !== undefined) out.withLogs = withLogs;
  if (logsMaxLevel !== undefined) out.logsMaxLevel = logsMaxLevel;
  if (options.projection !== undefined) out.projection = compileProjection(options.projection, { withLogs: withLogs === true });
  return out;
}
