/**
 * Promise coherence of the public API: every async method of Tasker, given bad
 * input, returns a promise that rejects with a TaskerError and its stable
 * code; none throws synchronously. `assignRunner` is synchronous by design and
 * throws; `listenTaskLogs` and `listenTaskProgress` report through their iterators. The type-level side
 * is test/types/promise-coherence.test-d.ts.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { Tasker, TaskerError, type StoredTask, type TaskStore } from 'tasker';
import { rejectsWith } from '../helpers/assertions.js';
import { runner } from '../helpers/fixtures.js';
import { createTasker } from '../helpers/tasker.js';

const T = { timeout: 20_000 };

/** The methods of Tasker itself that return a promise (all but assignRunner, listenTaskLogs and listenTaskProgress). */
const ASYNC_METHODS = [
  'start', 'stop', 'close', 'onIdle', 'addTask', 'abortTask', 'updateTask', 'postponeTask', 'prioritizeTask', 'removeTask', 'removeTasks',
  'getTask', 'hasTask', 'countTasks', 'findTask', 'findTasks', 'getStats', 'waitForTaskOutputData',
] as const;
type AsyncMethod = (typeof ASYNC_METHODS)[number];

/** Calls `call`, which must return a promise (not throw), and asserts that it rejects with a TaskerError of `code`. */
async function rejectsAsync(label: string, call: () => unknown, code: string): Promise<void> {
  let returned: unknown;
  try {
    returned = call();
  } catch (error) {
    assert.fail(`${label} threw synchronously: ${String(error)}`);
  }
  assert.ok(returned instanceof Promise, `${label} returns a promise`);
  await assert.rejects(returned, rejectsWith(code, (error) => assert.ok(error instanceof TaskerError, `${label}: a TaskerError`)), label);
}

test('the list of async methods is every method of Tasker but assignRunner, listenTaskLogs and listenTaskProgress', () => {
  // EventEmitter's methods that Tasker overrides (removeAllListeners) are EventEmitter's API, not Tasker's.
  const own = Object.getOwnPropertyNames(Tasker.prototype).filter((name) => name !== 'constructor' && !(name in EventEmitter.prototype));
  assert.deepEqual(own.sort(), [...ASYNC_METHODS, 'assignRunner', 'listenTaskLogs', 'listenTaskProgress'].sort());
});

