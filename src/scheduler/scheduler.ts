/**
 * The queue of runnable tasks and their concurrency conditions.
 *
 * Order: highest priority first, then FIFO (`seq`). `next()` pops the best
 * task whose conditions hold. A task whose condition fails is *parked* under
 * that condition and is not looked at again until something that condition
 * depends on changes:
 * - `running` scope: a running task matching the query ends. The parked tasks
 *   are then woken one room at a time (`limit - running matches`), and a woken
 *   task that does not take the room — it met another blocking condition, or
 *   left the queue — passes the room on to the next parked task.
 * - `before-queued` scope: a queued task matching the query leaves the queue
 *   (it started, was aborted, or moved); then the parked tasks whose count of
 *   matching tasks ahead fell below `limit` are woken, in order.
 * So a task is re-evaluated only when it may have become runnable, and
 * draining Q tasks costs O(Q log Q) plus those wake-ups, never O(Q²) passes.
 *
 * Why "ahead of it in the queue" can be counted from the queue itself: a task
 * is evaluated only when it is the best one left in the ready heap, so every
 * queued task ahead of it is parked, i.e. could not start.
 */
import type { ConcurrencyCondition } from '../types.js';
import { compileQuery, type QueryTester } from '../query.js';
import { Heap } from './heap.js';

export interface QueueEntry {
  readonly uuid: string;
  /** The live task document, read by condition queries. */
  readonly doc: object;
  priority: number;
  readonly seq: number;
  readonly conditions: readonly ConcurrencyCondition[];
}

interface EntryState {
  entry: QueueEntry;
  /** In the ready heap, in a condition's parked heap, or popped (held by `next()` or gone). */
  where: 'ready' | 'parked' | 'popped';
  parkedUnder: ConditionKey | null;
  /** The `running`-scope key whose freed room woke this entry; it passes the room on if it does not use it. */
  wokenBy: ConditionKey | null;
  /** Bumped whenever the entry moves; heap nodes with an older version are stale. */
  version: number;
  /** Condition keys (scope|limit|query) of this entry, in its condition order. */
  keys: ConditionKey[];
}

/** A heap node. It carries the order key it was pushed with, so that a later priority change cannot disturb the heap. */
interface Node {
  state: EntryState;
  version: number;
  priority: number;
  seq: number;
}

interface ConditionKey {
  id: string;
  scope: ConcurrencyCondition['scope'];
  limit: number;
  query: CompiledQuery;
  parked: LazyHeap;
  users: number;
}

interface CompiledQuery {
  id: string;
  test: QueryTester;
  /** Used by before-queued keys: queued entries matching the query, in queue order. */
  queued: EntryState[] | null;
  users: number;
}

export type NextResult = { entry: QueueEntry; error?: undefined } | { entry: QueueEntry; error: Error };

function before(a: { priority: number; seq: number }, b: { priority: number; seq: number }): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return a.seq < b.seq;
}

/** A heap of nodes where moved or removed entries leave stale nodes, compacted when they pile up. */
class LazyHeap {
  readonly heap = new Heap<Node>(before);
  live = 0;

  push(state: EntryState): void {
    this.heap.push({ state, version: state.version, priority: state.entry.priority, seq: state.entry.seq });
    this.live++;
  }

  /** Call when a node of this heap went stale without being popped. */
  dropped(): void {
    this.live--;
    if (this.heap.size > 64 && this.heap.size > 2 * this.live) this.heap.filter(isCurrent);
  }

  popCurrent(): EntryState | undefined {
    for (let node = this.heap.pop(); node !== undefined; node = this.heap.pop()) {
      if (isCurrent(node)) {
        this.live--;
        node.state.where = 'popped';
        node.state.parkedUnder = null;
        node.state.version++;
        return node.state;
      }
    }
    return undefined;
  }

  peekCurrent(): EntryState | undefined {
    for (let node = this.heap.peek(); node !== undefined; node = this.heap.peek()) {
      if (isCurrent(node)) return node.state;
      this.heap.pop();
    }
    return undefined;
  }
}

function isCurrent(node: Node): boolean {
  return node.version === node.state.version;
}

