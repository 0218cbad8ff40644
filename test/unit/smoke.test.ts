import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runner } from '../helpers/fixtures.js';
import { createTasker } from '../helpers/tasker.js';

test('a task runs in a worker and its result is stored', async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('sum', runner('sum'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'sum', data: [5, 4] });
  assert.equal(await tasker.waitForTaskOutputData(uuid), 9);
  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.equal(task.status, 'done');
  assert.deepEqual(task.logs?.map((l) => l.message), ['Sum', 'Ended']);
});
