/**
 * Group commit in front of a store. Changes pushed in one tick, or while a
 * commit is in flight, go to the store as one batch; each change's callback
 * (its events) runs after its batch is durable, in push order. A batch holds
 * at most MAX_BATCH_WEIGHT changes and log entries: a flood (a runner logging
 * as fast as it can) is written as a train of bounded batches, so that no
 * single write encodes hundreds of thousands of lines in one go.
 *
 * A change pushed as `deferrable` (a task marked running) does not start a
 * write of its own: it waits, in its place among the others, for the next
 * write that another change starts, or at most `deferMs`. With a durable
 * store a task's start then shares its fdatasync with whatever comes next (for
 * a short task, its end) instead of costing one of its own.
 */
import { describeError } from '../describe.js';
import { ErrorCodes, TaskerError } from '../errors.js';
import type { StoreChange, TaskStore } from './task-store.js';

const MAX_BATCH_WEIGHT = 8192;
/** How long a batch's callbacks (its events, the scheduling of its adds) may hold the thread before it yields. */
const CALLBACK_SLICE_MS = 1;

interface PushRecord {
  afterCommit: ((error: TaskerError | null) => void) | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Pending {
  weight: number;
  /** Holds a change that starts a write (not only deferrable ones). */
  urgent: boolean;
  /** Where each task's document is in `changes`: a later put of it replaces that one (see push). */
  puts: Map<string, number>;
  changes: StoreChange[];
  /** One per push, in push order: its callback, and its promise's settlers. */
  pushes: PushRecord[];
  /** A barrier (see `exclusive`): run instead of a commit, alone. */
  work?: () => Promise<void>;
}

export class Committer {
  readonly #store: TaskStore;
  readonly #onError: (error: TaskerError) => void;
  /** Batches waiting to be written, oldest first; only the last one takes new changes. */
  readonly #pending: Pending[] = [];
  #inFlight: Promise<void> | null = null;
  #scheduled = false;
  /** Real time (not the tasks' clock): it bounds I/O batching, and a test's fake clock must not hold a write. */
  #deferTimer: NodeJS.Timeout | null = null;

  readonly #onCallbackError: (error: unknown) => void;
  readonly #deferMs: number;

  /** `deferMs`: how long a deferrable change may wait for a write (0: it starts one like any other). */
  constructor(store: TaskStore, onError: (error: TaskerError) => void, onCallbackError: (error: unknown) => void = () => {}, deferMs = 0) {
    this.#store = store;
    this.#onError = onError;
    this.#onCallbackError = onCallbackError;
    this.#deferMs = deferMs;
  }

  /**
   * Queues a change; `afterCommit` runs once it is durable, or with the error
   * if the write failed. A `deferrable` change rides with the next write
   * rather than starting one (see above).
   */
  push(change: StoreChange | null, afterCommit?: (error: TaskerError | null) => void, deferrable = false): Promise<void> {
    let pending = this.#pending[this.#pending.length - 1];
    if (pending === undefined || pending.weight >= MAX_BATCH_WEIGHT || pending.work !== undefined) {
      pending = { weight: 0, urgent: false, puts: new Map(), changes: [], pushes: [] };
      this.#pending.push(pending);
    }
    if (change !== null) this.#add(pending, change);
    if (!deferrable || this.#deferMs === 0) pending.urgent = true;
    const done = new Promise<void>((resolve, reject) => pending.pushes.push({ afterCommit, resolve, reject }));
    this.#schedule();
    return done;
  }

  /**
   * A put is a whole document, so a second put of a task in a batch not yet
   * written replaces the first in its place, unless the task's logs or removal
   * came in between: a task started and ended between two writes (a short
   * task, its start deferred) is encoded and written once. Another task's
   * changes may then be ordered before it although pushed after its first put;
   * each task's own changes keep their order, which is all that loading (and
   * `tasker logs --follow`) depends on.
   */
  #add(pending: Pending, change: StoreChange): void {
    if (change.type === 'put') {
      const index = pending.puts.get(change.task.uuid);
      if (index !== undefined) {
        pending.changes[index] = change;
        return;
      }
      pending.puts.set(change.task.uuid, pending.changes.length);
    } else {
      pending.puts.delete(change.uuid);
    }
    pending.changes.push(change);
    pending.weight += change.type === 'logs' ? change.entries.length : 1;
  }