test('every async method rejects bad input with its code, never throwing synchronously', T, async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  tasker.assignRunner('fail', runner('fail'));
  const unknown = '00000000-0000-7000-8000-000000000000';
  // A task that stays new (no runner), and one aborted while new: no thread needed for either.
  const pending = await tasker.addTask({ operation: 'no-runner' });
  const aborted = await tasker.addTask({ operation: 'no-runner' });
  await tasker.abortTask(aborted);

  const cases: Array<[AsyncMethod, string, () => unknown, string]> = [
    ['start', 'a signal that is not an AbortSignal', () => tasker.start('signal' as never), 'ERR_INVALID_OPTION'],
    ['addTask', 'no definition', () => tasker.addTask(undefined as never), 'ERR_INVALID_TASK'],
    ['addTask', 'an empty operation', () => tasker.addTask({ operation: '' }), 'ERR_INVALID_TASK'],
    ['addTask', 'a function in data', () => tasker.addTask({ operation: 'x', data: { fn: () => 1 } }), 'ERR_INVALID_TASK'],
    ['addTask', 'a condition that runs code', () => tasker.addTask({ operation: 'x', concurrency: [{ scope: 'running', limit: 1, query: { $where: 'true' } }] }), 'ERR_INVALID_TASK'],
    ['abortTask', 'an unknown uuid', () => tasker.abortTask(unknown), 'ERR_TASK_NOT_FOUND'],
    ['abortTask', 'a reason that is not a string', () => tasker.abortTask(pending, 5 as never), 'ERR_INVALID_OPTION'],
    ['stop', 'a bad running policy', () => tasker.stop({ running: 'later' as never }), 'ERR_INVALID_OPTION'],
    ['updateTask', 'a field that cannot change', () => tasker.updateTask(pending, { operation: 'x' } as never), 'ERR_INVALID_TASK'],
    ['updateTask', 'an unknown uuid', () => tasker.updateTask(unknown, { priority: 1 }), 'ERR_TASK_NOT_FOUND'],
    ['updateTask', 'an ended task', () => tasker.updateTask(aborted, { priority: 1 }), 'ERR_TASK_STATE'],
    ['postponeTask', 'an unknown uuid', () => tasker.postponeTask(unknown), 'ERR_TASK_NOT_FOUND'],
    ['postponeTask', 'an ended task', () => tasker.postponeTask(aborted), 'ERR_TASK_STATE'],
    ['prioritizeTask', 'NaN', () => tasker.prioritizeTask(pending, Number.NaN), 'ERR_INVALID_OPTION'],
    ['prioritizeTask', 'an unknown uuid', () => tasker.prioritizeTask(unknown, 1), 'ERR_TASK_NOT_FOUND'],
    ['prioritizeTask', 'an ended task', () => tasker.prioritizeTask(aborted, 1), 'ERR_TASK_STATE'],
    ['removeTask', 'a task that has not ended', () => tasker.removeTask(pending), 'ERR_TASK_STATE'],
    ['removeTask', 'a uuid that is not a string', () => tasker.removeTask(42 as never), 'ERR_TASK_NOT_FOUND'],
    ['removeTasks', 'no query', () => tasker.removeTasks(undefined as never), 'ERR_INVALID_QUERY'],
    ['removeTasks', 'a $where query', () => tasker.removeTasks({ $where: 'true' }), 'ERR_INVALID_QUERY'],
    ['removeTasks', 'a query selecting a new task', () => tasker.removeTasks({ status: 'new' }), 'ERR_TASK_STATE'],
    ['getTask', 'an unknown uuid', () => tasker.getTask(unknown), 'ERR_TASK_NOT_FOUND'],
    ['getTask', 'an unknown option', () => tasker.getTask(pending, { withlogs: true } as never), 'ERR_INVALID_QUERY'],
    ['getTask', 'a bad logsMaxLevel', () => tasker.getTask(pending, { logsMaxLevel: 'loud' as never }), 'ERR_INVALID_QUERY'],
    ['hasTask', 'a query that is not an object', () => tasker.hasTask('status' as never), 'ERR_INVALID_QUERY'],
    ['countTasks', 'an unknown operator', () => tasker.countTasks({ status: { $nope: 1 } }), 'ERR_INVALID_QUERY'],
    ['findTask', 'an option of findTasks only', () => tasker.findTask({}, { limit: 1 } as never), 'ERR_INVALID_QUERY'],
    ['findTasks', 'a negative skip', () => tasker.findTasks({}, { skip: -1 }), 'ERR_INVALID_QUERY'],
    ['findTasks', 'a sort that is not 1 or -1', () => tasker.findTasks({}, { sort: { priority: 2 as never } }), 'ERR_INVALID_QUERY'],
    ['waitForTaskOutputData', 'an unknown uuid', () => tasker.waitForTaskOutputData(unknown), 'ERR_TASK_NOT_FOUND'],
    ['waitForTaskOutputData', 'an aborted task', () => tasker.waitForTaskOutputData(aborted), 'ERR_TASK_ABORTED'],
  ];
  for (const [method, what, call, code] of cases) await rejectsAsync(`${method}(${what})`, call, code);

  // A failed task, run in a thread.
  await tasker.start();
  const failed = await tasker.addTask({ operation: 'fail' });
  await rejectsAsync('waitForTaskOutputData(a failed task)', () => tasker.waitForTaskOutputData(failed), 'ERR_TASK_FAILED');

  // After close(), every async method but stop and close rejects with ERR_TASKER_CLOSED.
  await tasker.close();
  const afterClose: Array<[AsyncMethod, () => unknown]> = [
    ['start', () => tasker.start()],
    ['onIdle', () => tasker.onIdle()],
    ['addTask', () => tasker.addTask({ operation: 'x' })],
    ['abortTask', () => tasker.abortTask(pending)],
    ['updateTask', () => tasker.updateTask(pending, { priority: 1 })],
    ['postponeTask', () => tasker.postponeTask(pending)],
    ['prioritizeTask', () => tasker.prioritizeTask(pending, 1)],
    ['removeTask', () => tasker.removeTask(aborted)],
    ['removeTasks', () => tasker.removeTasks({ status: 'aborted' })],
    ['getTask', () => tasker.getTask(pending)],
    ['hasTask', () => tasker.hasTask({})],
    ['countTasks', () => tasker.countTasks()],
    ['findTask', () => tasker.findTask({})],
    ['findTasks', () => tasker.findTasks()],
    ['getStats', () => tasker.getStats()],
    ['waitForTaskOutputData', () => tasker.waitForTaskOutputData(pending)],
  ];
  for (const [method, call] of afterClose) await rejectsAsync(`${method} after close()`, call, 'ERR_TASKER_CLOSED');
  await tasker.stop();
  await tasker.close();

  // Every async method was exercised with bad input, and every one but stop and close after close().
  const tested = new Set(cases.map(([method]) => method));
  // getStats takes no input: it can fail only through the store (after close, or on a store that cannot be opened).
  assert.deepEqual(ASYNC_METHODS.filter((method) => !tested.has(method)), ['close', 'onIdle', 'getStats']);
  const testedClosed = new Set(afterClose.map(([method]) => method));
  assert.deepEqual(ASYNC_METHODS.filter((method) => !testedClosed.has(method)), ['stop', 'close']);
});

