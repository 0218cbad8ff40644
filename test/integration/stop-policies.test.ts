import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { test } from 'node:test';
import { Tasker } from 'tasker';
import { runner } from '../helpers/fixtures.js';
import { nextEvent, recordEvents } from '../helpers/events.js';
import { createTasker, tempDir } from '../helpers/tasker.js';
import { readStoreFiles } from '../helpers/store-files.js';

const T = { timeout: 15_000 };

/** A gate task (test/fixtures/runners/gate.mjs) and the means to release it. */
function gate(t: { after(fn: () => void): void }): { data: { channel: string; name: string }; release(): void } {
  const name = randomUUID();
  const channel = new BroadcastChannel(`gate-${name}`);
  t.after(() => channel.close());
  return { data: { channel: `gate-${name}`, name }, release: () => channel.postMessage('release') };
}

/** Resolves once the task's runner has begun (its first log line). */
function begun(tasker: Tasker, uuid: string): Promise<unknown> {
  return nextEvent(tasker, `task.${uuid}.log`);
}

test("stop() aborts running tasks by default (ERR_TASKER_STOPPED), as before", T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('hang', runner('hang-until-abort'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'hang' });
  await begun(tasker, uuid);
  await tasker.stop();
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.equal(task.abortReason?.code, 'ERR_TASKER_STOPPED');
});

test("stop({ running: 'wait' }) lets a running task finish and starts nothing new", T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 1 });
  tasker.assignRunner('gate', runner('gate'));
  await tasker.start();
  const g = gate(t);
  const uuid = await tasker.addTask({ operation: 'gate', data: g.data });
  const queued = await tasker.addTask({ operation: 'gate', data: gate(t).data });
  await begun(tasker, uuid);
  let stopped = false;
  const stopping = tasker.stop({ running: 'wait' }).then(() => (stopped = true));
  // Stopping has begun (nothing new is dispatched) and waits for the running task.
  await tasker.getTask(uuid);
  assert.equal(stopped, false);
  g.release();
  await stopping;
  assert.equal((await tasker.getTask(uuid)).status, 'done');
  assert.equal((await tasker.getTask(queued)).status, 'new', 'a queued task stays queued');
});

test("stop({ running: 'wait', timeout }) aborts what is still running after the timeout", T, async (t) => {
  const tasker = createTasker(t, { abortGraceMs: 0 });
  tasker.assignRunner('hang', runner('hang-until-abort'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'hang' });
  await begun(tasker, uuid);
  await tasker.stop({ running: 'wait', timeout: 20 });
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.equal(task.abortReason?.code, 'ERR_TASKER_STOPPED');
  assert.match(task.abortReason!.message, /stop timeout of 20 ms/);
});

test("stop({ running: 'requeue' }) puts a running task back to new, same uuid; it runs again after the next start", T, async (t) => {
  const dir = await tempDir(t);
  const tasker = createTasker(t, { persistDir: dir });
  tasker.assignRunner('once', runner('requeue-once'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'once' });
  const seen = recordEvents(tasker, [`task.${uuid}.requeued`, `task.${uuid}.aborted`, `task.${uuid}.done`]);
  await begun(tasker, uuid);
  await tasker.stop({ running: 'requeue' });
  let task = await tasker.getTask(uuid);
  assert.equal(task.status, 'new');
  assert.equal(task.startedAt, undefined);
  assert.deepEqual(task.attempts?.map((a) => [a.attempt, a.outcome, (a.error as { code: string }).code]), [[1, 'requeued', 'ERR_TASKER_STOPPED']]);
  assert.deepEqual(seen.map(([name]) => name), [`task.${uuid}.requeued`]);
  assert.equal((seen[0]![1] as { code: string }).code, 'ERR_TASKER_STOPPED');
  assert.equal(readStoreFiles(dir).tasks.get(uuid)?.['status'], 'new', 'the requeue is stored');

  await tasker.start();
  assert.deepEqual(await tasker.waitForTaskOutputData(uuid), { attempt: 2 });
  task = await tasker.getTask(uuid);
  assert.deepEqual(task.attempts?.map((a) => a.outcome), ['requeued', 'done']);
});

test('a requeued task survives a restart and runs in the next process', T, async (t) => {
  const dir = await tempDir(t);
  const first = new Tasker({ persistDir: dir, maxThreads: 1 });
  first.assignRunner('once', runner('requeue-once'));
  await first.start();
  const uuid = await first.addTask({ operation: 'once' });
  await begun(first, uuid);
  await first.stop({ running: 'requeue' });
  await first.close();

  const second = createTasker(t, { persistDir: dir, maxThreads: 1 });
  second.assignRunner('once', runner('requeue-once'));
  assert.equal((await second.getTask(uuid)).status, 'new');
  await second.start();
  assert.deepEqual(await second.waitForTaskOutputData(uuid), { attempt: 2 });
});

test("a task's onTaskerStop wins over stop()'s options; queued: 'abort' aborts a queued task at stop", T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 2 });
  tasker.assignRunner('once', runner('requeue-once'));
  tasker.assignRunner('hang', runner('hang-until-abort'));
  await tasker.start();
  const requeued = await tasker.addTask({ operation: 'once', onTaskerStop: { running: 'requeue' } });
  const aborted = await tasker.addTask({ operation: 'hang' });
  await Promise.all([begun(tasker, requeued), begun(tasker, aborted)]);
  // Both threads are busy: these two stay queued.
  const dropped = await tasker.addTask({ operation: 'hang', onTaskerStop: { queued: 'abort' } });
  const kept = await tasker.addTask({ operation: 'hang' });
  await tasker.stop({ running: 'abort' });
  assert.equal((await tasker.getTask(requeued)).status, 'new');
  assert.equal((await tasker.getTask(aborted)).status, 'aborted');
  const droppedTask = await tasker.getTask(dropped);
  assert.equal(droppedTask.status, 'aborted');
  assert.equal(droppedTask.abortReason?.code, 'ERR_TASKER_STOPPED');
  assert.equal((await tasker.getTask(kept)).status, 'new');
});

test('a runner-level onTaskerStop applies to its tasks', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('once', runner('requeue-once'), { onTaskerStop: { running: 'requeue' } });
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'once' });
  await begun(tasker, uuid);
  await tasker.stop();
  assert.equal((await tasker.getTask(uuid)).status, 'new');
});

test('malformed stop options and onTaskerStop are refused', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('hang', runner('hang-until-abort'));
  await tasker.start();
  for (const options of [null, 'wait', { running: 'later' }, { timeout: -1 }, { timeout: 'soon' }, { force: true }]) {
    await assert.rejects(tasker.stop(options as never), { code: 'ERR_INVALID_OPTION' });
  }
  for (const onTaskerStop of ['requeue', { running: 'pause' }, { queued: 'drop' }, { other: 1 }]) {
    await assert.rejects(tasker.addTask({ operation: 'hang', onTaskerStop: onTaskerStop as never }), { code: 'ERR_INVALID_TASK' });
  }
  assert.equal(await tasker.countTasks(), 0);
  // The refused stops changed nothing: the tasker still runs tasks.
  const uuid = await tasker.addTask({ operation: 'hang' });
  await begun(tasker, uuid);
  assert.equal((await tasker.getTask(uuid)).status, 'running');
});
