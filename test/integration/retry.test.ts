import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tasker } from 'tasker';
import { FakeClock } from '../helpers/fake-clock.js';
import { runner } from '../helpers/fixtures.js';
import { nextEvent, recordEvents } from '../helpers/events.js';
import { createTasker, tempDir } from '../helpers/tasker.js';
import { rejectsWith } from '../helpers/assertions.js';

/** The error `promise` rejects with, checked to carry `code`. */
async function failure(promise: Promise<unknown>, code: string): Promise<Error & { code?: unknown; cause?: unknown }> {
  let caught: unknown;
  await assert.rejects(promise, (error) => ((caught = error), rejectsWith(code)(error)));
  return caught as Error & { code?: unknown; cause?: unknown };
}

const T = { timeout: 15_000 };

test('a failing task is retried as the same task until it succeeds: attempts history, ctx.attempt, events, logs', T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 1 });
  tasker.assignRunner('flaky', runner('flaky'));
  await tasker.start();
  const all = recordEvents(tasker, ['task.run', 'task.retry', 'task.failed', 'task.done']);
  const uuid = await tasker.addTask({ operation: 'flaky', data: { succeedAt: 3 }, retry: { attempts: 3 } });
  const logs: string[] = [];
  const streamed = (async () => {
    for await (const entry of tasker.listenTaskLogs(uuid, { fromBeginning: true })) logs.push(entry.message);
  })();
  assert.deepEqual(await tasker.waitForTaskOutputData(uuid), { attempt: 3 });
  await streamed; // one stream across the attempts, ended by the final end
  const seen = all.filter(([, id]) => id === uuid).map(([name, , ...args]) => [name, ...args] as [string, ...unknown[]]);
  assert.deepEqual(logs, ['attempt 1', 'attempt 2', 'attempt 3']);
  assert.deepEqual(
    seen.map(([name, ...args]) => (name === 'task.retry' ? `retry ${(args[0] as { attempt: number }).attempt}` : name.split('.').pop())),
    ['run', 'retry 2', 'run', 'retry 3', 'run', 'done'],
  );
  const retry = seen[1]![1] as { attempt: number; runAfter: Date; error: { code: string; message: string } };
  assert.equal(retry.error.code, 'E_FLAKY');
  assert.equal(retry.error.message, 'attempt 1 failed');
  assert.ok(retry.runAfter instanceof Date);

  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'done');
  assert.deepEqual(task.attempts?.map((a) => [a.attempt, a.outcome, (a.error as { code?: string } | undefined)?.code]), [
    [1, 'failed', 'E_FLAKY'],
    [2, 'failed', 'E_FLAKY'],
    [3, 'done', undefined],
  ]);
  for (const attempt of task.attempts!) assert.ok(attempt.endedAt.getTime() >= attempt.startedAt.getTime());
  assert.equal(await tasker.countTasks(), 1, 'a retry is not a new task');
});

test('retries stop at `attempts`: the task ends failed with its last error, the whole history kept', T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 1 });
  tasker.assignRunner('flaky', runner('flaky'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'flaky', retry: { attempts: 2 } });
  const error = await failure(tasker.waitForTaskOutputData(uuid), 'ERR_TASK_FAILED');
  assert.equal((error.cause as { message: string }).message, 'attempt 2 failed');
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'failed');
  assert.deepEqual(task.attempts?.map((a) => a.outcome), ['failed', 'failed']);
});

test('a task without a retry policy runs once and keeps no attempts history', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('flaky', runner('flaky'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'flaky' });
  await failure(tasker.waitForTaskOutputData(uuid), 'ERR_TASK_FAILED');
  const task = await tasker.getTask(uuid);
  assert.equal(task.attempts, undefined);
});

test('retryOn picks the outcomes that retry: a runner error is not retried under retryOn [timeout]', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('flaky', runner('flaky'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'flaky', data: { succeedAt: 2 }, retry: { attempts: 5, retryOn: ['timeout'] } });
  await failure(tasker.waitForTaskOutputData(uuid), 'ERR_TASK_FAILED');
  assert.equal((await tasker.getTask(uuid)).attempts, undefined);
});

