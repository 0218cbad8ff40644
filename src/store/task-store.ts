/**
 * The persistence boundary. The registry keeps the live state in memory and
 * hands every change to a store as a record; a store makes changes durable in
 * the order it receives them. Stores are async so that other backends (a
 * journal, SQLite) can implement the same interface.
 */
import type { LogEntry, Task } from '../types.js';

/** A task as stored: the document without its logs. */
export type TaskDoc = Omit<Task, 'logs'>;

/** A task as a store loads it: its document and its log entries. */
export interface StoredTask {
  task: TaskDoc;
  logs: LogEntry[];
}

/** One change a store makes durable: a task document written, log entries appended, or a task removed. */
export type StoreChange =
  | { type: 'put'; task: TaskDoc }
  | { type: 'logs'; uuid: string; entries: LogEntry[] }
  | { type: 'remove'; uuid: string };

/** A live task as the engine holds it: read by a store, never changed. */
export interface LiveTask {
  readonly doc: TaskDoc;
  readonly logs: readonly LogEntry[];
}

/**
 * The engine's live state, which a store may read instead of keeping its own
 * copy of every task (see `TaskStore.attachState`).
 *
 * The contract: whenever the store calls `commit()` or `compact()` (once the
 * call's turn comes, after the earlier calls settled), the source reflects at
 * least every change of every `commit()` that has resolved: every task put
 * and not removed is among `tasks()`, with a document at least as new as its
 * last committed put, and its first `committedLogs()` entries are exactly the
 * entries committed. It may be ahead of the store: documents newer and tasks
 * removed by changes pushed but not committed yet, log entries past
 * `committedLogs()` that are on their way to `commit()`.
 */
export interface StoreStateSource {
  /** Every live task, in no particular order. */
  tasks(): Iterable<LiveTask>;
  /** How many of the task's first log entries went through a `commit()` that resolved; the rest are still to be committed. */
  committedLogs(task: LiveTask): number;
}

/** The interface a custom store implements (`new Tasker({ store })`); see README → Custom stores. */
export interface TaskStore {
  /** Reads every stored task. Rejects with `ERR_STORE_CORRUPT` on an unreadable file. */
  load(): Promise<StoredTask[]>;
  /** Makes a batch of changes durable, in order; resolves once they are. */
  commit(changes: readonly StoreChange[]): Promise<void>;
  /** Releases files, handles and locks. The store is not used afterwards. */
  close(): Promise<void>;
  /** Optional: rewrites the store compactly (called by `stop()` and `close()`, never during a commit). */
  compact?(): Promise<void>;
  /**
   * Optional: called once, after `load()` resolved and before the first
   * `commit()`, with the engine's live state (see `StoreStateSource` for what
   * it guarantees). A store can then write compact copies of the whole state
   * from it instead of keeping one of its own.
   */
  attachState?(source: StoreStateSource): void;
}
