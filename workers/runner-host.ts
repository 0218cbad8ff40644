/**
 * Runs one task's runner inside a worker thread (loaded by workers/entry.cts,
 * the file piscina starts each thread with).
 *
 * It imports the runner module (cached per thread), builds the runner's
 * context, streams logs to the main thread in batches, listens for aborts on
 * the pool's control channel, and answers with a `RunResponse`. Runner errors
 * are answered as values; piscina rejects only when the thread itself dies.
 */
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import { format, inspect } from 'node:util';
import { performance } from 'node:perf_hooks';
import {
  LOG_WINDOW,
  MessageType,
  PROGRESS_INTERVAL_MS,
  RunState,
  isAbortMessage,
  runTag,
  serializeError,
  type AbortMessage,
  type LogBatchMessage,
  type RunRequest,
  type RunResponse,
  type RunnerWorkerData,
  type StartedMessage,
  type WireLogEntry,
  type WireProgress,
} from '../src/protocol.js';
import { normaliseProgress } from '../src/progress-value.js';
import { AbortError, type AbortCode } from '../src/errors.js';
import { copyJsonValue, JsonValueError } from '../src/json-value.js';
import { describeValue } from '../src/describe.js';
import type { LogLevel, TaskLogger } from '../src/types.js';


const LOG_BATCH_SIZE = 256;
const LOG_FLUSH_INTERVAL_MS = 20;
const EAGER_LOGS_PER_TURN = 64;
/** Aborts that arrived before their task did (the two travel on different channels). */
const EARLY_ABORTS_KEPT = 256;

const moduleCache = new Map<string, Promise<Record<string, unknown>>>();
/** By run id, not uuid: a task runs again under its uuid after a retry, and an old abort must not reach the new run. */
const runningAborts = new Map<number, RunAbort>();
const earlyAborts = new Map<number, AbortMessage['reason']>();
/** Held here: an unref'd channel that nothing references would be garbage-collected, and go deaf. */
let controlChannel: BroadcastChannel;

/** Listens for aborts from the moment the thread loads this module, before it takes any task. */
function listenForAborts(name: string): void {
  controlChannel = new BroadcastChannel(name);
  controlChannel.onmessage = (event: unknown) => {
    const message = (event as { data?: unknown }).data;
    if (!isAbortMessage(message)) return;
    const abort = runningAborts.get(message.runId);
    if (abort !== undefined) {
      abort.abort(toAbortError(message.reason));
      return;
    }
    earlyAborts.set(message.runId, message.reason);
    if (earlyAborts.size > EARLY_ABORTS_KEPT) {
      const oldest = earlyAborts.keys().next().value;
      if (oldest !== undefined) earlyAborts.delete(oldest);
    }
  };
  // The thread is kept alive by piscina; this channel must not keep it alive on its own.
  controlChannel.unref();
}

listenForAborts((workerData as RunnerWorkerData).controlChannel);
const logCredit = new Int32Array((workerData as RunnerWorkerData).logCredit);
const runState = new Int32Array((workerData as RunnerWorkerData).runState);

/**
 * Marks the run begun in its state word (see RunState); true when the main
 * thread asked to be told. A word that holds another run's tag is left alone:
 * that run is a later one, the main thread having given up on this one.
 */
function markStarted(slot: number, runId: number): boolean {
  const tag = runTag(runId);
  for (;;) {
    const word = Atomics.load(runState, slot);
    if ((word & RunState.TAG) !== tag) return false;
    if (Atomics.compareExchange(runState, slot, word, word | RunState.STARTED) === word) return (word & RunState.NOTIFY) !== 0;
  }
}

/** The log of the task this thread is running (one at a time), for its console output. */
let currentSender: LogSender | null = null;

/**
 * While a task runs, what its runner writes with `console.*` becomes the
 * task's log entries (log/info → info, debug → debug, warn → warning,
 * error/trace → error). Output outside any task (a module's top level, a stray
 * timer after the task ended) goes to the thread's console as usual.
 */
function captureConsole(): void {
  const route = (level: LogLevel, original: (...args: unknown[]) => void) =>
    (...args: unknown[]): void => {
      if (currentSender === null) original.apply(console, args);
      else currentSender.log(level, format(...args), undefined);
    };
  console.log = route('info', console.log);
  console.info = route('info', console.info);
  console.debug = route('debug', console.debug);
  console.warn = route('warning', console.warn);
  console.error = route('error', console.error);
  console.trace = route('error', console.trace);
}

captureConsole();

/**
 * A run's abort: its AbortSignal is created only when the runner reads
 * `ctx.abortSignal` (creating one costs more than a short task's own
 * overhead), already aborted if the abort came first. As with an
 * AbortController, the first abort wins.
 */
