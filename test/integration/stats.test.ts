import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import { Tasker, type HistogramSummary, type Task } from 'tasker';
import { nextEvent } from '../helpers/events.js';
import { runner } from '../helpers/fixtures.js';
import { writeStoreFiles } from '../helpers/store-files.js';
import { tempDir } from '../helpers/tasker.js';

const T = { timeout: 20_000 };

const HISTOGRAM_FIELDS = [
  'count', 'average', 'mean', 'stddev', 'min', 'max', 'p0_001', 'p0_01', 'p0_1', 'p1', 'p2_5', 'p10', 'p25', 'p50',
  'p75', 'p90', 'p97_5', 'p99', 'p99_9', 'p99_99', 'p99_999',
];

function release(channelName: string): void {
  const channel = new BroadcastChannel(channelName);
  channel.postMessage('release');
  channel.close();
}

/** Recorded in whole µs (at least 1), kept with 3 significant digits: equal within that. */
function approx(actual: number, expected: number, label: string): void {
  const tolerance = 0.0011 + Math.abs(expected) * 0.001;
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label}: ${actual} ≈ ${expected}`);
}

function checkHistogram(summary: HistogramSummary, values: number[], label: string): void {
  assert.deepEqual(Object.keys(summary).sort(), [...HISTOGRAM_FIELDS].sort(), `${label}: piscina's fields and count`);
  assert.equal(summary.count, values.length, `${label}: count`);
  approx(summary.min, Math.min(...values), `${label}: min`);
  approx(summary.max, Math.max(...values), `${label}: max`);
  approx(summary.mean, values.reduce((a, b) => a + b, 0) / values.length, `${label}: mean`);
  assert.equal(summary.average, summary.mean);
  assert.ok(summary.min <= summary.p50 && summary.p50 <= summary.p90 && summary.p90 <= summary.p99 && summary.p99 <= summary.max, `${label}: percentiles in order`);
}

/** The wait and run times of every run of the tasks, from their stored timestamps. */
function runTimes(tasks: Task[]): { waits: number[]; runs: number[] } {
  const waits: number[] = [];
  const runs: number[] = [];
  for (const task of tasks) {
    if (task.startedAt === undefined) continue;
    if (task.attempts !== undefined) {
      // Runs of a retried task: the first queued at creation, the later ones at their retry time (queuedAt, for the last).
      task.attempts.forEach((attempt, i) => {
        runs.push(attempt.endedAt.getTime() - attempt.startedAt.getTime());
        if (i === 0) waits.push(attempt.startedAt.getTime() - task.createdAt.getTime());
      });
      continue;
    }
    waits.push(task.startedAt.getTime() - (task.queuedAt ?? task.createdAt).getTime());
    if (task.endedAt !== undefined) runs.push(task.endedAt.getTime() - task.startedAt.getTime());
  }
  return { waits, runs };
}