test('a run timeout is retried under retryOn [timeout]; the task ends aborted (ERR_TASK_RUN_TIMEOUT) once attempts run out', T, async (t) => {
  const tasker = createTasker(t, { abortGraceMs: 0 });
  tasker.assignRunner('spin', runner('busy-loop'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'spin', runTimeout: 30, retry: { attempts: 2, retryOn: ['timeout'] } });
  const retried = nextEvent(tasker, `task.${uuid}.retry`);
  await failure(tasker.waitForTaskOutputData(uuid), 'ERR_TASK_ABORTED');
  const [info] = await retried;
  assert.equal((info.error as { code: string }).code, 'ERR_TASK_RUN_TIMEOUT');
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.equal(task.abortReason?.code, 'ERR_TASK_RUN_TIMEOUT');
  assert.equal(task.terminated, true);
  assert.deepEqual(task.attempts?.map((a) => [a.outcome, (a.error as { code: string }).code]), [
    ['aborted', 'ERR_TASK_RUN_TIMEOUT'],
    ['aborted', 'ERR_TASK_RUN_TIMEOUT'],
  ]);
});

test('an abort that was asked for (abortTask) is never retried', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('hang', runner('hang-until-abort'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'hang', retry: { attempts: 5 } });
  await nextEvent(tasker, `task.${uuid}.log`);
  await tasker.abortTask(uuid);
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.equal(task.abortReason?.code, 'ERR_TASK_ABORT_REQUESTED');
  assert.equal(task.attempts, undefined);
});

test('backoff: the task waits as `new` until its runAfter (injected clock), then runs; exponential delays double', T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { clock, maxThreads: 1 });
  tasker.assignRunner('flaky', runner('flaky'));
  await tasker.start();
  const start = clock.now();
  const uuid = await tasker.addTask({
    operation: 'flaky',
    data: { succeedAt: 3 },
    retry: { attempts: 3, backoff: { type: 'exponential', delay: 1_000 } },
  });
  const [first] = await nextEvent(tasker, `task.${uuid}.retry`);
  assert.deepEqual(first.runAfter, new Date(start + 1_000));
  let task = await tasker.getTask(uuid);
  assert.equal(task.status, 'new');
  assert.deepEqual(task.runAfter, new Date(start + 1_000));

  const second = nextEvent(tasker, `task.${uuid}.retry`);
  clock.advance(999);
  assert.equal((await tasker.getTask(uuid)).status, 'new', 'not before runAfter');
  clock.advance(1);
  const [info] = await second;
  assert.equal(info.attempt, 3);
  assert.deepEqual(info.runAfter, new Date(start + 1_000 + 2_000), 'the second delay is twice the first');
  task = await tasker.getTask(uuid);
  assert.equal(task.status, 'new');

  const done = tasker.waitForTaskOutputData(uuid);
  clock.advance(2_000);
  assert.deepEqual(await done, { attempt: 3 });
  task = await tasker.getTask(uuid);
  assert.equal(task.runAfter, undefined);
});

test('onIdle waits for a task in backoff; abortTask ends it at once', T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { clock });
  tasker.assignRunner('flaky', runner('flaky'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'flaky', retry: { attempts: 3, backoff: { type: 'fixed', delay: 60_000 } } });
  await nextEvent(tasker, `task.${uuid}.retry`);
  let idle = false;
  const idled = tasker.onIdle().then(() => (idle = true));
  // Everything stored and announced for the retry is flushed by a read; the task still waits for its time.
  await tasker.getTask(uuid);
  assert.equal(idle, false);
  await tasker.abortTask(uuid, 'no more');
  await idled;
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.deepEqual(task.attempts?.map((a) => a.outcome), ['failed'], 'the abort of a waiting task adds no run');
});

test('a task waiting for its retry survives a restart and runs at its runAfter', T, async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock();
  const first = new Tasker({ persistDir: dir, clock, maxThreads: 1 });
  first.assignRunner('flaky', runner('flaky'));
  await first.start();
  const uuid = await first.addTask({ operation: 'flaky', data: { succeedAt: 2 }, retry: { attempts: 2, backoff: { type: 'fixed', delay: 60_000 } } });
  const [info] = await nextEvent(first, `task.${uuid}.retry`);
  await first.close();

  const second = createTasker(t, { persistDir: dir, clock, maxThreads: 1 });
  second.assignRunner('flaky', runner('flaky'));
  let task = await second.getTask(uuid);
  assert.equal(task.status, 'new');
  assert.deepEqual(task.runAfter, info.runAfter);
  assert.deepEqual(task.attempts?.map((a) => a.outcome), ['failed']);
  await second.start();
  assert.equal((await second.getTask(uuid)).status, 'new');
  const done = second.waitForTaskOutputData(uuid);
  clock.advance(60_000);
  assert.deepEqual(await done, { attempt: 2 });
  task = await second.getTask(uuid);
  assert.deepEqual(task.attempts?.map((a) => a.outcome), ['failed', 'done']);
});

