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
}
