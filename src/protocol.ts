/**
 * The wire vocabulary between the main thread and the runner host in
 * `workers/`. Besides this module, the host uses only the main side's
 * value-level helpers (json-value, errors), never its state.
 *
 * - main → worker, per task: a `RunRequest`, through piscina.
 * - worker → main, per task: a `RunResponse`, through piscina.
 * - worker → main, start: a `StartedMessage` when the thread begins a task
 *   (a thread may still be starting when a task is dispatched): the run
 *   timeout starts then, and an abort sent before it is sent again. Sent only
 *   when the main thread asked for it (see RunState): a message per task would
 *   wake the main thread once more per task, for nothing in most runs.
 * - worker → main, logs: `LogBatchMessage`s on the worker's `parentPort`
 *   (piscina re-emits them as the pool's `message` event). Fire-and-forget,
 *   batched; the response says how many entries were sent so that the main
 *   thread records the end only after the last log has arrived.
 *   A batch may also carry the task's latest progress (`progress`), sent at
 *   most every PROGRESS_INTERVAL_MS and once more before the response; the
 *   response counts the batches that carried one, for the same reason.
 * - main → worker, aborts: `AbortMessage`s on a `BroadcastChannel` named per
 *   pool (`RunnerWorkerData`). Aborts are rare, so a broadcast costs nothing
 *   per task, unlike a MessageChannel created and transferred per task.
 */
import type { LogLevel } from './types.js';

export const MessageType = {
  STARTED: 'tasker:started',
  LOG_BATCH: 'tasker:logs',
  ABORT: 'tasker:abort',
} as const;

export interface RunRequest {
  uuid: string;
  /** Distinct for each run: a task runs again under the same uuid after a retry or a requeue. */
  runId: number;
  id: unknown;
  operation: string;
  data: unknown;
  priority: number;
  createdAt: Date;
  startedAt: Date;
  attempt: number;
  /** `file:` URL of the runner module. */
  moduleUrl: string;
  /** Export to call; `default` when absent. */
  exportName: string;
  /** Entries beyond this are counted, not sent. */
  maxLogs: number;
  /** This task's slot in the pool's `logCredit` and `runState` (see RunnerWorkerData). */
  logSlot: number;
}

/** Given to every thread of a pool as `workerData`. */
export interface RunnerWorkerData {
  /**
   * Name of the BroadcastChannel carrying `AbortMessage`s. The runner host
   * subscribes when the thread loads it, before the thread takes any task.
   */
  controlChannel: string;
  /**
   * Backpressure for logs: an Int32Array over shared memory, one slot per
   * running task, where the main thread counts the entries it has taken. A
   * worker does not run more than LOG_WINDOW entries ahead of it. One buffer
   * per pool, given once: creating shared memory per task costs far more than
   * a task.
   */
  logCredit: SharedArrayBuffer;
  /**
   * An Int32Array over shared memory, one word per slot like `logCredit`: the
   * state of the run in that slot (see RunState). Written by the main thread
   * when it dispatches the run, marked by the worker when it begins it.
   */
  runState: SharedArrayBuffer;
}

/**
 * The bits of a run's state word. The main thread stores the run's tag (see
 * `runTag`), with NOTIFY if it wants a `StartedMessage` (a run timeout to
 * start); the worker that begins the run sets STARTED and posts the message
 * only if NOTIFY was set. An abort that finds STARTED unset sets NOTIFY (both
 * with compare-and-swap, so exactly one side wins): the thread may not have
 * been listening yet, and the abort is sent again once it says it began. A
 * word whose tag is not the run's belongs to a later run: the worker leaves it.
 */
export const RunState = {
  TAG: 0x1fffffff,
  NOTIFY: 1 << 29,
  STARTED: 1 << 30,
} as const;

/** A run's tag in its state word: its run id folded into RunState.TAG, never 0. */
export function runTag(runId: number): number {
  return ((runId - 1) % RunState.TAG) + 1;
}

/** Log entries a worker may have sent that the main thread has not taken yet. */
export const LOG_WINDOW = 4096;

/** A runner's progress() calls in between are folded: only the latest value is sent, at most this often. */
export const PROGRESS_INTERVAL_MS = 100;

export interface StartedMessage {
  type: typeof MessageType.STARTED;
  uuid: string;
  /** The run it began: a late message of a task's earlier run must not mark its next one started. */
  runId: number;
}

export type RunResponse =
  | { ok: true; result: unknown; logsSent: number; logsDropped: number; progressSent: number }
  | { ok: false; error: unknown; code: string | null; logsSent: number; logsDropped: number; progressSent: number };

export interface WireLogEntry {
  level: LogLevel;
  message: string;
  data?: unknown;
  timestamp: Date;
}

/** What `ctx.progress()` was given, normalised (see progress-value.ts), and when. */
export interface WireProgress {
  ratio: number;
  done?: number;
  total?: number;
  message?: string;
  at: Date;
}

export interface LogBatchMessage {
  type: typeof MessageType.LOG_BATCH;
  uuid: string;
  /** May be empty when the batch carries only a progress. */
  entries: WireLogEntry[];
  progress?: WireProgress;
}

export interface AbortMessage {
  type: typeof MessageType.ABORT;
  uuid: string;
  /** The run it aborts; an abort must never reach a later run of the same task. */
  runId: number;
  reason: { name: string; message: string; code: string };
}

export function isLogBatchMessage(value: unknown): value is LogBatchMessage {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === MessageType.LOG_BATCH;
}

export function isStartedMessage(value: unknown): value is StartedMessage {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === MessageType.STARTED;
}

export function isAbortMessage(value: unknown): value is AbortMessage {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === MessageType.ABORT;
}

/**
 * An error as JSON: `name`, `message`, `stack`, and every other own property
 * (`code`, `cause`, custom fields) that is itself serializable. A thrown
 * non-Error is kept as it is when JSON-compatible, else as its string form.
 */
export function serializeError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return toJsonOrString(error);
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  if (typeof error.stack === 'string') out['stack'] = error.stack;
  for (const key of Object.getOwnPropertyNames(error)) {
    if (key === 'name' || key === 'message' || key === 'stack' || key === '__proto__') continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    if (key === 'cause' && depth < 5) {
      out[key] = serializeError(value, depth + 1);
      continue;
    }
    const json = toJsonOrUndefined(value);
    if (json !== undefined) out[key] = json;
  }
  return out;
}

function toJsonOrUndefined(value: unknown): unknown {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toJsonOrString(value: unknown): unknown {
  const json = toJsonOrUndefined(value);
  if (json !== undefined || value === undefined) return json ?? null;
  return String(value);
}