test('on a store that cannot be opened every async method rejects, stop and close resolve, nothing throws synchronously', T, async () => {
  const store: TaskStore = {
    load: async (): Promise<StoredTask[]> => {
      throw new Error('the disk is gone');
    },
    commit: async () => {},
    close: async () => {},
  };
  const tasker = new Tasker({ store });
  const calls: Array<[AsyncMethod, () => unknown]> = [
    ['start', () => tasker.start()],
    ['onIdle', () => tasker.onIdle()],
    ['addTask', () => tasker.addTask({ operation: 'x' })],
    ['abortTask', () => tasker.abortTask('x')],
    ['updateTask', () => tasker.updateTask('x', { priority: 1 })],
    ['postponeTask', () => tasker.postponeTask('x')],
    ['prioritizeTask', () => tasker.prioritizeTask('x', 1)],
    ['removeTask', () => tasker.removeTask('x')],
    ['removeTasks', () => tasker.removeTasks({})],
    ['getTask', () => tasker.getTask('x')],
    ['hasTask', () => tasker.hasTask({})],
    ['countTasks', () => tasker.countTasks()],
    ['findTask', () => tasker.findTask({})],
    ['findTasks', () => tasker.findTasks()],
    ['getStats', () => tasker.getStats()],
    ['waitForTaskOutputData', () => tasker.waitForTaskOutputData('x')],
  ];
  for (const [method, call] of calls) await rejectsAsync(`${method} on a store that cannot be opened`, call, 'ERR_STORE_OPEN_FAILED');
  const stopped = tasker.stop();
  assert.ok(stopped instanceof Promise);
  await stopped;
  const closed = tasker.close();
  assert.ok(closed instanceof Promise);
  await closed;
});

test('the synchronous exceptions: assignRunner and the constructor throw, listenTaskLogs and listenTaskProgress fail through their iterators', T, async (t) => {
  assert.throws(() => new Tasker({ maxThreads: 0 }), rejectsWith('ERR_INVALID_OPTION'));
  assert.throws(() => new Tasker({ maxthreads: 1 } as never), rejectsWith('ERR_INVALID_OPTION'));

  const tasker = createTasker(t);
  assert.throws(() => tasker.assignRunner('', runner('sum')), rejectsWith('ERR_INVALID_RUNNER'));
  assert.throws(() => tasker.assignRunner('fn', (() => 1) as never), rejectsWith('ERR_INVALID_RUNNER'));
  assert.throws(() => tasker.assignRunner('missing', '/no/such/runner.mjs'), rejectsWith('ERR_INVALID_RUNNER'));
  tasker.assignRunner('sum', runner('sum'));
  assert.throws(() => tasker.assignRunner('sum', runner('sum')), rejectsWith('ERR_RUNNER_ALREADY_ASSIGNED'));

  // listenTaskLogs returns its iterator at once; the first next() rejects.
  const badOptions = tasker.listenTaskLogs('x', { follow: true } as never);
  await assert.rejects(badOptions.next(), rejectsWith('ERR_INVALID_QUERY'));
  const unknownTask = tasker.listenTaskLogs('00000000-0000-7000-8000-000000000000');
  await assert.rejects(unknownTask.next(), rejectsWith('ERR_TASK_NOT_FOUND'));
  const badProgressOptions = tasker.listenTaskProgress('x', { fromBeginning: true } as never);
  await assert.rejects(badProgressOptions.next(), rejectsWith('ERR_INVALID_QUERY'));
  const badSignal = tasker.listenTaskProgress('x', { abortSignal: 'now' as never });
  await assert.rejects(badSignal.next(), rejectsWith('ERR_INVALID_QUERY'));
  const unknownProgress = tasker.listenTaskProgress('00000000-0000-7000-8000-000000000000');
  await assert.rejects(unknownProgress.next(), rejectsWith('ERR_TASK_NOT_FOUND'));

  await tasker.close();
  assert.throws(() => tasker.assignRunner('late', runner('sum')), rejectsWith('ERR_TASKER_CLOSED'));
  const closed = tasker.listenTaskLogs('x');
  await assert.rejects(closed.next(), rejectsWith('ERR_TASKER_CLOSED'));
  const closedProgress = tasker.listenTaskProgress('x');
  await assert.rejects(closedProgress.next(), rejectsWith('ERR_TASKER_CLOSED'));
});
