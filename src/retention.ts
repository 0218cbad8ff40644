/**
 * Retention of ended tasks: removes those older than their `maxAge` (from
 * `endedAt`) and those beyond the newest `maxCount` of their status.
 *
 * Cost: a sweep must not scan every task (a store may keep 100,000 ended
 * ones), so ended tasks are indexed as they end (and at load) in heaps: one by
 * expiry time, one per status with a `maxCount` by `endedAt`. A sweep pops
 * from the oldest end only: O(k log n) for k removals, O(1) when nothing is
 * due. Tasks no rule applies to are not indexed at all. Entries of tasks
 * removed by other paths are dropped lazily (marked dead, skipped when they
 * surface, the heaps rebuilt when dead entries outnumber live ones).
 *
 * Removal goes through the engine's `removeTasks`, so it is stored through the
 * committer and announced with `task.removed` like a `removeTasks` call.
 */
import type { Clock } from './clock.js';
import { isEnded } from './state-machine.js';
import type { RetentionPolicy } from './retention-options.js';
import { DEFAULT_RETENTION_INTERVAL_MS } from './retention-options.js';
import type { TaskRecord } from './registry.js';
import { Heap } from './scheduler/heap.js';
import type { TaskObserver } from './task-observer.js';
import type { EndedTaskStatus, EngineLogger } from './types.js';

interface Entry {
  record: TaskRecord;
  status: EndedTaskStatus;
  endedAt: number;
  /** endedAt + the task's maxAge, or Infinity when no maxAge applies. */
  expiresAt: number;
  live: boolean;
  /** How many heaps still hold this entry (for the dead-entry count). */
  slots: number;
}

interface StatusQueue {
  max: number;
  heap: Heap<Entry>;
  live: number;
}

/** At most this many removals per store round trip, so that a large backlog never stalls the event loop. */
export const RETENTION_BATCH = 4096;

const olderEnd = (a: Entry, b: Entry): boolean => a.endedAt < b.endedAt || (a.endedAt === b.endedAt && a.record.seq < b.record.seq);
const soonerExpiry = (a: Entry, b: Entry): boolean =>
  a.expiresAt < b.expiresAt || (a.expiresAt === b.expiresAt && a.record.seq < b.record.seq);

/** The index alone (no timers, no store): which ended tasks are due for removal. */
export class RetentionIndex {
  readonly #policy: RetentionPolicy | null;
  readonly #entries = new Map<string, Entry>();
  readonly #byExpiry = new Heap<Entry>(soonerExpiry);
  readonly #byStatus = new Map<EndedTaskStatus, StatusQueue>();
  /** Heap slots held by dead entries. */
  #dead = 0;

  constructor(policy: RetentionPolicy | null) {
    this.#policy = policy;
    for (const status of ['done', 'failed', 'aborted'] as const) {
      const max = policy?.maxCount[status] ?? null;
      if (max !== null) this.#byStatus.set(status, { max, heap: new Heap<Entry>(olderEnd), live: 0 });
    }
  }

  /** Indexed (live) tasks. */
  get size(): number {
    return this.#entries.size;
  }

  /** Heap slots in all, live and dead (to check that dead ones do not pile up). */
  get slots(): number {
    let slots = this.#byExpiry.size;
    for (const queue of this.#byStatus.values()) slots += queue.heap.size;
    return slots;
  }

  /** Indexes an ended task (again, if it was: the newer end wins). */
  add(record: TaskRecord): void {
    const { status, endedAt, uuid } = record.doc;
    if (!isEnded(status) || endedAt === undefined) return;
    this.forget(uuid);
    const maxAge = record.doc.retention?.maxAge ?? this.#policy?.maxAge ?? null;
    const queue = this.#byStatus.get(status as EndedTaskStatus);
    if (maxAge === null && queue === undefined) return;
    const at = endedAt.getTime();
    const entry: Entry = { record, status: status as EndedTaskStatus, endedAt: at, expiresAt: maxAge === null ? Infinity : at + maxAge, live: true, slots: 0 };
    this.#entries.set(uuid, entry);
    if (maxAge !== null) {
      this.#byExpiry.push(entry);
      entry.slots++;
    }
    if (queue !== undefined) {
      queue.heap.push(entry);
      queue.live++;
      entry.slots++;
    }
  }

  /** The task left the registry by another path: it no longer counts. */
  forget(uuid: string): void {
    const entry = this.#entries.get(uuid);
    if (entry !== undefined) this.#kill(entry);
  }

  /**
   * Takes out of the index, and returns, up to `limit` tasks due for removal
   * at `now`: expired ones first, then the oldest beyond each status's count.
   */
  takeDue(now: number, limit: number): TaskRecord[] {
    const out: TaskRecord[] = [];
    while (out.length < limit) {
      const top = this.#byExpiry.peek();
      if (top === undefined) break;
      if (top.live && top.expiresAt > now) break;
      this.#byExpiry.pop();
      this.#take(top, out);
    }
    for (const queue of this.#byStatus.values()) {
      while (out.length < limit && queue.live > queue.max) {
        const top = queue.heap.pop();
        if (top === undefined) break;
        this.#take(top, out);
      }
    }
    this.#compactIfNeeded();
    return out;
  }

  /** `entry` was just popped from one heap. */
  #take(entry: Entry, out: TaskRecord[]): void {
    entry.slots--;
    if (!entry.live) {
      this.#dead--;
      return;
    }
    this.#kill(entry);
    // Defensive: a task that is no longer the ended task we indexed is not ours to remove.
    const { doc } = entry.record;
    if (doc.status === entry.status && doc.endedAt?.getTime() === entry.endedAt) out.push(entry.record);
  }

