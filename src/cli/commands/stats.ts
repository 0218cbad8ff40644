/** `tasker stats`: counts, the oldest queued task, run and wait time percentiles, logs. */
import type { TaskStatus } from '../../types.js';
import type { StatsArgs } from '../args.js';
import { fields, formatDate, formatDuration, table, toJson } from '../format.js';
import type { Output } from '../output.js';
import { readStore, type StoredTaskView } from '../reader.js';

const STATUSES: readonly TaskStatus[] = ['new', 'running', 'done', 'failed', 'aborted'];

export interface Percentiles {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface Stats {
  tasks: number;
  byStatus: Record<TaskStatus, number>;
  byOperation: Record<string, Record<TaskStatus, number> & { total: number }>;
  oldestNew: { uuid: string; operation: string; createdAt: Date; ageMs: number } | null;
  /** endedAt − startedAt of ended tasks that ran, in ms. */
  runTimeMs: Percentiles;
  /** startedAt − createdAt of tasks that started (running or ended), in ms. */
  waitTimeMs: Percentiles;
  logsStored: number;
  logsDropped: number;
}

export async function stats(args: StatsArgs, out: Output): Promise<number> {
  const { tasks } = await readStore(args.dir);
  const result = computeStats(tasks, Date.now());
  if (args.json) {
    out.line(toJson(result));
    return 0;
  }
  const { painter } = out;
  out.line(fields([
    ['tasks', String(result.tasks)],
    ...STATUSES.map((status) => [status, painter.status(status, String(result.byStatus[status]))] as const),
    ['oldest new', result.oldestNew === null ? '-' : `${result.oldestNew.uuid} (${result.oldestNew.operation}), created ${formatDate(result.oldestNew.createdAt)}, ${formatDuration(result.oldestNew.ageMs)} ago`],
    ['run time', percentiles(result.runTimeMs)],
    ['wait time', percentiles(result.waitTimeMs)],
    ['logs', `${result.logsStored} stored, ${result.logsDropped} dropped`],
  ], painter));
  const operations = Object.entries(result.byOperation);
  if (operations.length > 0) {
    out.line('');
    out.line(table(operations, [
      { header: 'OPERATION', value: ([operation]) => operation },
      { header: 'TOTAL', value: ([, counts]) => String(counts.total), align: 'right' },
      ...STATUSES.map((status) => ({
        header: status.toUpperCase(),
        value: ([, counts]: (typeof operations)[number]) => String(counts[status]),
        align: 'right' as const,
      })),
    ], painter));
  }
  return 0;
}

function percentiles({ count, p50, p90, p99 }: Percentiles): string {
  if (count === 0) return '-';
  return `p50 ${formatDuration(p50!)}, p90 ${formatDuration(p90!)}, p99 ${formatDuration(p99!)} (${count} tasks)`;
}

export function computeStats(tasks: readonly StoredTaskView[], now: number): Stats {
  const byStatus = emptyCounts();
  const byOperation: Stats['byOperation'] = {};
  let oldest: StoredTaskView | null = null;
  const runTimes: number[] = [];
  const waitTimes: number[] = [];
  let logsStored = 0;
  let logsDropped = 0;
  for (const task of tasks) {
    byStatus[task.status]++;
    const counts = (Object.hasOwn(byOperation, task.operation) ? byOperation[task.operation] : undefined) ?? { total: 0, ...emptyCounts() };
    Object.defineProperty(byOperation, task.operation, { value: counts, enumerable: true, writable: true, configurable: true });
    counts.total++;
    counts[task.status]++;
    if (task.status === 'new' && (oldest === null || task.createdAt < oldest.createdAt)) oldest = task;
    if (task.startedAt !== undefined) {
      waitTimes.push(task.startedAt.getTime() - task.createdAt.getTime());
      if (task.endedAt !== undefined && task.status !== 'new' && task.status !== 'running') {
        runTimes.push(task.endedAt.getTime() - task.startedAt.getTime());
      }
    }
    logsStored += task.logs.length;
    logsDropped += task.logsDropped ?? 0;
  }
  return {
    tasks: tasks.length,
    byStatus,
    byOperation,
    oldestNew: oldest === null ? null : { uuid: oldest.uuid, operation: oldest.operation, createdAt: oldest.createdAt, ageMs: now - oldest.createdAt.getTime() },
    runTimeMs: nearestRank(runTimes),
    waitTimeMs: nearestRank(waitTimes),
    logsStored,
    logsDropped,
  };
}

function emptyCounts(): Record<TaskStatus, number> {
  return { new: 0, running: 0, done: 0, failed: 0, aborted: 0 };
}

/** Nearest-rank percentiles: the smallest value with at least p% of the values at or below it. */
export function nearestRank(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number | null => (sorted.length === 0 ? null : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99) };
}
