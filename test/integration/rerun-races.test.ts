/**
 * A task that runs again under its uuid (retry, requeue, postpone) meets
 * aborts, stops and timeouts meant for an earlier run or state. Each test is
 * a race a review found; each failed before its fix.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { test } from 'node:test';
import { Tasker } from 'tasker';
import { FakeClock } from '../helpers/fake-clock.js';
import { runner } from '../helpers/fixtures.js';
import { nextEvent } from '../helpers/events.js';
import { createTasker, tempDir } from '../helpers/tasker.js';

const T = { timeout: 15_000 };

/** A BroadcastChannel name for a fixture to listen on, and a way to post to it. */
function channel(t: { after(fn: () => void): void }): { name: string; post(message: string): void } {
  const name = `test-${randomUUID()}`;
  const port = new BroadcastChannel(name);
  t.after(() => port.close());
  return { name, post: (message) => port.postMessage(message) };
}

/** Resolves with the next log message of the task. */
async function nextLog(tasker: Tasker, uuid: string): Promise<string> {
  const [entry] = await nextEvent(tasker, `task.${uuid}.log`);
  return entry.message;
}

test("an abort of a task's earlier run never reaches its next run, even on a thread that heard it", T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 2 });
  tasker.assignRunner('plan', runner('plan'));
  tasker.assignRunner('gate', runner('gate'));
  await tasker.start();
  const a = await tasker.addTask({ operation: 'plan', data: { plan: ['wait-abort', 'ok'] } });
  assert.equal(await nextLog(tasker, a), 'attempt 1: wait-abort');
  const gateB = channel(t);
  const b = await tasker.addTask({ operation: 'gate', data: { channel: gateB.name, name: 'b' } });
  await nextLog(tasker, b); // b holds the other thread, which hears the broadcast abort of a's first run
  const gateC = channel(t);
  const c = await tasker.addTask({ operation: 'gate', data: { channel: gateC.name, name: 'c' } });
  await tasker.postponeTask(a); // a goes behind c: c takes a's thread
  await nextLog(tasker, c);
  const second = nextLog(tasker, a);
  gateB.post('release'); // a's second run lands on b's thread
  assert.equal(await second, 'attempt 2: ok');
  assert.deepEqual(await tasker.waitForTaskOutputData(a), { attempt: 2 });
  gateC.post('release');
  await tasker.waitForTaskOutputData(c);
  assert.deepEqual((await tasker.getTask(a)).attempts?.map((x) => x.outcome), ['requeued', 'done']);
});

test('abortTask after postponeTask of a running task ends it: the abort wins over the requeue', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('plan', runner('plan'));
  await tasker.start();
  const a = await tasker.addTask({ operation: 'plan', data: { plan: ['wait-abort'] } });
  await nextLog(tasker, a);
  const postponed = tasker.postponeTask(a);
  await tasker.abortTask(a, 'enough');
  const task = await tasker.getTask(a);
  assert.equal(task.status, 'aborted');
  assert.equal(task.abortReason?.code, 'ERR_TASK_ABORT_REQUESTED');
  assert.equal(task.abortReason?.message, 'enough');
  assert.equal(task.attempts, undefined, 'the run was not requeued');
  await postponed;
});

test('abortTask during the grace period of a run timeout ends the task: it is not retried', T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { clock, abortGraceMs: 1_000 });
  tasker.assignRunner('ignore', runner('ignore-abort'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'ignore', runTimeout: 100, retry: { attempts: 3 } });
  await nextLog(tasker, uuid); // the runner began: its run timeout is counting (on the fake clock)
  clock.advance(100); // timed out: its signal fired, the grace period runs
  const aborted = tasker.abortTask(uuid, 'stop retrying');
  // abortTask reaches the engine after a few resolved promises (the store is loaded): one event-loop turn covers them.
  await new Promise(setImmediate);
  clock.advance(1_000); // grace over: the thread is terminated
  await aborted;
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.equal(task.abortReason?.code, 'ERR_TASK_ABORT_REQUESTED');
  assert.equal(task.terminated, true);
  assert.equal(task.attempts, undefined, 'no retry');
});

test("stop({ running: 'wait', timeout }) leaves a task that failed and was retried meanwhile queued", T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { clock, abortGraceMs: 0 });
  tasker.assignRunner('plan', runner('plan'));
  await tasker.start();
  const release = channel(t);
  const a = await tasker.addTask({ operation: 'plan', data: { plan: ['fail-on-release'], channel: release.name }, retry: { attempts: 3 } });
  const h = await tasker.addTask({ operation: 'plan', data: { plan: ['wait-abort'] } });
  await Promise.all([nextLog(tasker, a), nextLog(tasker, h)]);
  const stopped = tasker.stop({ running: 'wait', timeout: 500 });
  const retried = nextEvent(tasker, `task.${a}.retry`);
  release.post('release');
  await retried;
  clock.advance(500);
  await stopped;
  assert.equal((await tasker.getTask(h)).status, 'aborted');
  const task = await tasker.getTask(a);
  assert.equal(task.status, 'new', 'a queued task is kept (queued: keep)');
  assert.deepEqual(task.attempts?.map((x) => x.outcome), ['failed']);
});