test('a retry goes behind the queued tasks of its priority: it never jumps the queue', T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 1 });
  tasker.assignRunner('flaky', runner('flaky'));
  tasker.assignRunner('sum', runner('sum'));
  const a = await tasker.addTask({ operation: 'flaky', data: { succeedAt: 2 }, retry: { attempts: 2 } });
  const b = await tasker.addTask({ operation: 'sum', data: [1, 2] });
  const c = await tasker.addTask({ operation: 'sum', data: [3, 4] });
  const high = await tasker.addTask({ operation: 'sum', data: [5, 6], priority: 1 });
  const order: string[] = [];
  tasker.on('task.run', (uuid) => order.push(uuid));
  await tasker.start();
  await tasker.waitForTaskOutputData(a);
  const names = new Map([[a, 'a'], [b, 'b'], [c, 'c'], [high, 'high']]);
  assert.deepEqual(order.map((uuid) => names.get(uuid)), ['high', 'a', 'b', 'c', 'a']);
});

test('a runner-level retry policy applies to its tasks, and its retryOn may be a predicate on the stored error', T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 1 });
  tasker.assignRunner('flaky', runner('flaky'), {
    retry: { attempts: 3, retryOn: (error) => (error as { code?: string }).code === 'E_TRANSIENT' },
  });
  await tasker.start();
  const transient = await tasker.addTask({ operation: 'flaky', data: { succeedAt: 2, code: 'E_TRANSIENT' } });
  assert.deepEqual(await tasker.waitForTaskOutputData(transient), { attempt: 2 });
  const permanent = await tasker.addTask({ operation: 'flaky', data: { succeedAt: 2, code: 'E_PERMANENT' } });
  await failure(tasker.waitForTaskOutputData(permanent), 'ERR_TASK_FAILED');
  assert.equal((await tasker.getTask(permanent)).attempts, undefined);
  // The task's own policy wins over its runner's.
  const own = await tasker.addTask({ operation: 'flaky', data: { succeedAt: 2, code: 'E_PERMANENT' }, retry: { attempts: 2 } });
  assert.deepEqual(await tasker.waitForTaskOutputData(own), { attempt: 2 });
});

test('a retryOn predicate that throws means no retry, and is reported to the logger', T, async (t) => {
  const errors: unknown[][] = [];
  const logger = { error: (...args: unknown[]) => errors.push(args), warn() {}, info() {}, debug() {} };
  const tasker = createTasker(t, { logger });
  tasker.assignRunner('flaky', runner('flaky'), {
    retry: { attempts: 3, retryOn: () => { throw new Error('predicate bug'); } },
  });
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'flaky', data: { succeedAt: 2 } });
  await failure(tasker.waitForTaskOutputData(uuid), 'ERR_TASK_FAILED');
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]![0]), /retryOn predicate/);
});

test('malformed retry policies are refused at the boundary', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('flaky', runner('flaky'));
  const bad: unknown[] = [
    0,
    { attempts: 0 },
    { attempts: 1.5 },
    { attempts: 2, backoff: { type: 'linear', delay: 1 } },
    { attempts: 2, backoff: { type: 'fixed' } },
    { attempts: 2, backoff: { type: 'fixed', delay: -1 } },
    { attempts: 2, backoff: { type: 'fixed', delay: 1, jitter: 2 } },
    { attempts: 2, retryOn: ['sometimes'] },
    { attempts: 2, retryOn: () => true }, // a task is stored as JSON: no predicate
    { attempts: 2, tries: 3 },
  ];
  for (const retry of bad) {
    await failure(tasker.addTask({ operation: 'flaky', retry: retry as never }), 'ERR_INVALID_TASK');
  }
  assert.equal(await tasker.countTasks(), 0);
  assert.throws(() => tasker.assignRunner('other', runner('flaky'), { retry: { attempts: -1 } }), { code: 'ERR_INVALID_RUNNER' });
});
