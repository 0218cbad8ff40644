/**
 * The engine behind the `Tasker` facade: applies transitions through the
 * state machine, persists them through the committer, dispatches queued tasks
 * to the runner pool when a thread is free, and runs the abort ladder.
 *
 * Invariants:
 * - A task's status changes only in `#transition`, only from the status the
 *   caller expected (see state-machine.ts).
 * - A transition's events are emitted after its change is stored, in order.
 * - Nothing per task (timers, signal listeners, waiters, log streams) outlives
 *   the task's end.
 */
import { Deduper } from './dedupe.js';
import { describeError, describeValue } from './describe.js';
import { newTaskUuid } from './task-ids.js';
import {
  AbortCodes,
  AbortError,
  ErrorCodes,
  TaskAbortedError,
  TaskFailedError,
  TaskerError,
  deserializeError,
  type AbortCode,
  type SerializedError,
} from './errors.js';
import type { TaskEventKind, TaskerEvents } from './events.js';
import { AsyncStream, TaskStreams } from './async-stream.js';
import { LogStream } from './log-stream.js';
import { reportMissingRunners } from './missing-runners.js';
import type { ResolvedOptions } from './options.js';
import { RunnerPool, type RunHandle, type RunOutcome } from './pool/runner-pool.js';
import { copyProgress, ProgressTracker } from './progress.js';
import { serializeError, type WireLogEntry, type WireProgress } from './protocol.js';
import { Registry, type TaskRecord } from './registry.js';
import { Retention } from './retention.js';
import { profileKey, type ResourceLimits } from './resource-limits.js';
import { outcomeKind, retryDelay, shouldRetry, type RetryPolicy } from './retry.js';
import { resolveRunner, type ResolvedRunner, type RunnerOptions } from './runner-spec.js';
import { Scheduler } from './scheduler/scheduler.js';
import { Stats } from './stats.js';
import { canTransition, isEnded } from './state-machine.js';
import { Committer } from './store/committer.js';
import { JournalStore } from './store/journal-store.js';
import { MemoryStore } from './store/memory-store.js';
import type { StoredTask, TaskDoc, TaskStore } from './store/task-store.js';
import type { ValidTaskDef, ValidTaskPatch } from './task-definition.js';
import type { TaskObserver } from './task-observer.js';
import { TimerQueue } from './timer-queue.js';
import type {
  AddTaskDef,
  Attempt,
  ConcurrencyCondition,
  EndedTaskStatus,
  JsonValue,
  ListenLogsOptions,
  ListenProgressOptions,
  LogEntry,
  Progress,
  RunnerSpec,
  StopOptions,
  TaskStatus,
} from './types.js';

export type Emit = <K extends keyof TaskerEvents>(name: K, ...args: TaskerEvents[K]) => void;
/** Whether anyone listens, or has listened, to a per-task event (`task.<uuid>.<kind>`). */
export type HasTaskListeners = () => boolean;

type EngineState = 'stopped' | 'started' | 'stopping';

interface Running {
  handle: RunHandle;
  abortReason: SerializedError | null;
  /** The abort puts the task back to `new` (a stop's or postponeTask's requeue) instead of ending it. */
  requeue: boolean;
  /** An abort that ends the task was asked for: the run ends it, whatever it answers, never retried or requeued. */
  final: boolean;
  timeoutTimer: unknown;
  /** Settles once the run's outcome is applied and stored (ended, retried or requeued). */
  ended: Promise<void>;
  markEnded: () => void;
}

/** Without a retry policy, a task interrupted by a process death is requeued at most this many runs in all. */
const INTERRUPTED_REQUEUE_RUNS = 3;
/**
 * How long a task's start (`new → running`) may wait to be stored with the
 * next journal write instead of costing a write of its own. A crash in that
 * window finds the task `new` (it runs again) rather than `running`.
 */
const START_WRITE_DEFER_MS = 2;

interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class Engine {
  readonly #options: ResolvedOptions;
  readonly #emit: Emit;
  readonly #hasTaskListeners: HasTaskListeners;
  readonly #store: TaskStore;
  readonly #committer: Committer;
  readonly #registry = new Registry();
  readonly #scheduler = new Scheduler();
  readonly #runners = new Map<string, ResolvedRunner>();
  /** `new` tasks whose operation has no runner yet. */
  readonly #waitingForRunner = new Map<string, Set<TaskRecord>>();
  readonly #running = new Map<string, Running>();
  readonly #signalCleanups = new Map<string, () => void>();
  readonly #waiters = new Map<string, Set<Waiter>>();
  /** Tasks whose end is applied in memory but not yet stored and announced. */
  readonly #endsInFlight = new Set<string>();
  /** Per task, log entries in its `logs` whose commit has not resolved yet (see StoreStateSource.committedLogs). */
  readonly #logsInFlight = new Map<string, number>();
  readonly #logStreams = new TaskStreams<LogEntry>();
  readonly #progress: ProgressTracker;
  readonly #stats = new Stats();
  readonly #idleWaiters = new Set<() => void>();
  readonly #ready: Promise<void>;
  #state: EngineState = 'stopped';
  /** One pool per memory-limit profile; the default one is created at start(), the others on demand. */
  readonly #pools = new Map<string, RunnerPool>();
  #stopping: Promise<void> | null = null;
  #startSignalCleanup: (() => void) | null = null;
  #seq = 0;
  /** The latest queue time given (createdAt, or queuedAt of a requeue), see #queueTime. */
  #lastQueueTime = 0;
  /** Counts start() calls; stop() records the count so that a start() still loading the store gives way. */
  #startRequests = 0;
  #stopRequestedAt = 0;
  #idle = true;
  #pumping = false;
  #closing: Promise<void> | null = null;
  /** The store was loaded: `ready()` would resolve at once (unless closing). */
  #loaded = false;
  /** `new` tasks waiting for their retry time (`runAfter`) before they enter the queue. */
  readonly #delayed: TimerQueue<string>;
  /** Queue timeouts of `new` tasks. */
  readonly #queueDeadlines: TimerQueue<string>;
  readonly #retention: Retention;
  readonly #dedupe: Deduper;
  /** Features that keep their own index of the tasks, fed at add, end and removal (see task-observer.ts). */
  readonly #observers: TaskObserver[];

  constructor(options: ResolvedOptions, emit: Emit, hasTaskListeners: HasTaskListeners) {
    this.#options = options;
    this.#emit = emit;
    this.#hasTaskListeners = hasTaskListeners;
    this.#delayed = new TimerQueue(options.clock, (uuid) => this.#release(uuid));
    this.#queueDeadlines = new TimerQueue(options.clock, (uuid) => this.#onQueueTimeout(uuid));
    this.#store =
      options.store ??
      (options.persistDir === null
        ? new MemoryStore()
        : new JournalStore(options.persistDir, { durability: options.durability, logger: options.logger }));
    this.#committer = new Committer(
      this.#store,
      (error) => options.logger?.error('tasker: store write failed', error),
      (error) => options.logger?.error('tasker: an internal step after a store write failed', error),
      // The journal's writes cost a trip to disk: a task's start waits for the next one (see #run).
      options.store === null && options.persistDir !== null ? START_WRITE_DEFER_MS : 0,
    );
    this.#retention = new Retention(options.retention, {
      clock: options.clock,
      logger: options.logger,
      remove: (records) => this.removeTasks(records),
    });
    this.#dedupe = new Deduper(this.#registry, options.clock);
    this.#progress = new ProgressTracker(options.clock, (uuid) => {
      const record = this.#registry.get(uuid);
      if (record?.doc.status === 'running') void this.#committer.push({ type: 'put', task: { ...record.doc } }).catch(() => {});
    });
    this.#observers = [this.#retention, this.#dedupe, this.#stats];
    this.#ready = this.#load();
    // Surfaced by every call that awaits `ready()`; never an unhandled rejection.
    this.#ready.catch(() => {});
  }

  /** Resolves once the store is loaded; rejects if it could not be, or once the tasker is closed. */
  async ready(): Promise<void> {
    await this.#ready;
    if (this.#closing !== null) throw new TaskerError(ErrorCodes.TASKER_CLOSED, 'The tasker is closed');
  }

  async #load(): Promise<void> {
    let stored: StoredTask[];
    try {
      stored = await this.#store.load();
    } catch (error) {
      if (error instanceof TaskerError) throw error;
      throw new TaskerError(ErrorCodes.STORE_OPEN_FAILED, `The store could not be opened: ${describeError(error)}`, {
        cause: error,
      });
    }
    // The store may write snapshots from the live state instead of keeping a copy: the registry's records,
    // which hold every committed change by the time the committer hands the store its next batch.
    this.#store.attachState?.({
      tasks: () => this.#registry.values(),
      committedLogs: (task) => task.logs.length - (this.#logsInFlight.get(task.doc.uuid) ?? 0),
    });
    // FIFO among equal priorities: by the time each task (re-)entered the queue, then by uuid (time-ordered).
    const queuedTime = (task: TaskDoc): number => (task.queuedAt ?? task.createdAt).getTime();
    stored.sort((a, b) => queuedTime(a.task) - queuedTime(b.task) || (a.task.uuid < b.task.uuid ? -1 : a.task.uuid > b.task.uuid ? 1 : 0));
    for (const { task, logs } of stored) {
      // A retry time in the future is not a queue time given yet.
      this.#lastQueueTime = Math.max(this.#lastQueueTime, Math.min(queuedTime(task), this.#options.clock.now()));
      const record: TaskRecord = { doc: task, logs, seq: ++this.#seq };
      this.#registry.add(record);
      for (const observer of this.#observers) {
        observer.added(record);
        if (isEnded(task.status)) observer.ended(record);
      }
      if (task.status === 'new') this.#queue(record);
    }
    // In uuid order: tasks requeued at one instant keep the order a later restart gives them (equal queuedAt, then uuid).
    const interrupted = [...this.#registry.values()].filter((record) => record.doc.status === 'running');
    interrupted.sort((a, b) => (a.doc.uuid < b.doc.uuid ? -1 : 1));
    for (const record of interrupted) this.#onInterrupted(record);
    this.#loaded = true;
  }

  /** A task found `running` at start-up: its process died while it ran, and nothing runs it any more. */
  #onInterrupted(record: TaskRecord): void {
    const { doc } = record;
    const reason = abortReason(AbortCodes.INTERRUPTED, 'The task was running when the tasker stopped unexpectedly (process exit or crash)');
    const runner = this.#runners.get(doc.operation);
    const policy = doc.onInterrupted ?? runner?.defaults.onInterrupted ?? this.#options.onInterrupted;
    const retry = this.#retryPolicy(record);
    const runs = countedRuns(doc) + 1;
    const limit = retry?.attempts ?? INTERRUPTED_REQUEUE_RUNS;
    if (policy === 'requeue' && runs < limit) {
      this.#backToQueue(record, 'interrupted', reason, this.#options.clock.now(), 0, () => {
        this.#emit('task.requeued', doc.uuid, reason);
        this.#emitFor(doc.uuid, 'requeued', reason);
      });
      return;
    }
    this.#end(record, 'running', 'aborted', { abortReason: reason });
  }

  // ---- runners -----------------------------------------------------------

  assignRunner(operation: string, spec: RunnerSpec, options?: RunnerOptions): void {
    if (this.#closing !== null) throw new TaskerError(ErrorCodes.TASKER_CLOSED, 'The tasker is closed');
    if (typeof operation !== 'string' || operation.length === 0) {
      throw new TaskerError(ErrorCodes.INVALID_RUNNER, 'operation must be a non-empty string');
    }
    if (this.#runners.has(operation)) {
      throw new TaskerError(ErrorCodes.RUNNER_ALREADY_ASSIGNED, `A runner is already assigned to '${operation}'`);
    }
    this.#runners.set(operation, resolveRunner(operation, spec, options));
    const waiting = this.#waitingForRunner.get(operation);
    if (waiting !== undefined) {
      this.#waitingForRunner.delete(operation);
      for (const record of waiting) this.#queue(record);
      this.#pump();
    }
  }

  // ---- adding and changing tasks -------------------------------------------

  async addTask(def: ValidTaskDef, rawDef: AddTaskDef): Promise<string> {
    // Without an await once loaded: a burst of adds reaches the committer in the tick it is made.
    if (!this.#loaded || this.#closing !== null) await this.ready();
    if (this.#options.onMissingRunner === 'reject' && !this.#runners.has(def.operation)) {
      throw new TaskerError(ErrorCodes.RUNNER_NOT_ASSIGNED, `No runner is assigned to '${def.operation}': call assignRunner first, or pass onMissingRunner: 'queue' to let tasks wait for one`);
    }
    const doc: TaskDoc = {
      uuid: newTaskUuid(),
      operation: def.operation,
      priority: def.priority,
      status: 'new',
      createdAt: new Date(this.#queueTime(false)),
    };
    if (def.id !== undefined) doc.id = def.id;
    if (def.data !== undefined) doc.data = def.data;
    if (def.concurrency !== undefined) doc.concurrency = def.concurrency;
    if (def.runTimeout !== undefined) doc.runTimeout = def.runTimeout;
    if (def.abortGraceMs !== undefined) doc.abortGraceMs = def.abortGraceMs;
    if (def.maxLogs !== undefined) doc.maxLogs = def.maxLogs;
    if (def.retry !== undefined) doc.retry = def.retry;
    if (def.queueTimeout !== undefined) doc.queueTimeout = def.queueTimeout;
    if (def.onTaskerStop !== undefined) doc.onTaskerStop = def.onTaskerStop;
    if (def.onInterrupted !== undefined) doc.onInterrupted = def.onInterrupted;
    if (def.retention !== undefined) doc.retention = def.retention;
    if (def.dedupe?.key != null) doc.dedupeKey = def.dedupe.key;
    const admission = def.dedupe === undefined
      ? this.#dedupe.admitUnchecked(doc)
      : await this.#dedupe.admit(def.dedupe, doc, (replaced) =>
        Promise.all(replaced.map((old) => this.#requestAbort(old, AbortCodes.REPLACED, `The task was replaced by task ${doc.uuid}`))).then(() => {}),
      );
    if (admission.kind === 'existing') return admission.uuid;
    this.#emit('task.add', rawDef);
    const record: TaskRecord = { doc, logs: [], seq: ++this.#seq };
    // The task exists for the other calls (and may run) only once it is stored:
    // a task that runs is a task that was acknowledged.
    const stored = this.#committer.push({ type: 'put', task: { ...doc } }, (error) => {
      // Stored or failed, the add is no longer in flight for the dedupe checks of other adds.
      this.#dedupe.settled(doc.uuid);
      if (error !== null) {
        // The store may hold the document in memory for its next write: take it back out.
        void this.#committer.push({ type: 'remove', uuid: doc.uuid }).catch(() => {});
        return;
      }
      this.#registry.add(record);
      for (const observer of this.#observers) observer.added(record);
      this.#emit('task.added', doc.uuid);
      this.#queue(record);
      if (def.abortSignal !== undefined) this.#watchSignal(record, def.abortSignal);
      this.#pump();
    });
    await stored;
    return doc.uuid;
  }

  /**
   * Removes ended tasks (and their logs) from the registry and the store;
   * resolves once the removals are stored. A task that has not ended is
   * refused with ERR_TASK_STATE (abort it first), and nothing is removed.
   */
  async removeTasks(records: TaskRecord[]): Promise<number> {
    // A record another call removed meanwhile (between its lookup and now) is not removed twice.
    records = records.filter((record) => this.#registry.get(record.doc.uuid) === record);
    for (const record of records) {
      if (!this.#hasSettled(record)) {
        throw new TaskerError(ErrorCodes.TASK_STATE, `Task ${record.doc.uuid} is ${record.doc.status}; only ended tasks can be removed`);
      }
    }
    const stored: Promise<void>[] = [];
    for (const record of records) {
      const { uuid } = record.doc;
      this.#registry.delete(uuid);
      for (const observer of this.#observers) observer.removed(record);
      stored.push(this.#committer.push({ type: 'remove', uuid }, (error) => {
        if (error === null) this.#emit('task.removed', uuid);
      }));
    }
    await Promise.all(stored);
    return records.length;
  }

  async prioritizeTask(uuid: string, priority: number): Promise<void> {
    const record = await this.#get(uuid);
    if (record.doc.status !== 'new') {
      throw new TaskerError(ErrorCodes.TASK_STATE, `Task ${uuid} is ${record.doc.status}; only new tasks can be prioritized`);
    }
    record.doc.priority = priority;
    this.#scheduler.reprioritize(uuid, priority);
    const stored = this.#committer.push({ type: 'put', task: { ...record.doc } }, () => {
      this.#emit('task.prioritized', uuid, priority);
      this.#emitFor(uuid, 'prioritized', priority);
    });
    this.#pump();
    await stored;
  }

  /**
   * Changes stored fields of a `new` task at once (in memory, then stored):
   * it is queued again with them, keeping its place among equal priorities.
   * Refused with ERR_TASK_STATE once the task has started.
   */
  async updateTask(uuid: string, patch: ValidTaskPatch): Promise<void> {
    const record = await this.#get(uuid);
    if (record.doc.status !== 'new') {
      throw new TaskerError(ErrorCodes.TASK_STATE, `Task ${uuid} is ${record.doc.status}; only new tasks can be updated`);
    }
    this.#unqueue(record);
    Object.assign(record.doc, patch);
    this.#queue(record);
    const fields = Object.keys(patch);
    const stored = this.#committer.push({ type: 'put', task: { ...record.doc } }, () => {
      this.#emit('task.updated', uuid, fields);
      this.#emitFor(uuid, 'updated', fields);
    });
    this.#pump();
    await stored;
  }

  /**
   * A `new` task goes behind the tasks of its priority; a running one is
   * aborted (its runner sees ERR_TASK_POSTPONED) and goes back to `new`, same
   * uuid, behind them too. Resolves once that is stored.
   */
  async postponeTask(uuid: string): Promise<void> {
    const record = await this.#get(uuid);
    const { doc } = record;
    if (doc.status === 'running') {
      return this.#requestAbort(record, AbortCodes.POSTPONED, 'The task was postponed', true);
    }
    if (doc.status !== 'new') {
      throw new TaskerError(ErrorCodes.TASK_STATE, `Task ${uuid} is ${doc.status}; only new and running tasks can be postponed`);
    }
    this.#unqueue(record);
    record.seq = ++this.#seq;
    doc.queuedAt = new Date(this.#queueTime(true));
    this.#queue(record);
    const stored = this.#committer.push({ type: 'put', task: { ...doc } }, () => {
      this.#emit('task.postponed', uuid);
      this.#emitFor(uuid, 'postponed');
    });
    this.#pump();
    await stored;
  }

  /** Aborts a new or running task; resolves once it has ended. No-op on an ended task. */
  async abortTask(uuid: string, reason: string | undefined): Promise<void> {
    const record = await this.#get(uuid);
    await this.#requestAbort(record, AbortCodes.REQUESTED, reason ?? 'The task was aborted');
  }

  // ---- starting and stopping -----------------------------------------------

  async start(signal: AbortSignal | undefined): Promise<void> {
    const request = ++this.#startRequests;
    await this.ready();
    if (this.#stopping !== null) await this.#stopping;
    // A stop() called while this start waited wins over it.
    if (request <= this.#stopRequestedAt) return;
    if (this.#state === 'started') return;
    if (signal?.aborted === true) return;
    this.#state = 'started';
    this.#poolFor(this.#options.resourceLimits, true);
    this.#delayed.resume();
    this.#queueDeadlines.resume();
    if (signal !== undefined) {
      const onAbort = (): void => void this.stop();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#startSignalCleanup = () => signal.removeEventListener('abort', onAbort);
    }
    this.#retention.start();
    this.#emit('started');
    reportMissingRunners(this.#waitingForRunner, this.#options.logger, this.#emit);
    this.#pump();
    this.#checkIdle();
  }

  stop(options: StopOptions = {}): Promise<void> {
    this.#stopRequestedAt = this.#startRequests;
    if (this.#stopping !== null) return this.#stopping;
    if (this.#state !== 'started') return this.#ready.then(() => this.#committer.flush(), () => {});
    this.#state = 'stopping';
    this.#stopping = this.#doStop(options).finally(() => {
      this.#stopping = null;
    });
    return this.#stopping;
  }

  /**
   * Stops dispatching, then deals with each task as its stop policy says (the
   * task's `onTaskerStop`, else its runner's, else `stop()`'s options): running
   * ones are aborted, waited for, or requeued; queued ones kept or aborted.
   */
  async #doStop(options: StopOptions): Promise<void> {
    await this.#retention.stop();
    this.#startSignalCleanup?.();
    this.#startSignalCleanup = null;
    this.#delayed.pause();
    this.#queueDeadlines.pause();
    const stopped = 'The tasker was stopped';
    for (const record of this.#registry.values()) {
      if (record.doc.status === 'new' && this.#stopPolicy(record).queued === 'abort') {
        void this.#requestAbort(record, AbortCodes.TASKER_STOPPED, stopped);
      }
    }
    const ended: Promise<void>[] = [];
    const waited: TaskRecord[] = [];
    for (const [uuid, running] of this.#running) {
      const record = this.#registry.get(uuid);
      ended.push(running.ended);
      if (record === undefined) continue;
      const policy = this.#stopPolicy(record).running ?? options.running ?? 'abort';
      if (policy === 'wait') waited.push(record);
      else void this.#requestAbort(record, AbortCodes.TASKER_STOPPED, stopped, policy === 'requeue');
    }
    let waitTimer: unknown;
    if (waited.length > 0 && options.timeout !== undefined) {
      const timeout = options.timeout;
      waitTimer = this.#options.clock.setTimeout(() => {
        for (const record of waited) {
          // One that failed and went back to the queue meanwhile is a queued task now: its `queued` policy applies.
          if (!this.#running.has(record.doc.uuid)) continue;
          void this.#requestAbort(record, AbortCodes.TASKER_STOPPED, `${stopped}; the task did not finish within the stop timeout of ${timeout} ms`);
        }
      }, timeout);
    }
    await Promise.all(ended);
    if (waitTimer !== undefined) this.#options.clock.clearTimeout(waitTimer);
    await this.#committer.flush();
    await this.#compact();
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy()));
    this.#state = 'stopped';
    this.#emit('stopped');
    this.#checkIdle();
  }

  /**
   * Stops, compacts the store and releases it (its files and its lock). The
   * tasker accepts no more calls; a new Tasker may then open the same store.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.stop();
      await this.#ready.catch(() => {});
      await this.#committer.flush();
      await this.#compact();
      await this.#store.close();
    })();
    return this.#closing;
  }

  #stopPolicy(record: TaskRecord): { running?: 'abort' | 'wait' | 'requeue'; queued?: 'keep' | 'abort' } {
    return { ...this.#runners.get(record.doc.operation)?.defaults.onTaskerStop, ...record.doc.onTaskerStop };
  }

  async #compact(): Promise<void> {
    try {
      const store = this.#store;
      // Through the committer: after every batch handed to the store before (and its callbacks), before any after.
      if (store.compact !== undefined) await this.#committer.exclusive(() => store.compact!());
    } catch (error) {
      this.#options.logger?.error('tasker: store compaction failed', error);
    }
  }

  async onIdle(): Promise<void> {
    await this.ready();
    if (this.#idle) return;
    return new Promise((resolve) => this.#idleWaiters.add(resolve));
  }

  /**
   * The pool for a memory-limit profile (piscina sets limits per pool). The
   * tasker's default profile keeps all its threads warm; another profile's
   * threads start on demand and stop when idle. Every pool may use up to
   * `maxThreads` threads, but the engine never runs more than `maxThreads`
   * tasks in all.
   */
  #poolFor(limits: ResourceLimits | null, isDefault: boolean): RunnerPool {
    const key = profileKey(limits);
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      const warm = isDefault || key === profileKey(this.#options.resourceLimits);
      pool = new RunnerPool({
        maxThreads: this.#options.maxThreads,
        minThreads: warm ? this.#options.maxThreads : 0,
        resourceLimits: limits,
        clock: this.#options.clock,
        logger: this.#options.logger,
        onLogs: (uuid, entries) => this.#onLogs(uuid, entries),
        onProgress: (uuid, progress) => this.#onProgress(uuid, progress),
      });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  // ---- reading -------------------------------------------------------------

  get registry(): Registry {
    return this.#registry;
  }

  get stats(): Stats {
    return this.#stats;
  }

  async #get(uuid: unknown): Promise<TaskRecord> {
    await this.ready();
    const record = typeof uuid === 'string' ? this.#registry.get(uuid) : undefined;
    if (record === undefined) throw new TaskerError(ErrorCodes.TASK_NOT_FOUND, `No task has uuid ${describeValue(uuid)}`);
    return record;
  }

  async getRecord(uuid: unknown): Promise<TaskRecord> {
    return this.#get(uuid);
  }

  async waitForTaskOutputData(uuid: string): Promise<unknown> {
    const record = await this.#get(uuid);
    if (this.#hasSettled(record)) return outputOf(record.doc);
    return new Promise((resolve, reject) => this.#addWaiter(uuid, { resolve, reject }));
  }

  /** Ended, and the end stored and announced. */
  #hasSettled(record: TaskRecord): boolean {
    return isEnded(record.doc.status) && !this.#endsInFlight.has(record.doc.uuid);
  }

  #addWaiter(uuid: string, waiter: Waiter): void {
    let waiters = this.#waiters.get(uuid);
    if (waiters === undefined) this.#waiters.set(uuid, (waiters = new Set()));
    waiters.add(waiter);
  }

  listenTaskLogs(uuid: string, options: ListenLogsOptions): LogStream {
    const stream = new LogStream();
    const { fromBeginning = false, abortSignal } = options;
    this.#openStream(uuid, stream, abortSignal, (record) => {
      if (fromBeginning) for (const entry of record.logs) stream.push(structuredClone(entry));
      if (this.#hasSettled(record)) return stream.end();
      this.#logStreams.add(uuid, stream, abortSignal);
    });
    return stream;
  }

  /** Like listenTaskLogs: the current progress first, then each update, until the task ends. */
  listenTaskProgress(uuid: string, options: ListenProgressOptions): AsyncStream<Progress> {
    const stream = new AsyncStream<Progress>({ latestOnly: true });
    const { abortSignal } = options;
    this.#openStream(uuid, stream, abortSignal, (record) => {
      if (this.#hasSettled(record)) {
        if (record.doc.progress !== undefined) stream.push(copyProgress(record.doc.progress));
        return stream.end();
      }
      this.#progress.listen(uuid, record.doc.progress, stream, abortSignal);
    });
    return stream;
  }

  /**
   * The common start of a task's stream: ended at once by an already-aborted
   * signal, failed for an unknown uuid (through its first `next()`), else
   * handed the task once the store is loaded, unless closed or aborted meanwhile.
   */
  #openStream<T>(uuid: string, stream: AsyncStream<T>, abortSignal: AbortSignal | undefined, attach: (record: TaskRecord) => void): void {
    if (abortSignal?.aborted === true) {
      stream.end();
      return;
    }
    this.#get(uuid).then(
      (record) => {
        if (stream.closed) return;
        if (abortSignal?.aborted === true) return stream.end();
        attach(record);
      },
      (error: unknown) => stream.fail(error),
    );
  }

  // ---- internals: queue and dispatch -----------------------------------------

  /**
   * A new task enters the queue if its operation has a runner and its retry
   * time has come; else it waits for the runner, or for the time. Its queue
   * timeout, if any, counts from when it (re-)entered the queue.
   */
  #queue(record: TaskRecord): void {
    const { doc } = record;
    const runner = this.#runners.get(doc.operation);
    const queueTimeout = doc.queueTimeout ?? runner?.defaults.queueTimeout;
    if (queueTimeout !== undefined) this.#queueDeadlines.schedule(doc.uuid, (doc.queuedAt ?? doc.createdAt).getTime() + queueTimeout);
    if (runner === undefined) {
      let waiting = this.#waitingForRunner.get(doc.operation);
      if (waiting === undefined) this.#waitingForRunner.set(doc.operation, (waiting = new Set()));
      waiting.add(record);
      return;
    }
    if (doc.runAfter !== undefined && doc.runAfter.getTime() > this.#options.clock.now()) {
      this.#delayed.schedule(doc.uuid, doc.runAfter.getTime());
      return;
    }
    this.#scheduler.enqueue({
      uuid: doc.uuid,
      doc,
      priority: doc.priority,
      seq: record.seq,
      conditions: this.#conditionsOf(record, runner),
    });
  }

  /** The tasker's conditions, then the runner's, then the task's own: all must hold. */
  #conditionsOf(record: TaskRecord, runner: ResolvedRunner): ConcurrencyCondition[] {
    const own = record.doc.concurrency ?? [];
    const defaults = runner.defaults.concurrency ?? [];
    const global = this.#options.concurrency;
    return global.length === 0 && defaults.length === 0 ? own : [...global, ...defaults, ...own];
  }

  /** Takes a new task out of wherever it waits (queue, retry time, runner), and drops its queue timeout. */
  #unqueue(record: TaskRecord): void {
    const { uuid } = record.doc;
    this.#queueDeadlines.cancel(uuid);
    if (this.#scheduler.remove(uuid)) return;
    if (this.#delayed.cancel(uuid)) return;
    this.#waitingForRunner.get(record.doc.operation)?.delete(record);
  }

  /** A task's retry time has come: it joins the queue. */
  #release(uuid: string): void {
    const record = this.#registry.get(uuid);
    if (record === undefined || record.doc.status !== 'new') return;
    // It queues behind the tasks already queued, as its stored queuedAt (its runAfter) orders it after a restart.
    record.seq = ++this.#seq;
    this.#queue(record);
    this.#pump();
  }

  #onQueueTimeout(uuid: string): void {
    const record = this.#registry.get(uuid);
    if (record === undefined || record.doc.status !== 'new') return;
    const timeout = record.doc.queueTimeout ?? this.#runners.get(record.doc.operation)?.defaults.queueTimeout;
    void this.#requestAbort(record, AbortCodes.QUEUE_TIMEOUT, `The task did not start within its queueTimeout of ${timeout} ms`);
  }

  /**
   * The time a task enters the queue, which orders it among equal priorities
   * here and, stored, after a restart (ties by uuid, time-ordered). Never
   * before one already given: a task added is not placed before a task
   * postponed earlier. Going back to the queue (`behind`) is strictly after
   * every queue time given, so a task postponed in the millisecond another
   * was added still goes behind it after a restart; in a burst of postpones
   * the times may so run a few ms ahead of the clock.
   */
  #queueTime(behind: boolean): number {
    const now = this.#options.clock.now();
    const time = Math.max(now, behind ? this.#lastQueueTime + 1 : this.#lastQueueTime);
    this.#lastQueueTime = time;
    return time;
  }

  #retryPolicy(record: TaskRecord): RetryPolicy | undefined {
    return record.doc.retry ?? this.#runners.get(record.doc.operation)?.defaults.retry;
  }

  #maxLogs(record: TaskRecord): number {
    return record.doc.maxLogs ?? this.#runners.get(record.doc.operation)?.defaults.maxLogs ?? this.#options.maxLogsPerTask;
  }

  /** Starts queued tasks while threads are free. */
  #pump(): void {
    if (this.#pumping || this.#state !== 'started') return;
    this.#pumping = true;
    try {
      // A task past its queue timeout is aborted, not started, even if its timer has not fired yet.
      this.#queueDeadlines.fireDue();
      while (this.#running.size < this.#options.maxThreads) {
        const next = this.#scheduler.next();
        if (next === null) break;
        const record = this.#registry.get(next.entry.uuid);
        if (record === undefined) continue;
        if (next.error !== undefined) {
          this.#queueDeadlines.cancel(record.doc.uuid);
          this.#end(record, 'new', 'failed', {
            error: {
              name: 'TaskerError',
              code: ErrorCodes.CONDITION_FAILED,
              message: `A concurrency condition of the task could not be evaluated: ${next.error.message}`,
            },
          });
          continue;
        }
        this.#run(record);
      }
    } finally {
      this.#pumping = false;
    }
    this.#checkIdle();
  }

  #run(record: TaskRecord): void {
    const { doc } = record;
    const runner = this.#runners.get(doc.operation)!;
    this.#queueDeadlines.cancel(doc.uuid);
    delete doc.runAfter;
    // Deferrable: the start is stored with the next write (for a short task, its end), within START_WRITE_DEFER_MS.
    if (null === this.#transition(record, 'new', 'running', { startedAt: new Date(this.#options.clock.now()) }, () => {
      this.#emit('task.run', doc.uuid);
      this.#emitFor(doc.uuid, 'run');
    }, true)) return;
    this.#scheduler.markRunning(doc.uuid, doc);
    let markEnded!: () => void;
    const ended = new Promise<void>((resolve) => (markEnded = resolve));
    const running: Running = { handle: undefined as unknown as RunHandle, abortReason: null, requeue: false, final: false, timeoutTimer: undefined, ended, markEnded };
    const runTimeout = doc.runTimeout ?? runner.defaults.runTimeout;
    this.#running.set(doc.uuid, running);
    running.handle = this.#poolFor(runner.resourceLimits ?? this.#options.resourceLimits, false).run(
      {
        uuid: doc.uuid,
        id: doc.id,
        operation: doc.operation,
        data: doc.data,
        priority: doc.priority,
        createdAt: doc.createdAt,
        startedAt: doc.startedAt!,
        attempt: (doc.attempts?.length ?? 0) + 1,
        moduleUrl: runner.moduleUrl,
        exportName: runner.exportName,
        maxLogs: Math.max(0, this.#maxLogs(record) - record.logs.length),
      },
      (outcome) => this.#onRunSettled(record, outcome),
      runTimeout === undefined ? undefined : () => this.#startRunTimeout(record, running, runTimeout),
    );
  }

  /** The run timeout counts from the moment the thread begins the task, not from dispatch. */
  #startRunTimeout(record: TaskRecord, running: Running, runTimeout: number): void {
    if (this.#running.get(record.doc.uuid) !== running) return;
    running.timeoutTimer = this.#options.clock.setTimeout(() => {
      void this.#requestAbort(record, AbortCodes.RUN_TIMEOUT, `The task did not finish within its runTimeout of ${runTimeout} ms`);
    }, runTimeout);
  }

  #onRunSettled(record: TaskRecord, outcome: RunOutcome): void {
    const { uuid } = record.doc;
    const running = this.#running.get(uuid);
    if (running === undefined) return;
    this.#running.delete(uuid);
    this.#scheduler.markEnded(uuid);
    if (running.timeoutTimer !== undefined) this.#options.clock.clearTimeout(running.timeoutTimer);
    const dropped = outcome.logsDropped;
    if (dropped > 0) {
      record.doc.logsDropped = (record.doc.logsDropped ?? 0) + dropped;
      this.#stats.logsDropped(dropped);
    }
    const fields: Partial<TaskDoc> = {};
    const reason = running.abortReason;
    let stored: Promise<void> | null;
    if (reason !== null) {
      if (outcome.kind === 'terminated') fields.terminated = true;
      if (running.final) {
        stored = this.#end(record, 'running', 'aborted', { ...fields, abortReason: reason });
      } else if (running.requeue) {
        stored = this.#backToQueue(record, 'requeued', reason, this.#options.clock.now(), 0, () => {
          this.#emit('task.requeued', uuid, reason);
          this.#emitFor(uuid, 'requeued', reason);
        });
      } else {
        stored = this.#retryOrEnd(record, 'aborted', reason, reason.code === AbortCodes.RUN_TIMEOUT, { ...fields, abortReason: reason });
      }
    } else if (outcome.kind === 'done') {
      stored = this.#end(record, 'running', 'done', { result: outcome.result as JsonValue });
    } else {
      const error = outcome.kind === 'failed' ? (outcome.error as JsonValue) : null;
      // A failure that answered an abort already asked for (its answer was on the way) ends the task: not retried.
      stored = running.final ? this.#end(record, 'running', 'failed', { error }) : this.#retryOrEnd(record, 'failed', error, false, { error });
    }
    // Resolved once the outcome is stored, so that an abort or a postpone resolves after it, not before.
    // `stored` never rejects (see #transition).
    if (stored === null) running.markEnded();
    else void stored.then(running.markEnded);
    this.#pump();
  }

  /** A failed or timed-out attempt: retried if its policy says so, else the task ends with `status`. */
  #retryOrEnd(record: TaskRecord, status: 'failed' | 'aborted', error: SerializedError | JsonValue, timedOut: boolean, fields: Partial<TaskDoc>): Promise<void> | null {
    const { doc } = record;
    const policy = this.#retryPolicy(record);
    // An abort other than a timeout (abortTask, a signal, a stop) is a decision, never retried.
    const retryable = status === 'failed' || timedOut;
    const runs = countedRuns(doc) + 1;
    if (policy !== undefined && retryable) {
      const kind = outcomeKind(error, timedOut);
      const onPredicateError = (e: unknown): void => this.#options.logger?.error(`tasker: the retryOn predicate of '${doc.operation}' threw; not retrying`, e);
      const attempt = (doc.attempts?.length ?? 0) + 1;
      if (shouldRetry(policy, runs, attempt, kind, error, onPredicateError)) {
        const delay = retryDelay(policy.backoff, runs);
        const now = this.#options.clock.now();
        const requeued = this.#backToQueue(record, status, error, now, delay, () => {
          const info = { attempt: attempt + 1, runAfter: new Date(now + delay), error: structuredClone(error) };
          this.#emit('task.retry', doc.uuid, info);
          this.#emitFor(doc.uuid, 'retry', info);
        });
        // Back in the queue while the tasker stops: a task whose policy aborts queued tasks on stop is aborted now.
        if (requeued !== null && this.#state === 'stopping' && this.#stopPolicy(record).queued === 'abort') {
          void this.#requestAbort(record, AbortCodes.TASKER_STOPPED, 'The tasker was stopped');
        }
        return requeued;
      }
    }
    return this.#end(record, 'running', status, fields);
  }

  /**
   * `running → new`, same uuid: the run is added to `attempts`, and the task
   * queues again behind those of its priority, after `delay` ms if any.
   * Waiters keep waiting and log streams stay open.
   */
  #backToQueue(
    record: TaskRecord,
    outcome: Attempt['outcome'],
    error: SerializedError | JsonValue,
    now: number,
    delay: number,
    announce: () => void,
  ): Promise<void> | null {
    const { doc } = record;
    const queuedAt = new Date(delay > 0 ? now + delay : this.#queueTime(true));
    if (doc.status !== 'running') return null;
    const attempts = [...(doc.attempts ?? []), attemptOf(doc, outcome, error, now)];
    // A requeued task carries no trace of the run but its attempt; the next run reports its own progress.
    delete doc.progress;
    delete doc.startedAt;
    delete doc.endedAt;
    delete doc.terminated;
    const fields: Partial<TaskDoc> = { attempts, queuedAt };
    if (delay > 0) fields.runAfter = queuedAt;
    const promise = this.#transition(record, 'running', 'new', fields, announce);
    if (promise === null) return null;
    record.seq = ++this.#seq;
    this.#queue(record);
    return promise;
  }

  #requestAbort(record: TaskRecord, code: AbortCode, message: string, requeue = false): Promise<void> {
    const { uuid, status } = record.doc;
    if (status === 'new') {
      this.#unqueue(record);
      this.#end(record, 'new', 'aborted', { abortReason: abortReason(code, message) });
      this.#pump();
      return this.#endedPromise(uuid);
    }
    const running = this.#running.get(uuid);
    if (status !== 'running' || running === undefined) return this.#endedPromise(uuid);
    // An abort that ends the task (not a requeue, not a timeout that may retry) wins over one that would not.
    const final = !requeue && code !== AbortCodes.RUN_TIMEOUT;
    const reason = abortReason(code, message);
    if (running.abortReason === null) {
      const grace = record.doc.abortGraceMs ?? this.#runners.get(record.doc.operation)?.defaults.abortGraceMs ?? this.#options.abortGraceMs;
      // Not delivered when the runner has already answered: the task ends as it answered.
      if (running.handle.abort({ name: reason.name, message: reason.message, code }, grace)) {
        running.abortReason = reason;
        running.requeue = requeue;
      }
    } else if (final && !running.final) {
      // The runner already has its signal; the stored reason becomes this one, and the run is neither requeued nor retried.
      running.abortReason = reason;
      running.requeue = false;
    }
    if (final) running.final = true;
    return running.ended;
  }

  /** Resolves once the task's end has been stored and announced. */
  #endedPromise(uuid: string): Promise<void> {
    const record = this.#registry.get(uuid);
    if (record === undefined || this.#hasSettled(record)) return Promise.resolve();
    return new Promise((resolve) => this.#addWaiter(uuid, { resolve: () => resolve(), reject: () => resolve() }));
  }

  #watchSignal(record: TaskRecord, signal: AbortSignal): void {
    const { uuid } = record.doc;
    const message = (): string => {
      const reason: unknown = signal.reason;
      const text = reason instanceof Error ? describeError(reason) : typeof reason === 'string' ? reason : undefined;
      return text === undefined ? 'The task abortSignal was aborted' : `The task abortSignal was aborted: ${text}`;
    };
    if (signal.aborted) {
      void this.#requestAbort(record, AbortCodes.SIGNAL, message());
      return;
    }
    const onAbort = (): void => void this.#requestAbort(record, AbortCodes.SIGNAL, message());
    signal.addEventListener('abort', onAbort, { once: true });
    this.#signalCleanups.set(uuid, () => signal.removeEventListener('abort', onAbort));
  }

  // ---- internals: logs ---------------------------------------------------------

  #onLogs(uuid: string, entries: WireLogEntry[]): void {
    const record = this.#registry.get(uuid);
    if (record === undefined || record.doc.status !== 'running') return;
    const room = this.#maxLogs(record) - record.logs.length;
    const kept = (room >= entries.length ? entries : entries.slice(0, Math.max(0, room))) as LogEntry[];
    if (kept.length < entries.length) {
      record.doc.logsDropped = (record.doc.logsDropped ?? 0) + entries.length - kept.length;
      this.#stats.logsDropped(entries.length - kept.length);
    }
    if (kept.length === 0) return;
    for (const entry of kept) record.logs.push(entry);
    this.#logStreams.push(uuid, kept, structuredClone);
    this.#logsInFlight.set(uuid, (this.#logsInFlight.get(uuid) ?? 0) + kept.length);
    void this.#committer.push({ type: 'logs', uuid, entries: kept }, () => {
      const inFlight = this.#logsInFlight.get(uuid)! - kept.length;
      if (inFlight > 0) this.#logsInFlight.set(uuid, inFlight);
      else this.#logsInFlight.delete(uuid);
      for (const entry of kept) {
        this.#emit('task.log', uuid, entry);
        this.#emitFor(uuid, 'log', entry);
      }
    }).catch(() => {}); // reported to the logger by the committer
  }

  /** Applied at once; stored now or later (see progress.ts); evented after what was pushed before it is stored. */
  #onProgress(uuid: string, wire: WireProgress): void {
    const record = this.#registry.get(uuid);
    if (record === undefined || record.doc.status !== 'running') return;
    const { progress, storeNow } = this.#progress.update(uuid, wire);
    record.doc.progress = progress;
    void this.#committer.push(storeNow ? { type: 'put', task: { ...record.doc } } : null, () => {
      this.#emit('task.progress', uuid, copyProgress(progress));
      this.#emitFor(uuid, 'progress', copyProgress(progress));
    }).catch(() => {}); // reported to the logger by the committer
  }

  // ---- internals: transitions --------------------------------------------------

  /**
   * The only place a status changes. Returns null, changing nothing, when the
   * task is no longer in `from` (another path won the race); else a promise
   * settled once the change is stored and announced (never rejected: a store
   * failure goes to the logger).
   */
  #transition(record: TaskRecord, from: TaskStatus, to: TaskStatus, fields: Partial<TaskDoc>, announce: () => void, deferrable = false): Promise<void> | null {
    if (record.doc.status !== from || !canTransition(from, to)) return null;
    if (from === 'running') this.#progress.runEnded(record.doc.uuid);
    Object.assign(record.doc, fields);
    record.doc.status = to;
    this.#stats.transitioned(record.doc, from);
    return this.#committer.push({ type: 'put', task: { ...record.doc } }, announce, deferrable).catch(() => {});
  }

  #end(record: TaskRecord, from: 'new' | 'running', status: EndedTaskStatus, fields: Partial<TaskDoc>): Promise<void> | null {
    const { uuid } = record.doc;
    const now = this.#options.clock.now();
    const ending: Partial<TaskDoc> = { ...fields, endedAt: new Date(now) };
    // Once a task has run more than once, its history lists every run, the last one too.
    if (from === 'running' && record.doc.attempts !== undefined && record.doc.status === 'running') {
      const error = status === 'done' ? undefined : status === 'failed' ? fields.error : fields.abortReason;
      ending.attempts = [...record.doc.attempts, attemptOf(record.doc, status, error, now)];
    }
    const applied = this.#transition(record, from, status, ending, () => {
      this.#endsInFlight.delete(uuid);
      for (const observer of this.#observers) observer.ended(record);
      const { doc } = record;
      const outcome = (status === 'done' ? doc.result : status === 'failed' ? doc.error : doc.abortReason) as JsonValue;
      this.#emit(`task.${status}`, uuid, outcome as never);
      this.#emitFor(uuid, status, outcome as never);
      this.#emit('task.ended', uuid, status, outcome);
      this.#emitFor(uuid, 'ended', status, outcome);
      this.#settleWaiters(record);
      this.#logStreams.end(uuid);
      this.#progress.taskEnded(uuid);
      this.#checkIdle();
    });
    if (applied === null) return null;
    this.#endsInFlight.add(uuid);
    this.#signalCleanups.get(uuid)?.();
    this.#signalCleanups.delete(uuid);
    return applied;
  }

  /** A per-task event (`task.<uuid>.<kind>`): its name is built, and it is emitted, only if anyone listens to one. */
  #emitFor<K extends TaskEventKind>(uuid: string, kind: K, ...args: TaskerEvents[`task.${string}.${K}`]): void {
    if (!this.#hasTaskListeners()) return;
    (this.#emit as (name: string, ...rest: unknown[]) => void)(`task.${uuid}.${kind}`, ...args);
  }

  #settleWaiters(record: TaskRecord): void {
    const waiters = this.#waiters.get(record.doc.uuid);
    this.#waiters.delete(record.doc.uuid);
    if (waiters === undefined) return;
    let output: unknown;
    let failure: unknown;
    try {
      output = outputOf(record.doc);
    } catch (error) {
      failure = error;
    }
    for (const waiter of waiters) {
      if (failure !== undefined) waiter.reject(failure);
      else waiter.resolve(structuredClone(output));
    }
  }

  #checkIdle(): void {
    // Idle only once every end is stored and announced, so `await onIdle()` sees them all.
    const idle =
      this.#running.size === 0 &&
      this.#endsInFlight.size === 0 &&
      (this.#state !== 'started' || (this.#scheduler.readyCount === 0 && this.#delayed.size === 0));
    if (idle === this.#idle) return;
    this.#idle = idle;
    if (!idle) return;
    this.#emit('idle');
    for (const resolve of [...this.#idleWaiters]) resolve();
    this.#idleWaiters.clear();
  }
}

/** Runs that count against a retry budget: every one but those a stop or a postpone put back. */
function countedRuns(doc: TaskDoc): number {
  let runs = 0;
  for (const attempt of doc.attempts ?? []) if (attempt.outcome !== 'requeued') runs++;
  return runs;
}

function attemptOf(doc: TaskDoc, outcome: Attempt['outcome'], error: SerializedError | JsonValue | undefined, now: number): Attempt {
  const attempt: Attempt = {
    attempt: (doc.attempts?.length ?? 0) + 1,
    startedAt: doc.startedAt ?? new Date(now),
    endedAt: new Date(now),
    outcome,
  };
  if (error !== undefined) attempt.error = structuredClone(error);
  return attempt;
}

function abortReason(code: AbortCode, message: string): SerializedError {
  return serializeError(new AbortError(code, message)) as SerializedError;
}

/** The result of an ended task, or the error `waitForTaskOutputData` rejects with. */
function outputOf(doc: TaskDoc): unknown {
  switch (doc.status) {
    case 'done':
      return structuredClone(doc.result ?? null);
    case 'failed':
      throw new TaskFailedError(doc.uuid, deserializeError(doc.error));
    case 'aborted':
      throw new TaskAbortedError(doc.uuid, deserializeError(doc.abortReason));
    default:
      throw new Error(`Task ${doc.uuid} has not ended`);
  }
}