class RunAbort {
  #controller: AbortController | null = null;
  #reason: Error | null = null;

  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#reason !== null) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: Error): void {
    if (this.#reason !== null) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }

  throwIfAborted(): void {
    if (this.#reason !== null) throw this.#reason;
  }
}

function toAbortError(reason: AbortMessage['reason']): Error {
  return new AbortError(reason.code as AbortCode, reason.message);
}

/** Stored like the engine's own errors: `{ name: 'TaskerError', code, message }`. */
class LoadError extends Error {
  override readonly name = 'TaskerError';
  readonly code = 'ERR_RUNNER_LOAD_FAILED';
}

/** Runner modules already loaded, by URL: a task of a loaded module begins without awaiting it. */
const loadedModules = new Map<string, Record<string, unknown>>();

/** The runner's function if its module is loaded and exports it; else undefined (loadRunner then loads it or says why not). */
function loadedRunner(moduleUrl: string, exportName: string): ((ctx: unknown) => unknown) | undefined {
  const fn = loadedModules.get(moduleUrl)?.[exportName];
  return typeof fn === 'function' ? (fn as (ctx: unknown) => unknown) : undefined;
}

async function loadRunner(moduleUrl: string, exportName: string): Promise<(ctx: unknown) => unknown> {
  let loading = moduleCache.get(moduleUrl);
  if (loading === undefined) {
    loading = import(moduleUrl) as Promise<Record<string, unknown>>;
    moduleCache.set(moduleUrl, loading);
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = await loading;
  } catch (error) {
    moduleCache.delete(moduleUrl);
    throw new LoadError(`Runner module ${moduleUrl} could not be loaded: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
  loadedModules.set(moduleUrl, namespace);
  const fn = namespace[exportName];
  if (typeof fn !== 'function') {
    throw new LoadError(`Runner module ${moduleUrl} has no function export named '${exportName}'`);
  }
  return fn as (ctx: unknown) => unknown;
}

/**
 * Sends log entries to the main thread; counts what the cap drops. The first
 * few entries of each event-loop turn go out at once, so that a runner that
 * logs a line and then spins still gets it delivered; a burst beyond that is
 * batched by size and flushed at the end of the turn.
 *
 * Progress rides on the same batches: a progress() call only replaces the
 * pending value (a hot loop costs a clock read and a small object per call),
 * which goes out at most every PROGRESS_INTERVAL_MS, checked on each call (a
 * runner that never yields still reports) and by a timer (one that yields),
 * and once more by `finish()`, before the response.
 */
class LogSender {
  sent = 0;
  dropped = 0;
  /** Batches that carried a progress: the main thread waits for them all before it ends the task. */
  progressSent = 0;
  #buffer: WireLogEntry[] = [];
  #progress: Omit<WireProgress, 'at'> | null = null;
  #progressAt = 0;
  #lastProgressSent = -Infinity;
  #progressTimer: NodeJS.Timeout | null = null;
  #sentThisTurn = 0;
  #lastFlush = performance.now();
  #scheduled = false;
  readonly #uuid: string;
  readonly #maxLogs: number;
  readonly #slot: number;
  /** Set when the task has ended: a stray timer's late line belongs to no task and is dropped. */
  closed = false;

  constructor(uuid: string, maxLogs: number, slot: number) {
    this.#uuid = uuid;
    this.#maxLogs = maxLogs;
    this.#slot = slot;
  }

  log(level: LogLevel, message: unknown, data: unknown): void {
    if (this.closed) return;
    if (this.sent + this.#buffer.length >= this.#maxLogs) {
      this.dropped++;
      return;
    }
    const entry: WireLogEntry = { level, message: typeof message === 'string' ? message : describeValue(message), timestamp: new Date() };
    if (data !== undefined) entry.data = toLogData(data);
    this.#buffer.push(entry);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#sentThisTurn = 0;
        this.flush();
      });
    }
    if (
      this.#sentThisTurn < EAGER_LOGS_PER_TURN ||
      this.#buffer.length >= LOG_BATCH_SIZE ||
      performance.now() - this.#lastFlush >= LOG_FLUSH_INTERVAL_MS
    ) {
      this.flush();
    }
  }

  /** Validates at once (a TypeError for the runner); sends when PROGRESS_INTERVAL_MS has passed since the last one. */
  progress(value: unknown, message: unknown): void {
    const progress = normaliseProgress(value, message);
    if (this.closed) return;
    const now = Date.now();
    this.#progress = progress;
    this.#progressAt = now;
    const wait = this.#lastProgressSent + PROGRESS_INTERVAL_MS - now;
    if (wait <= 0) {
      this.#sendProgress();
    } else if (this.#progressTimer === null) {
      this.#progressTimer = setTimeout(() => {
        this.#progressTimer = null;
        if (!this.closed) this.#sendProgress();
      }, wait);
    }
  }

  flush(): void {
    this.#lastFlush = performance.now();
    if (this.#buffer.length === 0) return;
    this.#post(undefined);
  }

  /** The last pending progress and logs, before the response; nothing is sent afterwards. */
  finish(): void {
    this.#sendProgress();
    this.flush();
    this.closed = true;
    if (this.#progressTimer !== null) clearTimeout(this.#progressTimer);
    this.#progressTimer = null;
  }

  #sendProgress(): void {
    if (this.#progress === null) return;
    const progress: WireProgress = { ...this.#progress, at: new Date(this.#progressAt) };
    this.#progress = null;
    this.#lastProgressSent = Date.now();
    this.#lastFlush = performance.now();
    this.#post(progress);
  }

  /** One batch: the buffered entries (possibly none) and a progress, if any. */
  #post(progress: WireProgress | undefined): void {
    // Backpressure: a runner flooding logs waits while the main thread is LOG_WINDOW entries behind.
    if (this.#buffer.length > 0) {
      for (;;) {
        const taken = Atomics.load(logCredit, this.#slot);
        if (this.sent - taken < LOG_WINDOW) break;
        Atomics.wait(logCredit, this.#slot, taken, 1000);
      }
    }
    const message: LogBatchMessage = { type: MessageType.LOG_BATCH, uuid: this.#uuid, entries: this.#buffer };
    if (progress !== undefined) {
      message.progress = progress;
      this.progressSent++;
    }
    this.sent += this.#buffer.length;
    this.#sentThisTurn += this.#buffer.length;
    this.#buffer = [];
    parentPort?.postMessage(message);
  }
}

function toLogData(data: unknown): unknown {
  try {
    return copyJsonValue(data, 'data');
  } catch {
    return inspect(data, { depth: 4, breakLength: Infinity });
  }
}

function makeLogger(sender: LogSender): TaskLogger {
  return {
    fatal: (message, data) => sender.log('fatal', message, data),
    error: (message, data) => sender.log('error', message, data),
    warning: (message, data) => sender.log('warning', message, data),
    info: (message, data) => sender.log('info', message, data),
    debug: (message, data) => sender.log('debug', message, data),
  };
}

export default async function runTask(request: RunRequest): Promise<RunResponse> {
  if (markStarted(request.logSlot, request.runId)) {
    parentPort?.postMessage({ type: MessageType.STARTED, uuid: request.uuid, runId: request.runId } satisfies StartedMessage);
  }
  const abort = new RunAbort();
  const early = earlyAborts.get(request.runId);
  if (early !== undefined) {
    earlyAborts.delete(request.runId);
    abort.abort(toAbortError(early));
  }
  runningAborts.set(request.runId, abort);
  const sender = new LogSender(request.uuid, request.maxLogs, request.logSlot);
  currentSender = sender;
  try {
    const runner = loadedRunner(request.moduleUrl, request.exportName) ?? (await loadRunner(request.moduleUrl, request.exportName));
    // Aborted while the module loaded: the runner never begins (it could not see an abort that already fired).
    abort.throwIfAborted();
    let logger: TaskLogger | null = null;
    const value = await runner({
      uuid: request.uuid,
      id: request.id,
      operation: request.operation,
      data: request.data,
      priority: request.priority,
      createdAt: request.createdAt,
      startedAt: request.startedAt,
      attempt: request.attempt,
      // Made when read, like the abort signal: most short runners never log. A runner may replace it, as any field.
      get logger() {
        return (logger ??= makeLogger(sender));
      },
      set logger(replacement: TaskLogger) {
        logger = replacement;
      },
      progress: (progress: unknown, message?: unknown) => sender.progress(progress, message),
      get abortSignal() {
        return abort.signal;
      },
    });
    let result: unknown;
    try {
      result = value === undefined ? null : copyJsonValue(value, 'result');
    } catch (error) {
      const message = error instanceof JsonValueError ? error.message : String(error);
      sender.finish();
      return {
        ok: false,
        code: 'ERR_RESULT_NOT_SERIALIZABLE',
        error: { name: 'TaskerError', code: 'ERR_RESULT_NOT_SERIALIZABLE', message: `The runner's result is not JSON-compatible: ${message}` },
        logsSent: sender.sent,
        logsDropped: sender.dropped,
        progressSent: sender.progressSent,
      };
    }
    sender.finish();
    return { ok: true, result, logsSent: sender.sent, logsDropped: sender.dropped, progressSent: sender.progressSent };
  } catch (error) {
    sender.finish();
    return {
      ok: false,
      code: error instanceof LoadError ? error.code : null,
      error: serializeError(error),
      logsSent: sender.sent,
      logsDropped: sender.dropped,
      progressSent: sender.progressSent,
    };
  } finally {
    runningAborts.delete(request.runId);
    sender.finish();
    if (currentSender === sender) currentSender = null;
  }
}
