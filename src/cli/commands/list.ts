/** `tasker list`: the tasks of a store, filtered, queried, sorted, limited. */
import { TaskerError } from '../../errors.js';
import { compareValues, makeComparator } from '../../query.js';
import type { TaskStatus } from '../../types.js';
import type { ListArgs } from '../args.js';
import { usageError } from '../errors.js';
import { formatDate, formatDuration, formatPriority, table, toJson, type Column } from '../format.js';
import type { Output } from '../output.js';
import { readStore, type StoredTaskView } from '../reader.js';

export async function list(args: ListArgs, out: Output): Promise<number> {
  const { tasks } = await readStore(args.dir);
  const statuses = new Set<string>(args.statuses);
  const operations = new Set(args.operations);
  let selected: StoredTaskView[];
  try {
    selected = tasks.filter(
      (task) =>
        (statuses.size === 0 || statuses.has(task.status)) &&
        (operations.size === 0 || operations.has(task.operation)) &&
        // The query sees the document without its logs, as findTasks does.
        (args.query === null || args.query(withoutLogs(task))),
    );
  } catch (error) {
    // An operator that fails only on evaluation (an unknown $type).
    if (error instanceof TaskerError) throw usageError(error.message, 'list');
    throw error;
  }
  const order = new Map(tasks.map((task, i) => [task, i]));
  const seq = (task: StoredTaskView): number => order.get(task)!;
  if (args.sort === null) {
    selected.sort((a, b) => runOrder(a, b) || seq(a) - seq(b));
  } else {
    const compare = makeComparator(args.sort);
    selected.sort((a, b) => compare(a, b) || seq(a) - seq(b));
  }
  if (args.limit !== null) selected = selected.slice(0, args.limit);

  if (args.json) {
    out.line(toJson(selected.map(withoutLogs)));
    return 0;
  }
  if (selected.length === 0) {
    out.line('No tasks.');
    return 0;
  }
  const { painter } = out;
  const now = Date.now();
  const columns: Column<StoredTaskView>[] = [
    { header: 'UUID', value: (task) => task.uuid },
    { header: 'OPERATION', value: (task) => task.operation },
    { header: 'STATUS', value: (task) => task.status, style: (task, padded) => painter.status(task.status, padded) },
    { header: 'PRIORITY', value: (task) => formatPriority(task.priority), align: 'right' },
    { header: 'CREATED', value: (task) => formatDate(task.createdAt) },
    { header: 'DURATION', value: (task) => formatDuration(duration(task, now)), align: 'right' },
    { header: 'LOGS', value: (task) => String(task.logs.length), align: 'right' },
    { header: 'ID', value: (task) => (task.id === undefined ? '' : JSON.stringify(task.id)) },
  ];
  out.line(table(selected, columns, painter));
  return 0;
}

/** Run time: ended − started, or so far for a running task. */
export function duration(task: StoredTaskView, now: number): number | undefined {
  if (task.startedAt === undefined) return undefined;
  if (task.endedAt !== undefined) return task.endedAt.getTime() - task.startedAt.getTime();
  return task.status === 'running' ? now - task.startedAt.getTime() : undefined;
}

export function withoutLogs(task: StoredTaskView): Omit<StoredTaskView, 'logs'> {
  const { logs: _logs, ...doc } = task;
  return doc;
}

const STATUS_RANK: Record<TaskStatus, number> = { new: 0, running: 1, done: 2, failed: 2, aborted: 2 };

/**
 * The library's default order of findTasks: queued tasks in run order
 * (priority, then queue time), then running tasks by start, then ended tasks by end.
 */
function runOrder(a: StoredTaskView, b: StoredTaskView): number {
  const rank = STATUS_RANK[a.status] - STATUS_RANK[b.status];
  if (rank !== 0) return rank;
  switch (a.status) {
    case 'new':
      return compareValues(b.priority, a.priority) || compareValues(a.queuedAt ?? a.createdAt, b.queuedAt ?? b.createdAt);
    case 'running':
      return compareValues(a.startedAt, b.startedAt);
    default:
      return compareValues(a.endedAt, b.endedAt);
  }
}