test('getStats: counts by status and operation, histograms of the runs, dropped logs and retries; counts reloaded after a restart', T, async (t) => {
  const persistDir = await tempDir(t);
  const channel = `stats-${randomUUID()}`;
  const tasker = new Tasker({ maxThreads: 2, abortGraceMs: 200, persistDir, onMissingRunner: 'queue' });
  t.after(() => tasker.close());
  const empty = await tasker.getStats();
  assert.deepEqual(empty.tasks, { new: 0, running: 0, done: 0, failed: 0, aborted: 0 });
  assert.deepEqual(empty.byOperation, {});
  assert.equal(empty.waitTime.count, 0);
  assert.equal(empty.runTime.max, 0, 'an empty histogram is all zeros');
  assert.equal(empty.logsDropped, 0);
  assert.equal(empty.retries, 0);

  tasker.assignRunner('sum', runner('sum'));
  tasker.assignRunner('fail', runner('fail'));
  tasker.assignRunner('burst', runner('log-burst'));
  tasker.assignRunner('flaky', runner('flaky'));
  tasker.assignRunner('gate', runner('gate'));
  await tasker.start();
  const done = [await tasker.addTask({ operation: 'sum', data: [1, 2] }), await tasker.addTask({ operation: 'sum', data: [3] })];
  const burst = await tasker.addTask({ operation: 'burst', data: { count: 10 }, maxLogs: 2 });
  const failed = await tasker.addTask({ operation: 'fail' });
  const flaky = await tasker.addTask({ operation: 'flaky', data: { succeedAt: 3 }, retry: { attempts: 3, backoff: { type: 'fixed', delay: 0 } } });
  for (const uuid of [...done, burst, flaky]) await tasker.waitForTaskOutputData(uuid);
  await tasker.waitForTaskOutputData(failed).catch(() => {});
  const abortedNew = await tasker.addTask({ operation: 'later' });
  await tasker.abortTask(abortedNew);
  const waiting = [await tasker.addTask({ operation: 'later' }), await tasker.addTask({ operation: 'later' })];
  // The gate's log line says it listens on its channel: a release posted before it would be lost.
  const listening = nextEvent(tasker, 'task.log');
  const held = await tasker.addTask({ operation: 'gate', data: { channel } });
  await listening;

  const stats = await tasker.getStats();
  assert.deepEqual(stats.tasks, { new: 2, running: 1, done: 4, failed: 1, aborted: 1 });
  assert.deepEqual(stats.byOperation, { later: { waiting: 2, running: 0 }, gate: { waiting: 0, running: 1 } });
  assert.equal(stats.logsDropped, 8);
  assert.equal(stats.retries, 2);
  // The counts agree with a scan.
  for (const status of ['new', 'running', 'done', 'failed', 'aborted'] as const) assert.equal(stats.tasks[status], await tasker.countTasks({ status }), status);

  const tasks = await tasker.findTasks({});
  const { waits, runs } = runTimes(tasks);
  assert.equal(waits.length, 1 + 2 + 1 + 1 + 1, 'sum ×2, burst, fail, flaky (its first run), gate');
  // The flaky task's later runs waited from their retry time, which attempts do not keep: count them, and bound the rest.
  assert.equal(stats.waitTime.count, waits.length + 2);
  assert.ok(stats.waitTime.min >= 0);
  assert.ok(stats.waitTime.max >= Math.max(...waits) - 0.0011);
  checkHistogram(stats.runTime, runs, 'runTime');
  assert.equal(stats.runTime.count, 2 + 1 + 1 + 3, 'every ended run: sum ×2, burst, fail, flaky ×3; not the running one');

  // Without retries, the wait times are exactly those of the tasks.
  release(channel);
  await tasker.waitForTaskOutputData(held);
  const after = await tasker.getStats();
  assert.deepEqual(after.byOperation, { later: { waiting: 2, running: 0 } });
  assert.equal(after.tasks.done, 5);
  await tasker.close();

  const reopened = new Tasker({ persistDir, onMissingRunner: 'queue' });
  t.after(() => reopened.close());
  const loaded = await reopened.getStats();
  assert.deepEqual(loaded.tasks, { new: 2, running: 0, done: 5, failed: 1, aborted: 1 });
  assert.deepEqual(loaded.byOperation, { later: { waiting: 2, running: 0 } });
  assert.equal(loaded.waitTime.count, 0, 'histograms count the runs since this tasker was created');
  assert.equal(loaded.runTime.count, 0);
  assert.equal(loaded.retries, 0);
  await reopened.removeTasks({ status: 'done' });
  await reopened.abortTask(waiting[0]!);
  assert.deepEqual((await reopened.getStats()).tasks, { new: 1, running: 0, done: 0, failed: 1, aborted: 2 });
  assert.deepEqual((await reopened.getStats()).byOperation, { later: { waiting: 1, running: 0 } });
});

test('getStats: wait and run times match the tasks\' timestamps', T, async (t) => {
  const tasker = new Tasker({ maxThreads: 1 });
  t.after(() => tasker.close());
  tasker.assignRunner('sum', runner('sum'));
  const uuids: string[] = [];
  for (let i = 0; i < 6; i++) uuids.push(await tasker.addTask({ operation: 'sum', data: [i] }));
  await tasker.start();
  for (const uuid of uuids) await tasker.waitForTaskOutputData(uuid);
  const stats = await tasker.getStats();
  const { waits, runs } = runTimes(await tasker.findTasks({}));
  checkHistogram(stats.waitTime, waits, 'waitTime');
  checkHistogram(stats.runTime, runs, 'runTime');
});

test('getStats: tasks found running at start-up are counted as they are resolved; their runs from another process are not timed', T, async (t) => {
  const persistDir = await tempDir(t);
  const createdAt = new Date(Date.now() - 60_000).toISOString();
  const startedAt = new Date(Date.now() - 30_000).toISOString();
  const interrupted = (uuid: string, onInterrupted: string) => ({ uuid, operation: 'gone', priority: 0, status: 'running', createdAt, startedAt, onInterrupted });
  writeStoreFiles(persistDir, [interrupted(randomUUID(), 'requeue'), interrupted(randomUUID(), 'abort')]);
  const tasker = new Tasker({ persistDir, onMissingRunner: 'queue' });
  t.after(() => tasker.close());
  const stats = await tasker.getStats();
  assert.deepEqual(stats.tasks, { new: 1, running: 0, done: 0, failed: 0, aborted: 1 });
  assert.deepEqual(stats.byOperation, { gone: { waiting: 1, running: 0 } });
  assert.equal(stats.runTime.count, 0);
  assert.equal(stats.retries, 0, 'a requeue after an interruption is not a retry');
});