export class Scheduler {
  readonly #ready = new LazyHeap();
  readonly #states = new Map<string, EntryState>();
  readonly #keys = new Map<string, ConditionKey>();
  readonly #queries = new Map<string, CompiledQuery>();
  /** Documents of running tasks, for `running`-scope counts. */
  readonly #running = new Map<string, object>();

  /** Queued tasks that could start if a slot were free. */
  get readyCount(): number {
    return this.#ready.live;
  }

  /** Queued tasks in total (ready and parked). */
  get size(): number {
    return this.#states.size;
  }

  has(uuid: string): boolean {
    return this.#states.has(uuid);
  }

  enqueue(entry: QueueEntry): void {
    if (this.#states.has(entry.uuid)) throw new Error(`Task ${entry.uuid} is already queued`);
    const keys = entry.conditions.map((condition) => this.#acquireKey(condition));
    const state: EntryState = { entry, where: 'ready', parkedUnder: null, wokenBy: null, version: 0, keys };
    this.#states.set(entry.uuid, state);
    this.#insertInQueries(state);
    this.#ready.push(state);
  }

  /** Takes a task out of the queue (aborted, or removed). Returns false if it was not queued. */
  remove(uuid: string): boolean {
    const state = this.#states.get(uuid);
    if (state === undefined) return false;
    const wokenBy = state.wokenBy;
    this.#detach(state);
    for (const key of state.keys) this.#releaseKey(key);
    if (wokenBy !== null) this.#wakeFrom(wokenBy);
    return true;
  }

  /** Moves a queued task to its new place in the order; it is evaluated again. */
  reprioritize(uuid: string, priority: number): boolean {
    const state = this.#states.get(uuid);
    if (state === undefined) return false;
    const wokenBy = state.wokenBy;
    this.#detach(state);
    state.entry.priority = priority;
    state.wokenBy = wokenBy;
    this.#states.set(uuid, state);
    this.#insertInQueries(state);
    state.where = 'ready';
    this.#ready.push(state);
    return true;
  }

  /**
   * Pops the best task whose conditions hold, parking the blocked ones met on
   * the way. Returns `null` when no queued task can start now. A condition
   * that throws returns the task with the error; it has left the queue.
   */
  next(): NextResult | null {
    for (let state = this.#ready.popCurrent(); state !== undefined; state = this.#ready.popCurrent()) {
      const wokenBy = state.wokenBy;
      state.wokenBy = null;
      let blocking: ConditionKey | null;
      try {
        blocking = this.#firstBlocking(state);
      } catch (error) {
        this.remove(state.entry.uuid);
        if (wokenBy !== null) this.#wakeFrom(wokenBy);
        return { entry: state.entry, error: error as Error };
      }
      if (blocking === null) {
        this.remove(state.entry.uuid);
        // It takes one room of the key that woke it (if it matches); any room left goes on.
        if (wokenBy !== null) this.#wakeFrom(wokenBy, safeTest(wokenBy.query, state.entry.doc) ? 1 : 0);
        return { entry: state.entry };
      }
      state.where = 'parked';
      state.parkedUnder = blocking;
      blocking.parked.push(state);
      if (wokenBy !== null && wokenBy !== blocking) this.#wakeFrom(wokenBy);
    }
    return null;
  }

  markRunning(uuid: string, doc: object): void {
    this.#running.set(uuid, doc);
  }

  /** A running task ended: wake what its `running`-scope slot was holding back. */
  markEnded(uuid: string): void {
    const doc = this.#running.get(uuid);
    if (doc === undefined) return;
    this.#running.delete(uuid);
    for (const key of this.#keys.values()) {
      if (key.scope === 'running' && key.parked.live > 0 && safeTest(key.query, doc)) this.#wakeFrom(key);
    }
  }

  /**
   * Wakes as many tasks parked under a `running`-scope key as it has room for
   * (`limit - running matches - taken`). Waking more than can start is only
   * wasted work; waking fewer would strand tasks, so each woken task carries
   * the key and passes the room on if it does not use it.
   */
  #wakeFrom(key: ConditionKey, taken = 0): void {
    if (key.scope !== 'running' || key.parked.live === 0) return;
    let room = key.limit - this.#countRunning(key.query) - taken;
    while (room-- > 0) {
      const state = key.parked.popCurrent();
      if (state === undefined) return;
      state.wokenBy = key;
      this.#wake(state);
    }
  }

  #firstBlocking(state: EntryState): ConditionKey | null {
    for (const key of state.keys) {
      const count = key.scope === 'running' ? this.#countRunning(key.query) : this.#countAhead(key.query, state);
      if (count >= key.limit) return key;
    }
    return null;
  }

