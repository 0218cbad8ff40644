/**
 * The async iterable returned by `listenTaskLogs` and `listenTaskProgress`.
 * It buffers every value it is given until the consumer takes it (a slow
 * consumer loses nothing) or, with `latestOnly`, only the latest one (a slow
 * consumer skips to the current value, and nothing piles up). It ends when
 * the task ends or the caller's signal fires, and never yields a trailing
 * `undefined`.
 */
export class AsyncStream<T> implements AsyncIterableIterator<T> {
  #buffer: T[] = [];
  #head = 0;
  #done = false;
  #error: unknown = undefined;
  #waiter: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | null = null;
  readonly #onClose: Array<() => void> = [];
  readonly #latestOnly: boolean;

  constructor(options: { latestOnly?: boolean } = {}) {
    this.#latestOnly = options.latestOnly === true;
  }

  /** Runs once when the stream ends for any reason (unsubscribe, listener removal). */
  onClose(callback: () => void): void {
    if (this.#done) callback();
    else this.#onClose.push(callback);
  }

  get closed(): boolean {
    return this.#done;
  }

  push(value: T): void {
    if (this.#done) return;
    if (this.#waiter !== null) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter.resolve({ value, done: false });
    } else if (this.#latestOnly) {
      this.#buffer = [value];
      this.#head = 0;
    } else {
      this.#buffer.push(value);
    }
  }

  /** No more entries will come; buffered ones are still yielded. */
  end(): void {
    if (this.#done) return;
    this.#done = true;
    for (const callback of this.#onClose.splice(0)) callback();
    if (this.#waiter !== null && this.#head >= this.#buffer.length) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter.resolve({ value: undefined, done: true });
    }
  }

  fail(error: unknown): void {
    if (this.#done) return;
    this.#buffer = [];
    this.#head = 0;
    if (this.#waiter !== null) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter.reject(error);
    } else {
      this.#error = error;
    }
    this.end();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#head < this.#buffer.length) {
      const value = this.#buffer[this.#head++]!;
      if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
        this.#buffer = this.#buffer.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#error !== undefined) {
      const error = this.#error;
      this.#error = undefined;
      return Promise.reject(error);
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Called by `break` in a `for await` loop: stop listening. */
  return(): Promise<IteratorResult<T>> {
    this.#buffer = [];
    this.#head = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * The live streams of each task: a stream joins its task's set, leaves it
 * when it closes, and ends when the caller's signal fires; the task's end
 * ends them all.
 */
export class TaskStreams<T> {
  readonly #byTask = new Map<string, Set<AsyncStream<T>>>();

  add(uuid: string, stream: AsyncStream<T>, abortSignal: AbortSignal | undefined): void {
    let streams = this.#byTask.get(uuid);
    if (streams === undefined) this.#byTask.set(uuid, (streams = new Set()));
    streams.add(stream);
    stream.onClose(() => {
      const set = this.#byTask.get(uuid);
      set?.delete(stream);
      if (set?.size === 0) this.#byTask.delete(uuid);
    });
    if (abortSignal !== undefined) {
      const onAbort = (): void => stream.end();
      abortSignal.addEventListener('abort', onAbort, { once: true });
      stream.onClose(() => abortSignal.removeEventListener('abort', onAbort));
    }
  }

  /** Gives each of the task's streams its own copy of each value. */
  push(uuid: string, values: readonly T[], copy: (value: T) => T): void {
    const streams = this.#byTask.get(uuid);
    if (streams !== undefined) for (const stream of streams) for (const value of values) stream.push(copy(value));
  }

  end(uuid: string): void {
    const streams = this.#byTask.get(uuid);
    if (streams !== undefined) for (const stream of [...streams]) stream.end();
  }
}
