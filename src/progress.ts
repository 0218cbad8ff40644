/**
 * Progress on the main thread: each update reported by a running task is
 * applied to its document at once (read by getTask, yielded to its progress
 * streams, evented), but stored at most every PERSIST_INTERVAL_MS per task,
 * so that a progress-heavy task does not cost a store write (an fsync) per
 * update. An update held back is stored by a timer, or sooner with the task's
 * next stored change (its end, a retry), which carries the whole document.
 */
import { TaskStreams, type AsyncStream } from './async-stream.js';
import type { Clock } from './clock.js';
import type { WireProgress } from './protocol.js';
import type { Progress } from './types.js';

export const PERSIST_INTERVAL_MS = 1000;

interface Persisted {
  /** When the task's progress was last stored (clock time). */
  at: number;
  timer: unknown;
}

export class ProgressTracker {
  readonly #clock: Clock;
  /** Stores the task's document as it is now, if it is still running. */
  readonly #persist: (uuid: string) => void;
  readonly #persisted = new Map<string, Persisted>();
  readonly #streams = new TaskStreams<Progress>();

  constructor(clock: Clock, persist: (uuid: string) => void) {
    this.#clock = clock;
    this.#persist = persist;
  }

  /**
   * A running task reported `wire`: returns the progress to set on its
   * document, and whether to store the document now (else a timer will).
   */
  update(uuid: string, wire: WireProgress): { progress: Progress; storeNow: boolean } {
    const progress = toProgress(wire);
    this.#streams.push(uuid, [progress], copyProgress);
    const now = this.#clock.now();
    const state = this.#persisted.get(uuid);
    if (state === undefined || now - state.at >= PERSIST_INTERVAL_MS) {
      if (state?.timer !== undefined) this.#clock.clearTimeout(state.timer);
      this.#persisted.set(uuid, { at: now, timer: undefined });
      return { progress, storeNow: true };
    }
    if (state.timer === undefined) {
      state.timer = this.#clock.setTimeout(() => {
        state.timer = undefined;
        state.at = this.#clock.now();
        this.#persist(uuid);
      }, state.at + PERSIST_INTERVAL_MS - now);
    }
    return { progress, storeNow: false };
  }

  /** The task left `running`: its transition stores the document, progress included; nothing stays scheduled. */
  runEnded(uuid: string): void {
    const state = this.#persisted.get(uuid);
    if (state?.timer !== undefined) this.#clock.clearTimeout(state.timer);
    this.#persisted.delete(uuid);
  }

  /** Follows a task that has not ended; `current` is yielded first. */
  listen(uuid: string, current: Progress | undefined, stream: AsyncStream<Progress>, abortSignal: AbortSignal | undefined): void {
    if (current !== undefined) stream.push(copyProgress(current));
    this.#streams.add(uuid, stream, abortSignal);
  }

  /** The task's end is stored and announced: its streams end. */
  taskEnded(uuid: string): void {
    this.#streams.end(uuid);
  }
}

export function copyProgress(progress: Progress): Progress {
  return { ...progress, at: new Date(progress.at.getTime()) };
}

/** Only the known fields, whatever else a batch carried. */
function toProgress(wire: WireProgress): Progress {
  const progress: Progress = { ratio: wire.ratio, at: new Date(wire.at.getTime()) };
  if (wire.done !== undefined) progress.done = wire.done;
  if (wire.total !== undefined) progress.total = wire.total;
  if (wire.message !== undefined) progress.message = wire.message;
  return progress;
}
