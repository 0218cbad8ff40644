/**
 * Many deadlines on one timer: keys due at a time, kept in a heap, with a
 * single clock timer armed for the earliest. Used for tasks waiting for their
 * retry time and for queue timeouts. The timer runs only while the queue is
 * resumed (the tasker is started); deadlines that passed meanwhile fire on
 * resume.
 */
import type { Clock } from './clock.js';
import { MAX_TIMER_MS } from './options.js';
import { Heap } from './scheduler/heap.js';

interface Node<K> {
  key: K;
  at: number;
  version: number;
}

export class TimerQueue<K> {
  readonly #clock: Clock;
  readonly #onDue: (key: K) => void;
  // Equal times come out in the order they were scheduled.
  readonly #heap = new Heap<Node<K>>((a, b) => a.at < b.at || (a.at === b.at && a.version < b.version));
  /** The live deadline of each key; heap nodes with another version are stale. */
  readonly #live = new Map<K, { at: number; version: number }>();
  #version = 0;
  #timer: unknown = undefined;
  #timerAt = Infinity;
  #resumed = false;

  constructor(clock: Clock, onDue: (key: K) => void) {
    this.#clock = clock;
    this.#onDue = onDue;
  }

  get size(): number {
    return this.#live.size;
  }

  has(key: K): boolean {
    return this.#live.has(key);
  }

  /** The time `key` is due at, if scheduled. */
  dueAt(key: K): number | undefined {
    return this.#live.get(key)?.at;
  }

  schedule(key: K, at: number): void {
    const version = ++this.#version;
    this.#live.set(key, { at, version });
    this.#heap.push({ key, at, version });
    // Many cancelled deadlines would otherwise stay in the heap until they come due.
    if (this.#heap.size > 64 && this.#heap.size > 2 * this.#live.size) this.#heap.filter((node) => this.#isLive(node));
    this.#arm();
  }

  cancel(key: K): boolean {
    return this.#live.delete(key);
  }

  resume(): void {
    this.#resumed = true;
    this.#arm();
  }

  pause(): void {
    this.#resumed = false;
    this.#disarm();
  }

  /** Fires, now, the keys already due (while resumed): for callers that must not act on an overdue key first. */
  fireDue(): void {
    if (!this.#resumed) return;
    const next = this.#heap.peek();
    if (next === undefined || next.at > this.#clock.now()) return;
    this.#disarm();
    this.#fire();
  }

  #isLive(node: Node<K>): boolean {
    return this.#live.get(node.key)?.version === node.version;
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #arm(): void {
    if (!this.#resumed) return;
    while (this.#heap.size > 0 && !this.#isLive(this.#heap.peek()!)) this.#heap.pop();
    const next = this.#heap.peek();
    if (next === undefined) return this.#disarm();
    if (next.at === this.#timerAt && this.#timer !== undefined) return;
    this.#disarm();
    this.#timerAt = next.at;
    // A deadline further away than setTimeout allows is reached in steps.
    const wait = Math.min(Math.max(0, next.at - this.#clock.now()), MAX_TIMER_MS);
    this.#timer = this.#clock.setTimeout(() => this.#fire(), wait);
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    // One key at a time, looking again after each callback: a callback may cancel, reschedule or
    // (through fireDue) fire other keys, and pausing keeps the rest for the next resume.
    while (this.#resumed) {
      const node = this.#heap.peek();
      if (node === undefined || node.at > now) break;
      this.#heap.pop();
      if (!this.#isLive(node)) continue;
      this.#live.delete(node.key);
      this.#onDue(node.key);
    }
    this.#arm();
  }
}
