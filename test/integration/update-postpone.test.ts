import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tasker } from 'tasker';
import { runner } from '../helpers/fixtures.js';
import { nextEvent, recordEvents } from '../helpers/events.js';
import { createTasker, tempDir } from '../helpers/tasker.js';
import { readStoreFiles } from '../helpers/store-files.js';

const T = { timeout: 15_000 };

test('updateTask changes a new task at once: the run sees the new data, the change is stored and announced', T, async (t) => {
  const dir = await tempDir(t);
  const tasker = createTasker(t, { persistDir: dir });
  tasker.assignRunner('sum', runner('sum'));
  const uuid = await tasker.addTask({ operation: 'sum', data: [1, 2] });
  const seen = recordEvents(tasker, ['task.updated', `task.${uuid}.updated`]);
  await tasker.updateTask(uuid, { data: [10, 20], priority: 5, runTimeout: 5_000 });
  assert.deepEqual(seen, [
    ['task.updated', uuid, ['data', 'priority', 'runTimeout']],
    [`task.${uuid}.updated`, ['data', 'priority', 'runTimeout']],
  ]);
  const task = await tasker.getTask(uuid);
  assert.deepEqual([task.data, task.priority, task.runTimeout], [[10, 20], 5, 5_000]);
  const stored = readStoreFiles(dir).tasks.get(uuid)!;
  assert.deepEqual([stored['data'], stored['priority']], [[10, 20], 5]);
  await tasker.start();
  assert.equal(await tasker.waitForTaskOutputData(uuid), 30);
});

test('updateTask re-sorts the queue: a raised priority runs first', T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 1 });
  tasker.assignRunner('sum', runner('sum'));
  const a = await tasker.addTask({ operation: 'sum', data: [1, 1] });
  const b = await tasker.addTask({ operation: 'sum', data: [2, 2] });
  await tasker.updateTask(b, { priority: 1 });
  const order: string[] = [];
  tasker.on('task.run', (uuid) => order.push(uuid));
  await tasker.start();
  await tasker.onIdle();
  assert.deepEqual(order, [b, a]);
});

test('updateTask of new conditions applies them: a task held by a condition is released when it is lifted', T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 2 });
  tasker.assignRunner('hang', runner('hang-until-abort'));
  tasker.assignRunner('sum', runner('sum'));
  await tasker.start();
  const hang = await tasker.addTask({ operation: 'hang' });
  await nextEvent(tasker, `task.${hang}.log`);
  const held = await tasker.addTask({ operation: 'sum', data: [1, 2], concurrency: [{ scope: 'running', query: { operation: 'hang' }, limit: 1 }] });
  assert.equal((await tasker.getTask(held)).status, 'new', 'held by its condition');
  await tasker.updateTask(held, { concurrency: [] });
  assert.equal(await tasker.waitForTaskOutputData(held), 3);
  await tasker.abortTask(hang);
});

test('updateTask is refused once the task has started (ERR_TASK_STATE), for unknown tasks and for bad patches', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('sum', runner('sum'));
  tasker.assignRunner('hang', runner('hang-until-abort'));
  await tasker.start();
  const hang = await tasker.addTask({ operation: 'hang' });
  await nextEvent(tasker, `task.${hang}.log`);
  await assert.rejects(tasker.updateTask(hang, { data: 1 }), { code: 'ERR_TASK_STATE' });
  const done = await tasker.addTask({ operation: 'sum', data: [1, 2] });
  await tasker.waitForTaskOutputData(done);
  await assert.rejects(tasker.updateTask(done, { priority: 3 }), { code: 'ERR_TASK_STATE' });
  await assert.rejects(tasker.updateTask('nope', { priority: 3 }), { code: 'ERR_TASK_NOT_FOUND' });
  await tasker.stop();
  const queued = await tasker.addTask({ operation: 'sum', data: [1, 2] });
  for (const patch of [null, {}, { operation: 'hang' }, { status: 'done' }, { priority: 'high' }, { data: () => 1 }, { runTimeout: -5 }]) {
    await assert.rejects(tasker.updateTask(queued, patch as never), { code: 'ERR_INVALID_TASK' });
  }
  const task = await tasker.getTask(queued);
  assert.deepEqual([task.operation, task.status, task.priority, task.data], ['sum', 'new', 0, [1, 2]], 'a refused patch changes nothing');
});

test('postponeTask moves a new task behind the others of its priority, and that order survives a restart', T, async (t) => {
  const dir = await tempDir(t);
  const first = new Tasker({ persistDir: dir, maxThreads: 1 });
  first.assignRunner('sum', runner('sum'));
  const a = await first.addTask({ operation: 'sum', data: [1, 1] });
  const b = await first.addTask({ operation: 'sum', data: [2, 2] });
  const c = await first.addTask({ operation: 'sum', data: [3, 3] });
  const seen = recordEvents(first, [`task.${a}.postponed`]);
  await first.postponeTask(a);
  assert.deepEqual(seen, [[`task.${a}.postponed`]]);
  await first.close();

  const second = createTasker(t, { persistDir: dir, maxThreads: 1 });
  second.assignRunner('sum', runner('sum'));
  const order: string[] = [];
  second.on('task.run', (uuid) => order.push(uuid));
  await second.start();
  await second.onIdle();
  assert.deepEqual(order, [b, c, a]);
});

test('postponeTask of a running task aborts it (ERR_TASK_POSTPONED) and queues it again, same uuid', T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 1 });
  tasker.assignRunner('once', runner('requeue-once'));
  tasker.assignRunner('sum', runner('sum'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'once' });
  await nextEvent(tasker, `task.${uuid}.log`);
  const other = await tasker.addTask({ operation: 'sum', data: [1, 2] });
  const requeued = nextEvent(tasker, `task.${uuid}.requeued`);
  const order: string[] = [];
  tasker.on('task.run', (id) => order.push(id));
  await tasker.postponeTask(uuid);
  const [reason] = await requeued;
  assert.equal(reason.code, 'ERR_TASK_POSTPONED');
  assert.deepEqual(await tasker.waitForTaskOutputData(uuid), { attempt: 2 });
  assert.deepEqual(order, [other, uuid], 'it went behind the task queued meanwhile');
  const task = await tasker.getTask(uuid);
  assert.deepEqual(task.attempts?.map((a) => [a.outcome, (a.error as { code?: string } | undefined)?.code]), [
    ['requeued', 'ERR_TASK_POSTPONED'],
    ['done', undefined],
  ]);
});

test('postponeTask of an ended task is refused with ERR_TASK_STATE', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('sum', runner('sum'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'sum', data: [1, 2] });
  await tasker.waitForTaskOutputData(uuid);
  await assert.rejects(tasker.postponeTask(uuid), { code: 'ERR_TASK_STATE' });
  await assert.rejects(tasker.postponeTask('nope'), { code: 'ERR_TASK_NOT_FOUND' });
});