  #countRunning(query: CompiledQuery): number {
    let count = 0;
    for (const doc of this.#running.values()) if (query.test(doc)) count++;
    return count;
  }

  #countAhead(query: CompiledQuery, state: EntryState): number {
    return lowerBound(query.queued!, state.entry);
  }

  #wake(state: EntryState): void {
    state.where = 'ready';
    state.parkedUnder = null;
    this.#ready.push(state);
  }

  #insertInQueries(state: EntryState): void {
    for (const query of this.#queries.values()) {
      if (query.queued !== null && safeTest(query, state.entry.doc)) {
        query.queued.splice(lowerBound(query.queued, state.entry), 0, state);
      }
    }
  }

  /** Takes the entry out of every structure; wakes before-queued waiters it was holding back. */
  #detach(state: EntryState): void {
    this.#states.delete(state.entry.uuid);
    if (state.where === 'ready') this.#ready.dropped();
    else if (state.where === 'parked') state.parkedUnder?.parked.dropped();
    state.where = 'popped';
    state.parkedUnder = null;
    state.wokenBy = null;
    state.version++;
    for (const query of this.#queries.values()) {
      if (query.queued === null || !removeSorted(query.queued, state)) continue;
      for (const key of this.#keys.values()) {
        if (key.query !== query || key.scope !== 'before-queued') continue;
        for (let waiting = key.parked.peekCurrent(); waiting !== undefined; waiting = key.parked.peekCurrent()) {
          if (this.#countAhead(query, waiting) >= key.limit) break;
          key.parked.popCurrent();
          this.#wake(waiting);
        }
      }
    }
  }

  #acquireKey(condition: ConcurrencyCondition): ConditionKey {
    const queryId = JSON.stringify(condition.query);
    const id = `${condition.scope}|${condition.limit}|${queryId}`;
    let key = this.#keys.get(id);
    if (key === undefined) {
      let query = this.#queries.get(queryId);
      if (query === undefined) {
        query = { id: queryId, test: compileQuery(condition.query), queued: null, users: 0 };
        this.#queries.set(queryId, query);
      }
      query.users++;
      if (condition.scope === 'before-queued' && query.queued === null) {
        const list: EntryState[] = [];
        for (const state of this.#states.values()) if (safeTest(query, state.entry.doc)) list.push(state);
        list.sort((a, b) => (before(a.entry, b.entry) ? -1 : 1));
        query.queued = list;
      }
      key = { id, scope: condition.scope, limit: condition.limit, query, parked: new LazyHeap(), users: 0 };
      this.#keys.set(id, key);
    }
    key.users++;
    return key;
  }

  #releaseKey(key: ConditionKey): void {
    if (--key.users > 0) return;
    this.#keys.delete(key.id);
    if (--key.query.users === 0) this.#queries.delete(key.query.id);
  }
}

function safeTest(query: CompiledQuery, doc: object): boolean {
  try {
    return query.test(doc);
  } catch {
    return false;
  }
}

/** Index of the first entry of `list` that does not come before `entry`. */
function lowerBound(list: EntryState[], entry: QueueEntry): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (before(list[mid]!.entry, entry)) low = mid + 1;
    else high = mid;
  }
  return low;
}

function removeSorted(list: EntryState[], state: EntryState): boolean {
  const index = lowerBound(list, state.entry);
  if (list[index] === state) {
    list.splice(index, 1);
    return true;
  }
  const fallback = list.indexOf(state);
  if (fallback === -1) return false;
  list.splice(fallback, 1);
  return true;
}