test("a task retried during a stop is aborted there if its policy is queued: 'abort'", T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('plan', runner('plan'));
  await tasker.start();
  const release = channel(t);
  const a = await tasker.addTask({
    operation: 'plan',
    data: { plan: ['fail-on-release'], channel: release.name },
    retry: { attempts: 3 },
    onTaskerStop: { running: 'wait', queued: 'abort' },
  });
  await nextLog(tasker, a);
  const stopped = tasker.stop();
  release.post('release');
  await stopped;
  const task = await tasker.getTask(a);
  assert.equal(task.status, 'aborted');
  assert.equal(task.abortReason?.code, 'ERR_TASKER_STOPPED');
  assert.deepEqual(task.attempts?.map((x) => x.outcome), ['failed'], 'its failed run is in its history');
});

test('a retry queues behind the tasks queued during its backoff, as it would after a restart', T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { clock, maxThreads: 1 });
  tasker.assignRunner('plan', runner('plan'));
  tasker.assignRunner('gate', runner('gate'));
  tasker.assignRunner('sum', runner('sum'));
  await tasker.start();
  const order: string[] = [];
  tasker.on('task.run', (uuid) => order.push(uuid));
  const r = await tasker.addTask({ operation: 'plan', data: { plan: ['fail', 'ok'] }, retry: { attempts: 2, backoff: { type: 'fixed', delay: 1_000 } } });
  await nextEvent(tasker, `task.${r}.retry`);
  const gate = channel(t);
  const g = await tasker.addTask({ operation: 'gate', data: { channel: gate.name, name: 'g' } });
  await nextLog(tasker, g);
  const c = await tasker.addTask({ operation: 'sum', data: [1, 2] }); // queued during r's backoff
  clock.advance(1_000); // r's retry time comes while g holds the only thread
  gate.post('release');
  await tasker.waitForTaskOutputData(r);
  const names = new Map([[r, 'r'], [g, 'g'], [c, 'c']]);
  assert.deepEqual(order.map((uuid) => names.get(uuid)), ['r', 'g', 'c', 'r']);
});

test('two queue timeouts due together: neither task starts, even when the first abort frees the way for the second', T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { clock, maxThreads: 2 });
  tasker.assignRunner('plan', runner('plan'));
  tasker.assignRunner('a', runner('sum'));
  tasker.assignRunner('b', runner('sum'));
  await tasker.start();
  const h = await tasker.addTask({ operation: 'plan', data: { plan: ['wait-abort'] } });
  await nextLog(tasker, h);
  // a waits for h to end; b waits for a to leave the queue; a thread is free all along.
  const a = await tasker.addTask({ operation: 'a', data: [1, 1], queueTimeout: 300, concurrency: [{ scope: 'running', query: { operation: 'plan' }, limit: 1 }] });
  const b = await tasker.addTask({ operation: 'b', data: [2, 2], queueTimeout: 300, concurrency: [{ scope: 'before-queued', query: { operation: 'a' }, limit: 1 }] });
  assert.deepEqual([(await tasker.getTask(a)).status, (await tasker.getTask(b)).status], ['new', 'new']);
  clock.advance(300);
  for (const uuid of [a, b]) {
    await assert.rejects(tasker.waitForTaskOutputData(uuid), { code: 'ERR_TASK_ABORTED' });
    assert.equal((await tasker.getTask(uuid)).abortReason?.code, 'ERR_TASK_QUEUE_TIMEOUT');
  }
  await tasker.abortTask(h);
});

test('after a restart, a retry time in the future does not move the creation time of new tasks', T, async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock();
  const first = new Tasker({ persistDir: dir, clock });
  first.assignRunner('plan', runner('plan'));
  await first.start();
  const r = await first.addTask({ operation: 'plan', data: { plan: ['fail'] }, retry: { attempts: 2, backoff: { type: 'fixed', delay: 3_600_000 } } });
  await nextEvent(first, `task.${r}.retry`);
  await first.close();

  const second = createTasker(t, { persistDir: dir, clock });
  second.assignRunner('sum', runner('sum'));
  const uuid = await second.addTask({ operation: 'sum', data: [1, 2] });
  assert.deepEqual((await second.getTask(uuid)).createdAt, new Date(clock.now()));
});

test("task.retry names the coming run's number, counting runs a postpone put back", T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('plan', runner('plan'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'plan', data: { plan: ['wait-abort', 'fail', 'ok'] }, retry: { attempts: 2 } });
  await nextLog(tasker, uuid);
  const retried = nextEvent(tasker, `task.${uuid}.retry`);
  await tasker.postponeTask(uuid);
  const [info] = await retried;
  assert.equal(info.attempt, 3);
  assert.deepEqual(await tasker.waitForTaskOutputData(uuid), { attempt: 3 });
  assert.deepEqual((await tasker.getTask(uuid)).attempts?.map((x) => x.outcome), ['requeued', 'failed', 'done']);
});
