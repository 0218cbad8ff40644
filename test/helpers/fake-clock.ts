import type { Clock } from 'tasker';

/** A manual clock: time moves only through `advance`, which fires due timers in order. */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let dueId: number | undefined;
      let due: { at: number; callback: () => void } | undefined;
      for (const [id, timer] of this.#timers) {
        if (timer.at <= target && (due === undefined || timer.at < due.at)) {
          dueId = id;
          due = timer;
        }
      }
      if (due === undefined || dueId === undefined) break;
      this.#timers.delete(dueId);
      this.#now = due.at;
      due.callback();
    }
    this.#now = target;
  }
}

/** A FakeClock that records the delay of every timer it is asked for, and announces the next one. */
export class RecordingClock extends FakeClock {
  readonly requested: number[] = [];
  #waiters: Array<(ms: number) => void> = [];

  override setTimeout(callback: () => void, ms: number): unknown {
    this.requested.push(ms);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter(ms);
    return super.setTimeout(callback, ms);
  }

  /** Resolves with the delay of the next timer set. */
  nextTimer(): Promise<number> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
