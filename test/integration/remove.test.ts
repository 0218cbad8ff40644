import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tasker } from 'tasker';
import { rejectsWith } from '../helpers/assertions.js';
import { recordEvents } from '../helpers/events.js';
import { runner } from '../helpers/fixtures.js';
import { readStoreFiles } from '../helpers/store-files.js';
import { createTasker, tempDir } from '../helpers/tasker.js';

test('removeTask removes an ended task and its logs, from memory and from the store, with task.removed', async (t) => {
  const dir = await tempDir(t);
  const tasker = new Tasker({ persistDir: dir, maxThreads: 1 });
  tasker.assignRunner('sum', runner('sum'));
  await tasker.start();
  const kept = await tasker.addTask({ operation: 'sum', data: [1, 2] });
  const gone = await tasker.addTask({ operation: 'sum', data: [3, 4] });
  await tasker.waitForTaskOutputData(kept);
  await tasker.waitForTaskOutputData(gone);
  const events = recordEvents(tasker, ['task.removed']);
  await tasker.removeTask(gone);
  assert.deepEqual(events, [['task.removed', gone]]);
  await assert.rejects(tasker.getTask(gone), rejectsWith('ERR_TASK_NOT_FOUND'));
  await assert.rejects(tasker.removeTask(gone), rejectsWith('ERR_TASK_NOT_FOUND'));
  const onDisk = readStoreFiles(dir);
  assert.equal(onDisk.tasks.has(gone), false, 'the removal is stored');
  assert.equal(onDisk.logs.has(gone), false, 'with its logs');
  await tasker.close();

  const reopened = new Tasker({ persistDir: dir });
  t.after(() => reopened.close());
  assert.deepEqual((await reopened.findTasks({})).map((task) => task.uuid), [kept]);
  assert.equal((await reopened.getTask(kept, { withLogs: true })).logs?.length, 2);
});

test('removeTask refuses a task that has not ended; removeTasks removes all matches or none', async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue', maxThreads: 1 });
  tasker.assignRunner('echo', runner('echo'));
  tasker.assignRunner('gate', runner('gate'));
  const waiting = await tasker.addTask({ operation: 'nobody' });
  await assert.rejects(tasker.removeTask(waiting), rejectsWith('ERR_TASK_STATE'));
  await tasker.start();
  const done = await Promise.all([1, 2, 3].map((n) => tasker.addTask({ operation: 'echo', data: n })));
  for (const uuid of done) await tasker.waitForTaskOutputData(uuid);
  const channel = `remove-${process.pid}-${Date.now()}`;
  const started = new Promise((resolve) => tasker.once('task.log', resolve));
  const running = await tasker.addTask({ operation: 'gate', data: { channel, name: 'g' } });
  await started;
  await assert.rejects(tasker.removeTask(running), rejectsWith('ERR_TASK_STATE'));
  // A query that also selects the running task removes nothing.
  await assert.rejects(tasker.removeTasks({ operation: { $in: ['echo', 'gate'] } }), rejectsWith('ERR_TASK_STATE'));
  assert.equal(await tasker.countTasks({ operation: 'echo' }), 3);
  assert.equal(await tasker.removeTasks({ operation: 'echo', status: 'done' }), 3);
  assert.equal(await tasker.countTasks({}), 2);
  await assert.rejects(tasker.removeTasks({ $where: 'true' }), rejectsWith('ERR_INVALID_QUERY'));
  await tasker.abortTask(running);
  assert.equal(await tasker.removeTasks({ status: 'aborted' }), 1);
});
