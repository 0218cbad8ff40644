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
import { encodeJsonValue } from '../json-value.js';
import { compileQuery, type QueryTester } from '../query.js';
import type { ConcurrencyCondition } from '../types.js';
import { EqualityIndex, equalityOf, keysAt, type Equality } from './equality-index.js';
import { Heap } from './heap.js';
import { SortedList } from './sorted-list.js';

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
  /** The before-queued queries whose list holds this entry (null while none: most tasks have no conditions). */
  memberOf: Set<CompiledQuery> | null;
  /** Its primitive keys at each path of the task index, as filed there (null while the index has no path). */
  indexedKeys: Map<string, string[] | null> | null;
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
  equality: Equality | null;
  /** Used by before-queued keys: queued entries matching the query, in queue order. */
  queued: SortedList<EntryState> | null;
  /** The before-queued keys built on this query. */
  beforeQueuedKeys: Set<ConditionKey>;
  users: number;
}

export type NextResult = { entry: QueueEntry; error?: undefined } | { entry: QueueEntry; error: Error };

function before(a: { priority: number; seq: number }, b: { priority: number; seq: number }): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return a.seq < b.seq;
}

const stateBefore = (a: EntryState, b: EntryState): boolean => before(a.entry, b.entry);

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
  /** The queries that keep a list of queued matches (before-queued), indexed to find them by document. */
  readonly #listedQueries = new EqualityIndex<CompiledQuery>();
  readonly #unindexedListedQueries = new Set<CompiledQuery>();
  /** Queued entries by their primitive values at the paths listed queries are indexed on. */
  readonly #taskIndex = new EqualityIndex<EntryState>();
  /** `running`-scope keys, indexed to find those an ending task may free. */
  readonly #runningKeys = new EqualityIndex<ConditionKey>();
  readonly #unindexedRunningKeys = new Set<ConditionKey>();
  /**
   * Snapshots of running tasks' documents, taken when they start: conditions
   * count them as they were while running, even once the live document has
   * changed (status, endedAt, result).
   */
  readonly #running = new Map<string, object>();
  /** The key that woke the task `next()` just returned: it passes on the room left once that task runs. */
  #batonAfterStart: ConditionKey | null = null;

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
    const state: EntryState = {
      entry, where: 'ready', parkedUnder: null, wokenBy: null, version: 0, keys, memberOf: null, indexedKeys: null,
    };
    this.#states.set(entry.uuid, state);
    this.#indexTask(state);
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
    this.#indexTask(state);
    this.#insertInQueries(state);
    state.where = 'ready';
    this.#ready.push(state);
    // Moved behind others, it may no longer be the best of those its key could start: wake them to compete.
    if (wokenBy !== null) this.#wakeFrom(wokenBy);
    return true;
  }

  /**
   * Pops the best task whose conditions hold, parking the blocked ones met on
   * the way. Returns `null` when no queued task can start now. A condition
   * that throws returns the task with the error; it has left the queue.
   */
  next(): NextResult | null {
    // A task returned by the last call that was never marked running leaves its room to others.
    const pending = this.#batonAfterStart;
    this.#batonAfterStart = null;
    if (pending !== null) this.#wakeFrom(pending);
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
        // Any room it leaves is passed on once it counts as running (markRunning).
        this.#batonAfterStart = wokenBy;
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
    this.#running.set(uuid, { ...doc });
    const baton = this.#batonAfterStart;
    this.#batonAfterStart = null;
    if (baton !== null) this.#wakeFrom(baton);
  }

  /** A running task ended: wake what its `running`-scope slot was holding back. */
  markEnded(uuid: string): void {
    const doc = this.#running.get(uuid);
    if (doc === undefined) return;
    this.#running.delete(uuid);
    const seen = new Set<ConditionKey>();
    const consider = (key: ConditionKey): void => {
      if (seen.has(key)) return;
      seen.add(key);
      if (key.parked.live > 0 && safeTest(key.query, doc)) this.#wakeFrom(key);
    };
    for (const path of this.#runningKeys.paths) {
      for (const key of this.#runningKeys.lookup(path, keysAt(doc, path))) consider(key);
    }
    for (const key of this.#unindexedRunningKeys) consider(key);
  }

  /**
   * Wakes as many tasks parked under a `running`-scope key as it has room for
   * (`limit - running matches`). Tasks woken earlier and not yet evaluated are
   * not subtracted: they compete with the newly woken in priority order, and a
   * woken task that does not start re-parks. Waking more than can start is
   * only wasted work; waking fewer could strand a better task, so each woken
   * task also carries the key and passes the room on if it does not use it.
   */
  #wakeFrom(key: ConditionKey): void {
    if (key.scope !== 'running' || key.parked.live === 0) return;
    let running: number;
    try {
      running = this.#countRunning(key.query);
    } catch {
      running = 0; // the woken tasks meet the same error in next(), which fails them
    }
    let room = key.limit - running;
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
    return query.queued!.rank(state);
  }

  #wake(state: EntryState): void {
    state.where = 'ready';
    state.parkedUnder = null;
    this.#ready.push(state);
  }

  /** Adds the entry to the list of every before-queued query it matches. */
  #insertInQueries(state: EntryState): void {
    if (this.#listedQueries.empty && this.#unindexedListedQueries.size === 0) return;
    const seen = new Set<CompiledQuery>();
    const consider = (query: CompiledQuery): void => {
      if (seen.has(query)) return;
      seen.add(query);
      if (safeTest(query, state.entry.doc)) {
        query.queued!.insert(state);
        (state.memberOf ??= new Set()).add(query);
      }
    };
    for (const path of this.#listedQueries.paths) {
      for (const query of this.#listedQueries.lookup(path, keysAt(state.entry.doc, path))) consider(query);
    }
    for (const query of this.#unindexedListedQueries) consider(query);
  }

  #indexTask(state: EntryState): void {
    if (this.#taskIndex.empty) return;
    for (const path of this.#taskIndex.paths) {
      const keys = keysAt(state.entry.doc, path);
      (state.indexedKeys ??= new Map()).set(path, keys);
      this.#taskIndex.add(path, keys, state);
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
    if (state.indexedKeys !== null) {
      for (const [path, keys] of state.indexedKeys) this.#taskIndex.delete(path, keys, state);
      state.indexedKeys = null;
    }
    if (state.memberOf === null) return;
    const lists = [...state.memberOf];
    state.memberOf = null;
    for (const query of lists) {
      query.queued!.remove(state);
      for (const key of query.beforeQueuedKeys) {
        for (let waiting = key.parked.peekCurrent(); waiting !== undefined; waiting = key.parked.peekCurrent()) {
          if (this.#countAhead(query, waiting) >= key.limit) break;
          key.parked.popCurrent();
          this.#wake(waiting);
        }
      }
    }
  }

  /** Starts keeping the list of queued entries that match a query (for its before-queued keys). */
  #listQuery(query: CompiledQuery): void {
    const list = new SortedList<EntryState>(stateBefore);
    query.queued = list;
    let candidates: Iterable<EntryState> = this.#states.values();
    if (query.equality !== null) {
      const { path, key } = query.equality;
      if (!this.#taskIndex.hasPath(path)) {
        this.#taskIndex.addPath(path);
        for (const state of this.#states.values()) {
          const keys = keysAt(state.entry.doc, path);
          (state.indexedKeys ??= new Map()).set(path, keys);
          this.#taskIndex.add(path, keys, state);
        }
      }
      candidates = new Set(this.#taskIndex.lookup(path, [key]));
      this.#listedQueries.add(path, [key], query);
    } else {
      this.#unindexedListedQueries.add(query);
    }
    for (const state of candidates) {
      if (safeTest(query, state.entry.doc)) {
        list.insert(state);
        (state.memberOf ??= new Set()).add(query);
      }
    }
  }

  #unlistQuery(query: CompiledQuery): void {
    if (query.queued === null) return;
    for (const state of query.queued) state.memberOf?.delete(query);
    query.queued = null;
    if (query.equality !== null) this.#listedQueries.delete(query.equality.path, [query.equality.key], query);
    else this.#unindexedListedQueries.delete(query);
  }

  #acquireKey(condition: ConcurrencyCondition): ConditionKey {
    // The storage encoding keeps a Date distinct from its ISO string.
    const queryId = JSON.stringify(encodeJsonValue(condition.query));
    const id = `${condition.scope}|${condition.limit}|${queryId}`;
    let key = this.#keys.get(id);
    if (key === undefined) {
      let query = this.#queries.get(queryId);
      if (query === undefined) {
        query = {
          id: queryId,
          test: compileQuery(condition.query),
          equality: equalityOf(condition.query),
          queued: null,
          beforeQueuedKeys: new Set(),
          users: 0,
        };
        this.#queries.set(queryId, query);
      }
      query.users++;
      key = { id, scope: condition.scope, limit: condition.limit, query, parked: new LazyHeap(), users: 0 };
      if (condition.scope === 'before-queued') {
        if (query.queued === null) this.#listQuery(query);
        query.beforeQueuedKeys.add(key);
      } else if (query.equality !== null) {
        this.#runningKeys.add(query.equality.path, [query.equality.key], key);
      } else {
        this.#unindexedRunningKeys.add(key);
      }
      this.#keys.set(id, key);
    }
    key.users++;
    return key;
  }

  #releaseKey(key: ConditionKey): void {
    if (--key.users > 0) return;
    this.#keys.delete(key.id);
    const { query } = key;
    if (key.scope === 'running') {
      if (query.equality !== null) this.#runningKeys.delete(query.equality.path, [query.equality.key], key);
      else this.#unindexedRunningKeys.delete(key);
    } else {
      query.beforeQueuedKeys.delete(key);
      if (query.beforeQueuedKeys.size === 0) this.#unlistQuery(query);
    }
    if (--query.users === 0) this.#queries.delete(query.id);
  }
}

function safeTest(query: CompiledQuery, doc: object): boolean {
  try {
    return query.test(doc);
  } catch {
    return false;
  }
}

