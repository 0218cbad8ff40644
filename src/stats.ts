/**
 * `getStats()`: task counts kept at each change (so reading them costs O(1),
 * not a scan of every task), and histograms of the runs since this tasker was
 * created. Fed by the engine at a few points: as a task observer (added,
 * removed), at each transition, and where log entries are dropped.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { TaskRecord } from './registry.js';
import type { TaskDoc } from './store/task-store.js';
import type { TaskObserver } from './task-observer.js';
import type { TaskStatus } from './types.js';

/**
 * A summary of durations in milliseconds, with the fields (and the
 * microsecond resolution) of piscina's `waitTime`/`runTime`, plus `count`.
 * All zeros while `count` is 0.
 */
export interface HistogramSummary {
  count: number;
  average: number;
  mean: number;
  stddev: number;
  min: number;
  max: number;
  p0_001: number;
  p0_01: number;
  p0_1: number;
  p1: number;
  p2_5: number;
  p10: number;
  p25: number;
  p50: number;
  p75: number;
  p90: number;
  p97_5: number;
  p99: number;
  p99_9: number;
  p99_99: number;
  p99_999: number;
}

/** What `getStats()` returns: counts kept at each transition, and this process's wait and run time histograms. */
export interface TaskerStats {
  /** Tasks in the tasker (loaded or added, not removed), by status. */
  tasks: Record<TaskStatus, number>;
  /** Per operation with any: `new` tasks (`waiting`) and `running` ones. */
  byOperation: Record<string, { waiting: number; running: number }>;
  /** From entering the queue (`queuedAt`, else `createdAt`) to the start, of each run started since the tasker was created. */
  waitTime: HistogramSummary;
  /** From the start to the end of each run (ended, retried or requeued) started since the tasker was created. */
  runTime: HistogramSummary;
  /** Log entries dropped by the `maxLogs` cap since the tasker was created. */
  logsDropped: number;
  /** Failed or timed-out runs retried (`task.retry`) since the tasker was created. */
  retries: number;
}

const PERCENTILES = [
  ['p0_001', 0.001], ['p0_01', 0.01], ['p0_1', 0.1], ['p1', 1], ['p2_5', 2.5], ['p10', 10], ['p25', 25], ['p50', 50],
  ['p75', 75], ['p90', 90], ['p97_5', 97.5], ['p99', 99], ['p99_9', 99.9], ['p99_99', 99.99], ['p99_999', 99.999],
] as const;

export class Stats implements TaskObserver {
  readonly #tasks: Record<TaskStatus, number> = { new: 0, running: 0, done: 0, failed: 0, aborted: 0 };
  readonly #byOperation = new Map<string, { waiting: number; running: number }>();
  // Microseconds, as piscina records them (a histogram holds integers >= 1).
  readonly #waitTime: RecordableHistogram = createHistogram();
  readonly #runTime: RecordableHistogram = createHistogram();
  /** Start times of the runs this tasker started: a run found `running` at load began in another process. */
  readonly #runStarts = new Map<string, number>();
  #logsDropped = 0;
  #retries = 0;

  added(record: TaskRecord): void {
    this.#count(record.doc.operation, record.doc.status, 1);
  }

  ended(): void {}

  removed(record: TaskRecord): void {
    this.#count(record.doc.operation, record.doc.status, -1);
  }

  /** After the engine changed the task's status from `from` (the doc holds the new status and fields). */
  transitioned(doc: TaskDoc, from: TaskStatus): void {
    this.#count(doc.operation, from, -1);
    this.#count(doc.operation, doc.status, 1);
    if (doc.status === 'running' && doc.startedAt !== undefined) {
      const start = doc.startedAt.getTime();
      this.#runStarts.set(doc.uuid, start);
      record(this.#waitTime, start - (doc.queuedAt ?? doc.createdAt).getTime());
    }
    if (from !== 'running') return;
    const start = this.#runStarts.get(doc.uuid);
    this.#runStarts.delete(doc.uuid);
    // Back to `new`, the run is the last attempt (its start and end); ended, the task's own.
    const last = doc.status === 'new' ? doc.attempts?.at(-1) : undefined;
    if (last !== undefined && (last.outcome === 'failed' || last.outcome === 'aborted')) this.#retries++;
    const end = doc.status === 'new' ? last?.endedAt : doc.endedAt;
    if (start !== undefined && end !== undefined) record(this.#runTime, end.getTime() - start);
  }

  logsDropped(count: number): void {
    this.#logsDropped += count;
  }

  snapshot(): TaskerStats {
    return {
      tasks: { ...this.#tasks },
      byOperation: Object.fromEntries([...this.#byOperation].map(([operation, counts]) => [operation, { ...counts }])),
      waitTime: summarize(this.#waitTime),
      runTime: summarize(this.#runTime),
      logsDropped: this.#logsDropped,
      retries: this.#retries,
    };
  }

  #count(operation: string, status: TaskStatus, delta: 1 | -1): void {
    this.#tasks[status] += delta;
    if (status !== 'new' && status !== 'running') return;
    let counts = this.#byOperation.get(operation);
    if (counts === undefined) this.#byOperation.set(operation, (counts = { waiting: 0, running: 0 }));
    if (status === 'new') counts.waiting += delta;
    else counts.running += delta;
    // Operations come and go: one with nothing waiting or running leaves the map.
    if (counts.waiting === 0 && counts.running === 0) this.#byOperation.delete(operation);
  }
}

/** Milliseconds to whole microseconds, at least 1 (a histogram's lowest value), as piscina does. */
function record(histogram: RecordableHistogram, ms: number): void {
  histogram.record(Math.max(1, Math.trunc(ms * 1000)));
}

function summarize(histogram: RecordableHistogram): HistogramSummary {
  const count = histogram.count;
  const ms = (us: number): number => (count === 0 ? 0 : us / 1000);
  const summary: HistogramSummary = {
    count,
    average: ms(histogram.mean),
    mean: ms(histogram.mean),
    stddev: ms(histogram.stddev),
    min: ms(histogram.min),
    max: ms(histogram.max),
  } as HistogramSummary;
  for (const [name, percentile] of PERCENTILES) summary[name] = ms(histogram.percentile(percentile));
  return summary;
}
