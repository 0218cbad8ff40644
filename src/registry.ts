/**
 * The tasks in memory: their documents and logs, and the read side of the
 * API (get, find, count). Everything handed out is a copy.
 */
import type { Projector } from './projection.js';
import { compareValues, makeComparator, type QueryTester } from './query.js';
import type { TaskDoc } from './store/task-store.js';
import { LOG_LEVELS, type LogEntry, type LogLevel, type Task, type TaskSort, type TaskStatus } from './types.js';

export interface TaskRecord {
  /** The live document; mutated only through the engine's transitions. */
  doc: TaskDoc;
  logs: LogEntry[];
  /** Insertion order, for FIFO among equal priorities. */
  seq: number;
}

export interface OutputOptions {
  withLogs?: boolean;
  logsMaxLevel?: LogLevel;
  /** Builds the copy instead of a whole clone (see src/projection.ts). */
  projection?: Projector;
}

const STATUS_RANK: Record<TaskStatus, number> = { new: 0, running: 1, done: 2, failed: 2, aborted: 2 };

/**
 * Default order of `findTasks`: queued tasks in run order, then running tasks
 * by start, then ended tasks by end (the original Tasker's default).
 */
function runOrder(a: TaskRecord, b: TaskRecord): number {
  const rank = STATUS_RANK[a.doc.status] - STATUS_RANK[b.doc.status];
  if (rank !== 0) return rank;
  switch (a.doc.status) {
    case 'new':
      return a.doc.priority !== b.doc.priority ? compareValues(b.doc.priority, a.doc.priority) : a.seq - b.seq;
    case 'running':
      return compareValues(a.doc.startedAt, b.doc.startedAt) || a.seq - b.seq;
    default:
      return compareValues(a.doc.endedAt, b.doc.endedAt) || a.seq - b.seq;
  }
}

export class Registry {
  readonly #tasks = new Map<string, TaskRecord>();

  get size(): number {
    return this.#tasks.size;
  }

  get(uuid: string): TaskRecord | undefined {
    return this.#tasks.get(uuid);
  }

  add(record: TaskRecord): void {
    this.#tasks.set(record.doc.uuid, record);
  }

  delete(uuid: string): void {
    this.#tasks.delete(uuid);
  }

  values(): IterableIterator<TaskRecord> {
    return this.#tasks.values();
  }

  filter(test: QueryTester): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const record of this.#tasks.values()) if (test(record.doc)) out.push(record);
    return out;
  }

  count(test: QueryTester): number {
    let count = 0;
    for (const record of this.#tasks.values()) if (test(record.doc)) count++;
    return count;
  }

  some(test: QueryTester): boolean {
    for (const record of this.#tasks.values()) if (test(record.doc)) return true;
    return false;
  }

  find(test: QueryTester, sort: TaskSort | undefined, skip: number, limit: number): TaskRecord[] {
    const matches = this.filter(test);
    if (sort === undefined) {
      matches.sort(runOrder);
    } else {
      const compare = makeComparator(sort);
      matches.sort((a, b) => compare(a.doc, b.doc) || a.seq - b.seq);
    }
    return matches.slice(skip, limit === Infinity ? undefined : skip + limit);
  }
}

/**
 * A copy of the task for the caller, with its logs when asked. With a
 * projection, only the fields it keeps are copied (the logs too: they are
 * selected only if it keeps them).
 */
export function toPublicTask(record: TaskRecord, options: OutputOptions = {}): Task {
  const maxLevel = options.logsMaxLevel ?? 'debug';
  if (options.projection !== undefined) {
    return options.projection(record.doc, options.withLogs === true ? () => selectLogs(record.logs, maxLevel) : undefined);
  }
  const task: Task = structuredClone(record.doc);
  if (options.withLogs === true) task.logs = filterLogs(record.logs, maxLevel);
  return task;
}

/** The entries up to `maxLevel`, as a copy. */
export function filterLogs(logs: readonly LogEntry[], maxLevel: LogLevel): LogEntry[] {
  return structuredClone(selectLogs(logs, maxLevel) as LogEntry[]);
}

/** The entries up to `maxLevel`, not copied: the live entries, for a caller that copies what it keeps. */
function selectLogs(logs: readonly LogEntry[], maxLevel: LogLevel): readonly LogEntry[] {
  const allowed = LOG_LEVELS.indexOf(maxLevel);
  return allowed === LOG_LEVELS.length - 1 ? logs : logs.filter((entry) => LOG_LEVELS.indexOf(entry.level) <= allowed);
}
