import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tasker } from 'tasker';
import { rejectsWith } from '../helpers/assertions.js';
import { runner } from '../helpers/fixtures.js';
import { createTasker } from '../helpers/tasker.js';


test("a runner's console output becomes its task's logs, at matching levels", async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('console', runner('console-output'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'console' });
  assert.equal(await tasker.waitForTaskOutputData(uuid), 'ok');
  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.deepEqual(task.logs?.map((log) => [log.level, log.message]), [
    ['info', 'plain log { n: 1 }'],
    ['info', 'an info'],
    ['debug', 'a debug'],
    ['warning', 'a warning'],
    ['error', 'an error boom'],
  ]);
});

test('a runner over its own memory limit fails with ERR_WORKER_OUT_OF_MEMORY; the host and other tasks carry on', async (t) => {
  const tasker = createTasker(t, { maxThreads: 2 });
  tasker.assignRunner('hog', runner('allocate-forever'), { resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } });
  tasker.assignRunner('echo', runner('echo'));
  await tasker.start();
  const hog = await tasker.addTask({ operation: 'hog' });
  const echo = await tasker.addTask({ operation: 'echo', data: 'still here' });
  await assert.rejects(tasker.waitForTaskOutputData(hog), (error: Error & { code?: string; cause?: { code?: string } }) => {
    assert.equal(error.code, 'ERR_TASK_FAILED');
    assert.equal(error.cause?.code, 'ERR_WORKER_OUT_OF_MEMORY');
    return true;
  });
  assert.equal(await tasker.waitForTaskOutputData(echo), 'still here');
  // The limited pool replaces its thread: the next hog fails the same way, the next echo still runs.
  const again = await tasker.addTask({ operation: 'hog' });
  await assert.rejects(tasker.waitForTaskOutputData(again), rejectsWith('ERR_TASK_FAILED'));
  assert.equal((await tasker.getTask(again)).error && ((await tasker.getTask(again)).error as { code?: string }).code, 'ERR_WORKER_OUT_OF_MEMORY');
  assert.equal(await tasker.waitForTaskOutputData(await tasker.addTask({ operation: 'echo', data: 2 })), 2);
});

test('the tasker-level resourceLimits apply to runners without their own', async (t) => {
  const tasker = createTasker(t, { resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } });
  tasker.assignRunner('hog', runner('allocate-forever'));
  await tasker.start();
  const hog = await tasker.addTask({ operation: 'hog' });
  await assert.rejects(tasker.waitForTaskOutputData(hog), rejectsWith('ERR_TASK_FAILED'));
  assert.equal(((await tasker.getTask(hog)).error as { code?: string }).code, 'ERR_WORKER_OUT_OF_MEMORY');
});

test('malformed resource limits are refused with a clear error', (t) => {
  for (const limits of [null, 5, [], { maxOldGenerationSizeMb: 0 }, { maxOldGenerationSizeMb: 'big' }, { heap: 5 }]) {
    assert.throws(() => new Tasker({ resourceLimits: limits as never }), rejectsWith('ERR_INVALID_OPTION'), JSON.stringify(limits));
  }
  const tasker = createTasker(t);
  assert.throws(() => tasker.assignRunner('a', runner('echo'), { resourceLimits: { stackSizeMb: -1 } }), rejectsWith('ERR_INVALID_RUNNER'));
  assert.throws(() => tasker.assignRunner('b', runner('echo'), { retries: 3 } as never), rejectsWith('ERR_INVALID_RUNNER'));
  assert.throws(() => tasker.assignRunner('c', runner('echo'), 5 as never), rejectsWith('ERR_INVALID_RUNNER'));
});
