/**
 * Runs tasks in piscina worker threads, one task per thread at a time, and
 * owns the abort ladder: the runner's `abortSignal` fires first; if the runner
 * has not settled after the grace period, its thread is terminated (piscina
 * replaces it). The scheduler hands a task over only when a thread is free,
 * so piscina's own queue stays empty.
 */
import { describeError } from '../describe.js';
import { EventEmitter } from 'node:events';
import { BroadcastChannel } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { v4 as uuidv4 } from 'uuid';
import type { Clock } from '../clock.js';
import { ErrorCodes } from '../errors.js';
import {
  MessageType,
  RunState,
  isLogBatchMessage,
  isStartedMessage,
  runTag,
  serializeError,
  type AbortMessage,
  type RunRequest,
  type RunResponse,
  type RunnerWorkerData,
  type WireLogEntry,
  type WireProgress,
} from '../protocol.js';
import type { ResourceLimits } from '../resource-limits.js';
import type { EngineLogger } from '../types.js';

const WORKER_ENTRY = fileURLToPath(new URL('../../workers/entry.cjs', import.meta.url));
/** How long an extra thread (above minThreads) stays when it has nothing to run. */
const IDLE_THREAD_MS = 10_000;
/** How long a response may wait for log batches it announced (they travel on another port). */
const LOG_DRAIN_TIMEOUT_MS = 5000;

export type RunOutcome =
  | { kind: 'done'; result: unknown; logsDropped: number }
  | { kind: 'failed'; error: unknown; logsDropped: number }
  /** The thread was terminated by `abort()` after the grace period. */
  | { kind: 'terminated'; logsDropped: number };

export interface RunHandle {
  /**
   * Fires the runner's abort signal, then terminates its thread after
   * `graceMs`. Returns false, doing nothing, when the runner has already
   * answered (its logs may still be arriving): the run ends as it answered.
   */
  abort(reason: AbortMessage['reason'], graceMs: number): boolean;
}

export interface RunnerPoolOptions {
  maxThreads: number;
  /** Threads started at once and kept; the rest are started on demand and stopped when idle. */
  minThreads: number;
  resourceLimits: ResourceLimits | null;
  clock: Clock;
  logger: EngineLogger | null;
  onLogs(uuid: string, entries: WireLogEntry[]): void;
  /** A progress from the runner; applied before the run settles. */
  onProgress(uuid: string, progress: WireProgress): void;
}

interface ActiveRun {
  runId: number;
  /** Its slot in the pool's log credit (see LOG_WINDOW) and run state (see RunState). */
  slot: number;
  /** The thread said it began the run (it does only when asked: see RunState). */
  started: boolean;
  onStarted: (() => void) | null;
  /** An abort sent before the thread began the task, sent again when it does. */
  pendingAbort: AbortMessage | null;
  received: number;
  /** Batches received that carried a progress (see RunResponse.progressSent). */
  progressReceived: number;
  response: RunResponse | null;
  drainTimer: unknown;
  settle: (outcome: RunOutcome) => void;
  settled: boolean;
}

export class RunnerPool {
  readonly #piscina: Piscina;
  readonly #control: BroadcastChannel;
  readonly #controlName = `tasker-control:${uuidv4()}`;
  readonly #active = new Map<string, ActiveRun>();
  readonly #options: RunnerPoolOptions;
  readonly #logCredit: Int32Array;
  readonly #runState: Int32Array;
  readonly #freeSlots: number[];
  /** Counts runs, to give each its `runId`. */
  #runs = 0;