  #kill(entry: Entry): void {
    entry.live = false;
    this.#entries.delete(entry.record.doc.uuid);
    this.#dead += entry.slots;
    // Every entry of a status with a count is in that status's queue.
    const queue = this.#byStatus.get(entry.status);
    if (queue !== undefined) queue.live--;
  }

  #compactIfNeeded(): void {
    if (this.#dead < 1024 || this.#dead < this.#entries.size) return;
    const live = (entry: Entry): boolean => entry.live;
    this.#byExpiry.filter(live);
    for (const queue of this.#byStatus.values()) queue.heap.filter(live);
    this.#dead = 0;
    for (const entry of this.#entries.values()) entry.slots = (entry.expiresAt === Infinity ? 0 : 1) + (this.#byStatus.has(entry.status) ? 1 : 0);
  }
}

export interface RetentionHost {
  clock: Clock;
  logger: EngineLogger | null;
  /** Removes these ended tasks (the engine's removeTasks): stored, then announced with task.removed. */
  remove(records: TaskRecord[]): Promise<unknown>;
}

/**
 * The sweeper: feeds the index from the engine's lifecycle calls and, while
 * started, sweeps at `start()` and then every `interval` (timers through the
 * injected clock, unref'd so that they never keep the process alive).
 */
export class Retention implements TaskObserver {
  readonly #index: RetentionIndex;
  readonly #host: RetentionHost;
  readonly #interval: number;
  readonly #hasPolicy: boolean;
  #started = false;
  #timer: unknown = null;
  #sweeping: Promise<void> | null = null;
  #again = false;

  constructor(policy: RetentionPolicy | null, host: RetentionHost) {
    this.#index = new RetentionIndex(policy);
    this.#host = host;
    this.#interval = policy?.interval ?? DEFAULT_RETENTION_INTERVAL_MS;
    this.#hasPolicy = policy !== null;
  }

  added(): void {}

  ended(record: TaskRecord): void {
    this.#index.add(record);
    this.#arm();
  }

  removed(record: TaskRecord): void {
    this.#index.forget(record.doc.uuid);
  }

  /** Sweeps once now, then every interval. */
  start(): void {
    this.#started = true;
    this.#arm();
    this.#sweep();
  }

  /** Clears the timer and resolves once a sweep in progress has stored its removals. */
  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer !== null) this.#host.clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#sweeping;
  }

  /** Asks for a sweep; one already running does another round instead of running twice at once. */
  #sweep(): void {
    this.#again = true;
    if (this.#sweeping !== null || !this.#started) return;
    this.#sweeping = this.#loop();
  }

  async #loop(): Promise<void> {
    await null; // #sweeping is set before the loop can end
    try {
      while (this.#again && this.#started) {
        this.#again = false;
        await this.#run();
      }
    } finally {
      // In the same synchronous step as the last check of #again: no request falls in between.
      this.#sweeping = null;
    }
  }

  async #run(): Promise<void> {
    while (this.#started) {
      const due = this.#index.takeDue(this.#host.clock.now(), RETENTION_BATCH);
      if (due.length === 0) return;
      try {
        await this.#host.remove(due);
      } catch (error) {
        this.#host.logger?.error('tasker: retention could not remove ended tasks', error);
        return;
      }
    }
  }

  /**
   * A timer only while started and while there is a policy or an indexed task
   * (a per-task maxAge). Re-armed when it fires, before the sweep, so that the
   * cadence is fixed; a sweep still running then is not doubled (see #sweep).
   */
  #arm(): void {
    if (!this.#started || this.#timer !== null) return;
    if (!this.#hasPolicy && this.#index.size === 0) return;
    const timer = this.#host.clock.setTimeout(() => {
      this.#timer = null;
      this.#arm();
      this.#sweep();
    }, this.#interval);
    // The system clock's handle is a Node Timeout: a pending sweep must not keep the process alive.
    (timer as { unref?: () => void } | null)?.unref?.();
    this.#timer = timer;
  }
}