  /**
   * Runs `work` (a store compaction) once every batch pushed before it is
   * written and its callbacks have run, and before any batch pushed after it
   * is handed to the store: the store's `compact()` then sees the live state
   * its StoreStateSource contract promises.
   */
  exclusive(work: () => Promise<void>): Promise<void> {
    const barrier: Pending = { weight: 0, urgent: true, puts: new Map(), changes: [], pushes: [], work };
    this.#pending.push(barrier);
    const done = new Promise<void>((resolve, reject) => barrier.pushes.push({ afterCommit: undefined, resolve, reject }));
    this.#schedule();
    return done;
  }

  /** Resolves once everything pushed so far is durable. */
  flush(): Promise<void> {
    if (this.#pending.length === 0 && this.#inFlight === null) return Promise.resolve();
    return this.push(null).catch(() => {});
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight !== null) return;
    if (!this.#pending.some((batch) => batch.urgent)) {
      // Only deferrable changes: wait for another change, or for deferMs at most.
      this.#deferTimer ??= setTimeout(() => {
        this.#deferTimer = null;
        for (const batch of this.#pending) batch.urgent = true;
        this.#schedule();
      }, this.#deferMs); // not unref'd: a process must not exit with a change unwritten
      return;
    }
    if (this.#deferTimer !== null) {
      clearTimeout(this.#deferTimer);
      this.#deferTimer = null;
    }
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#writeNext();
    });
  }

  #writeNext(): void {
    if (this.#inFlight !== null) return;
    const batch = this.#pending.shift();
    if (batch === undefined) return;
    let write: Promise<void>;
    try {
      write = batch.work !== undefined ? batch.work()
        : batch.changes.length === 0 ? Promise.resolve() : Promise.resolve(this.#store.commit(batch.changes));
    } catch (error) {
      // A store that throws instead of rejecting must not take the process down.
      write = Promise.reject(error);
    }
    this.#inFlight = write.then(
      () => this.#finish(batch, null),
      (error: unknown) => this.#finish(batch, error),
    );
  }

  #finish(batch: Pending, error: unknown): void {
    if (batch.work !== undefined) {
      // Not a write: its caller reports its failure.
      this.#runCallbacks(batch, error, 0);
      return;
    }
    let failure: TaskerError | null = null;
    if (error !== null) {
      failure = error instanceof TaskerError ? error
        : new TaskerError(ErrorCodes.STORE_WRITE_FAILED, `The store could not write: ${describeError(error)}`, { cause: error });
      this.#onError(failure);
    }
    this.#runCallbacks(batch, failure, 0);
  }

  /**
   * Runs a batch's callbacks in push order, each push's promise settling
   * right after its callback, in slices of CALLBACK_SLICE_MS with a turn of
   * the event loop between them: thousands of adds committed at once would
   * otherwise keep the thread from hearing the worker threads (which then
   * idle) until the last one is announced, and the callers' continuations
   * (which run when a slice ends) would all come at once after it. The batch
   * counts as in flight until its last callback ran, so batches are announced
   * in order.
   */
  #runCallbacks(batch: Pending, error: unknown, from: number): void {
    const { pushes } = batch;
    const deadline = performance.now() + CALLBACK_SLICE_MS;
    for (let i = from; i < pushes.length; i++) {
      const push = pushes[i]!;
      if (push.afterCommit !== undefined) {
        // One callback that throws must not keep the rest of its batch from settling.
        try {
          push.afterCommit(error as TaskerError | null);
        } catch (callbackError) {
          this.#onCallbackError(callbackError);
        }
      }
      if (error === null) push.resolve();
      else push.reject(error);
      if ((i & 15) === 15 && i + 1 < pushes.length && performance.now() > deadline) {
        setImmediate(() => this.#runCallbacks(batch, error, i + 1));
        return;
      }
    }
    // The batch is done: the next one may be written.
    this.#inFlight = null;
    if (this.#pending.length > 0) this.#schedule();
  }
}