  constructor(options: RunnerPoolOptions) {
    this.#options = options;
    const logCredit = new SharedArrayBuffer(4 * options.maxThreads);
    this.#logCredit = new Int32Array(logCredit);
    const runState = new SharedArrayBuffer(4 * options.maxThreads);
    this.#runState = new Int32Array(runState);
    this.#freeSlots = Array.from({ length: options.maxThreads }, (_, i) => options.maxThreads - 1 - i);
    this.#piscina = new Piscina({
      filename: WORKER_ENTRY,
      maxThreads: options.maxThreads,
      minThreads: options.minThreads,
      concurrentTasksPerWorker: 1,
      idleTimeout: options.minThreads === options.maxThreads ? Infinity : IDLE_THREAD_MS,
      ...(options.resourceLimits === null ? {} : { resourceLimits: options.resourceLimits }),
      workerData: { controlChannel: this.#controlName, logCredit, runState } satisfies RunnerWorkerData,
    });
    this.#piscina.on('message', (message: unknown) => this.#onWorkerMessage(message));
    // A thread that fails while running no task (a runner's stray timer throwing
    // after it settled) must not take the host down: piscina replaces it.
    this.#piscina.on('error', (error: unknown) => {
      options.logger?.warn('tasker: a worker thread failed outside of any task', error);
    });
    this.#control = new BroadcastChannel(this.#controlName);
    this.#control.unref();
  }

  get threads(): number {
    return this.#piscina.threads.length;
  }

  /**
   * Runs a task. `onStarted`, when given, is called once the thread has begun
   * the task (a thread may still be starting when a task is dispatched).
   * `request` is the pool's from then on: it completes it with `runId` and
   * `logSlot` and posts it.
   */
  run(
    request: Omit<RunRequest, 'logSlot' | 'runId'>,
    onSettled: (outcome: RunOutcome) => void,
    onStarted?: () => void,
  ): RunHandle {
    // piscina terminates the task's thread when this emits 'abort' (an emitter costs less per run than an AbortController).
    const terminate = new EventEmitter();
    let terminated = false;
    const runId = ++this.#runs;
    const slot = this.#freeSlots.pop();
    if (slot === undefined) throw new Error('RunnerPool: more runs than threads');
    Atomics.store(this.#logCredit, slot, 0);
    Atomics.store(this.#runState, slot, runTag(runId) | (onStarted === undefined ? 0 : RunState.NOTIFY));
    const run: ActiveRun = { runId, slot, started: false, onStarted: onStarted ?? null, pendingAbort: null, received: 0, progressReceived: 0, response: null, drainTimer: undefined, settle: onSettled, settled: false };
    this.#active.set(request.uuid, run);
    let graceTimer: unknown;
    const finish = (outcome: RunOutcome): void => {
      if (run.settled) return;
      run.settled = true;
      if (graceTimer !== undefined) this.#options.clock.clearTimeout(graceTimer);
      if (run.drainTimer !== undefined) clearTimeout(run.drainTimer as NodeJS.Timeout);
      this.#active.delete(request.uuid);
      // The worker closed this task's log sender before answering (or is dead): the slot is free.
      this.#freeSlots.push(slot);
      onSettled(outcome);
    };
    run.settle = finish;

    const task = request as RunRequest;
    task.runId = runId;
    task.logSlot = slot;
    this.#piscina.run(task, { signal: terminate }).then(
      (response: RunResponse) => {
        run.response = response;
        if (drained(run, response)) {
          finish(toOutcome(response));
        } else {
          // A safety net on real time, not task time: a fake clock in tests must not hold it.
          run.drainTimer = setTimeout(() => {
            this.#options.logger?.warn(`tasker: task ${request.uuid} ended before ${response.logsSent - run.received} of its log entries (and ${response.progressSent - run.progressReceived} progress batches) arrived`);
            finish(toOutcome(response));
          }, LOG_DRAIN_TIMEOUT_MS);
          (run.drainTimer as NodeJS.Timeout).unref();
        }
      },
      (error: unknown) => {
        if (terminated) {
          finish({ kind: 'terminated', logsDropped: 0 });
        } else {
          finish({ kind: 'failed', error: workerFailure(error), logsDropped: 0 });
        }
      },
    );

    return {
      abort: (reason, graceMs) => {
        if (run.settled || run.response !== null) return false;
        if (terminated || graceTimer !== undefined) return true;
        const message: AbortMessage = { type: MessageType.ABORT, uuid: request.uuid, runId, reason };
        // Asked before the broadcast: a thread that had begun the run by then was already listening.
        if (!run.started && this.#askStarted(slot)) run.pendingAbort = message;
        this.#control.postMessage(message);
        graceTimer = this.#options.clock.setTimeout(() => {
          terminated = true;
          terminate.emit('abort');
        }, graceMs);
        return true;
      },
    };
  }

  /**
   * Asks the thread of the run in `slot` to say when it begins it (see
   * RunState). False when it already has: it was listening for aborts then.
   */
  #askStarted(slot: number): boolean {
    for (;;) {
      const word = Atomics.load(this.#runState, slot);
      if ((word & RunState.STARTED) !== 0) return false;
      if ((word & RunState.NOTIFY) !== 0) return true;
      if (Atomics.compareExchange(this.#runState, slot, word, word | RunState.NOTIFY) === word) return true;
    }
  }

  async destroy(): Promise<void> {
    this.#control.close();
    await this.#piscina.destroy();
  }

  #onWorkerMessage(message: unknown): void {
    if (isStartedMessage(message)) {
      const run = this.#active.get(message.uuid);
      // It travels on another port than the responses: it may come after its run ended and the task's next one began.
      if (run === undefined || run.settled || run.started || run.runId !== message.runId) return;
      run.started = true;
      // The thread may have been starting when the abort was broadcast: it is listening now.
      if (run.pendingAbort !== null) this.#control.postMessage(run.pendingAbort);
      run.pendingAbort = null;
      const onStarted = run.onStarted;
      run.onStarted = null;
      onStarted?.();
      return;
    }
    if (!isLogBatchMessage(message) || !Array.isArray(message.entries)) return;
    const run = this.#active.get(message.uuid);
    // Entries from a runner that already settled (a stray timer) belong to no task any more.
    if (run === undefined || run.settled) return;
    if (message.entries.length > 0) {
      run.received += message.entries.length;
      this.#options.onLogs(message.uuid, message.entries);
      Atomics.add(this.#logCredit, run.slot, message.entries.length);
      Atomics.notify(this.#logCredit, run.slot);
    }
    if (message.progress !== undefined) {
      run.progressReceived++;
      this.#options.onProgress(message.uuid, message.progress);
    }
    if (run.response !== null && drained(run, run.response)) run.settle(toOutcome(run.response));
  }
}

/** Every batch the worker sent before its response has arrived (they travel on another port). */
function drained(run: ActiveRun, response: RunResponse): boolean {
  return run.received >= response.logsSent && run.progressReceived >= response.progressSent;
}

function toOutcome(response: RunResponse): RunOutcome {
  if (response.ok) return { kind: 'done', result: response.result, logsDropped: response.logsDropped };
  return { kind: 'failed', error: response.error, logsDropped: response.logsDropped };
}

/** Maps how piscina reports a dead thread to a stored error with a stable code. */
function workerFailure(error: unknown): unknown {
  const message = describeError(error);
  const exited = /worker exited with code: (-?\d+)/.exec(message);
  if (exited !== null) {
    return {
      name: 'TaskerError',
      code: ErrorCodes.WORKER_EXITED,
      exitCode: Number(exited[1]),
      message: `The worker thread exited with code ${exited[1]} while running the task`,
    };
  }
  if ((error as { code?: unknown })?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return { name: 'TaskerError', code: ErrorCodes.WORKER_OUT_OF_MEMORY, message: 'The worker thread ran out of memory', cause: serializeError(error) };
  }
  return {
    name: 'TaskerError',
    code: ErrorCodes.WORKER_CRASHED,
    message: `The worker thread crashed: ${message}`,
    cause: serializeError(error),
  };
}
