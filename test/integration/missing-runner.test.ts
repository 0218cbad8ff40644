import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tasker, type TaskerOptions } from 'tasker';
import { rejectsWith } from '../helpers/assertions.js';
import { nextEvent, recordEvents } from '../helpers/events.js';
import { runner } from '../helpers/fixtures.js';
import { createTasker, tempDir } from '../helpers/tasker.js';

const T = { timeout: 20_000 };

function recordingLogger(): { warnings: unknown[][]; logger: NonNullable<TaskerOptions['logger']> } {
  const warnings: unknown[][] = [];
  return { warnings, logger: { error() {}, warn: (...args: unknown[]) => warnings.push(args), info() {}, debug() {} } };
}

test("by default, addTask for an operation without a runner rejects ERR_RUNNER_NOT_ASSIGNED and stores nothing", T, async (t) => {
  const tasker = createTasker(t);
  const events = recordEvents(tasker, ['task.add', 'task.added']);
  await assert.rejects(tasker.addTask({ operation: 'resize' }), rejectsWith('ERR_RUNNER_NOT_ASSIGNED', (error) => {
    assert.ok(error.message.includes("'resize'"), error.message);
  }));
  assert.deepEqual(events, []);
  assert.equal(await tasker.countTasks(), 0);
  tasker.assignRunner('resize', runner('echo'));
  await tasker.start();
  assert.equal(await tasker.waitForTaskOutputData(await tasker.addTask({ operation: 'resize', data: 7 })), 7);
});

test("onMissingRunner: 'queue' stores the task, start() reports its operation (event and warning), assignRunner runs it", T, async (t) => {
  const { warnings, logger } = recordingLogger();
  const tasker = createTasker(t, { onMissingRunner: 'queue', logger });
  tasker.assignRunner('echo', runner('echo'));
  const b = await tasker.addTask({ operation: 'b-op', data: 'b' });
  await tasker.addTask({ operation: 'a-op', data: 'a' });
  await tasker.addTask({ operation: 'echo', data: 'ran' });
  const missing = nextEvent(tasker, 'runners.missing');
  await tasker.start();
  assert.deepEqual(await missing, [['a-op', 'b-op']]);
  assert.equal(warnings.length, 1);
  assert.match(String(warnings[0]?.[0]), /'a-op', 'b-op'/);
  assert.equal((await tasker.getTask(b)).status, 'new');
  tasker.assignRunner('b-op', runner('echo'));
  assert.equal(await tasker.waitForTaskOutputData(b), 'b');
});

test('start() reports nothing when no task waits for a runner', T, async (t) => {
  const { warnings, logger } = recordingLogger();
  const tasker = createTasker(t, { logger });
  tasker.assignRunner('echo', runner('echo'));
  await tasker.addTask({ operation: 'echo' });
  const events = recordEvents(tasker, ['runners.missing']);
  await tasker.start();
  await tasker.onIdle();
  assert.deepEqual(events, []);
  assert.deepEqual(warnings, []);
});

test('tasks loaded from the store wait for their runner even with the default reject, and are reported', T, async (t) => {
  const dir = await tempDir(t);
  const first = new Tasker({ persistDir: dir, onMissingRunner: 'queue' });
  const uuid = await first.addTask({ operation: 'later', data: 'loaded' });
  await first.close();

  const second = createTasker(t, { persistDir: dir });
  const missing = nextEvent(second, 'runners.missing');
  await second.start();
  assert.deepEqual(await missing, [['later']]);
  assert.equal((await second.getTask(uuid)).status, 'new');
  // addTask for that operation is still refused until a runner is assigned.
  await assert.rejects(second.addTask({ operation: 'later' }), rejectsWith('ERR_RUNNER_NOT_ASSIGNED'));
  second.assignRunner('later', runner('echo'));
  assert.equal(await second.waitForTaskOutputData(uuid), 'loaded');
});

test('a bad onMissingRunner throws ERR_INVALID_OPTION', () => {
  for (const value of ['wait', null, 1, true]) {
    assert.throws(() => new Tasker({ onMissingRunner: value as never }), rejectsWith('ERR_INVALID_OPTION', (error) => {
      assert.ok(error instanceof TypeError);
      assert.ok(error.message.includes('onMissingRunner'));
    }));
  }
});
