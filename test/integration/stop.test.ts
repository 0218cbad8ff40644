import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AbortCodes, ErrorCodes, type LogEntry, type Tasker } from 'tasker';
import { runNode } from '../helpers/child.js';
import { nextEvent, recordEvents } from '../helpers/events.js';
import { runner } from '../helpers/fixtures.js';
import { createTasker } from '../helpers/tasker.js';

/** Safety net only: a test that hangs fails instead of blocking the run. */
const T = { timeout: 10_000 };

/** Resolves once `count` distinct tasks have logged `message`. Register before the tasks can log. */
function logsFrom(tasker: Tasker, message: string, count: number): Promise<string[]> {
  return new Promise((resolve) => {
    const uuids = new Set<string>();
    const onLog = (uuid: string, entry: LogEntry): void => {
      if (entry.message !== message) return;
      uuids.add(uuid);
      if (uuids.size < count) return;
      tasker.off('task.log', onLog);
      resolve([...uuids]);
    };
    tasker.on('task.log', onLog);
  });
}

test('stop() aborts running tasks with ERR_TASKER_STOPPED, waits for their end, then emits stopped (original bug 9)', T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 2, abortGraceMs: 200 });
  tasker.assignRunner('hang', runner('hang-until-abort'));
  tasker.assignRunner('ignore', runner('ignore-abort'));
  await tasker.start();
  const hangLogged = logsFrom(tasker, 'waiting for abort', 1);
  const ignoreLogged = logsFrom(tasker, 'ignoring aborts', 1);
  // A long grace for the cooperative runner, so that only the other one can be terminated.
  const hang = await tasker.addTask({ operation: 'hang', abortGraceMs: 5000 });
  const ignore = await tasker.addTask({ operation: 'ignore' });
  await Promise.all([hangLogged, ignoreLogged]);
  const events = recordEvents(tasker, ['task.aborted', 'task.ended', 'stopped', 'task.done', 'task.failed']);

  let stopResolved = false;
  const stopping = tasker.stop().then(() => {
    stopResolved = true;
  });
  // stop() does not announce anything synchronously, and does not resolve before the tasks ended.
  assert.equal(events.length, 0, `no event: ${JSON.stringify(events)}`);
  await stopping;
  assert.ok(stopResolved);

  const tasks = await Promise.all([hang, ignore].map((uuid) => tasker.getTask(uuid)));
  for (const task of tasks) {
    assert.equal(task.status, 'aborted', `${task.operation} is aborted once stop() resolved`);
    assert.equal(task.abortReason?.code, AbortCodes.TASKER_STOPPED);
    assert.equal(task.abortReason?.name, 'AbortError');
  }
  assert.equal('terminated' in tasks[0]!, false, 'the cooperative runner settled by itself');
  assert.equal(tasks[1]!.terminated, true, 'the runner ignoring the abort was terminated');

  const names = events.map(([name, uuid]) => (name === 'stopped' ? name : `${name}:${uuid === hang ? 'hang' : 'ignore'}`));
  assert.equal(names.filter((name) => name === 'stopped').length, 1);
  assert.equal(names.at(-1), 'stopped', `stopped comes last: ${names.join(', ')}`);
  assert.deepEqual(names.filter((name) => name.startsWith('task.ended')).sort(), ['task.ended:hang', 'task.ended:ignore']);
  assert.deepEqual(names.filter((name) => name.startsWith('task.aborted')).sort(), ['task.aborted:hang', 'task.aborted:ignore']);
  assert.equal(names.length, 5);
  await assert.rejects(tasker.waitForTaskOutputData(hang), { code: ErrorCodes.TASK_ABORTED });
});

test('new tasks stay new across stop() and run after the next start()', T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 1, abortGraceMs: 2000 });
  tasker.assignRunner('hang', runner('hang-until-abort'));
  tasker.assignRunner('echo', runner('echo'));
  await tasker.start();
  const logged = logsFrom(tasker, 'waiting for abort', 1);
  const hang = await tasker.addTask({ operation: 'hang' });
  const queued = await tasker.addTask({ operation: 'echo', data: 'later', priority: 10 });
  await logged;
  assert.equal((await tasker.getTask(queued)).status, 'new', 'one thread: the echo task waits');
  const runs = recordEvents(tasker, ['task.run']);

  await tasker.stop();
  assert.equal((await tasker.getTask(hang)).status, 'aborted');
  // The hang task's end freed the thread during stop(): nothing may start then.
  const task = await tasker.getTask(queued);
  assert.equal(task.status, 'new');
  assert.equal('startedAt' in task, false);
  assert.equal(runs.length, 0, `no event: ${JSON.stringify(runs)}`);

  const added = await tasker.addTask({ operation: 'echo', data: 'added while stopped' });
  assert.equal((await tasker.getTask(added)).status, 'new');

  await tasker.start();
  assert.equal(await tasker.waitForTaskOutputData(queued), 'later');
  assert.equal(await tasker.waitForTaskOutputData(added), 'added while stopped');
  assert.deepEqual(runs.map(([, uuid]) => uuid), [queued, added]);
});

test('addTask works on a never-started tasker; the tasks run after start()', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('echo', runner('echo'));
  const uuids = await Promise.all(['a', 'b', 'c'].map((data) => tasker.addTask({ operation: 'echo', data })));
  for (const uuid of uuids) assert.equal((await tasker.getTask(uuid)).status, 'new');
  assert.equal(await tasker.countTasks({ status: 'new' }), 3);
  await tasker.start();
  assert.deepEqual(await Promise.all(uuids.map((uuid) => tasker.waitForTaskOutputData(uuid))), ['a', 'b', 'c']);
});

test('start() twice with one signal adds only one abort listener, and stop() removes it', T, async (t) => {
  const tasker = createTasker(t);
  const controller = new AbortController();
  const started = recordEvents(tasker, ['started']);
  await tasker.start(controller.signal);
  await tasker.start(controller.signal);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  assert.equal(started.length, 1, 'started is emitted once');
  await tasker.stop();
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
});

test('aborting the start() signal stops the tasker and aborts its running tasks', T, async (t) => {
  const tasker = createTasker(t, { abortGraceMs: 2000 });
  tasker.assignRunner('hang', runner('hang-until-abort'));
  tasker.assignRunner('echo', runner('echo'));
  const controller = new AbortController();
  await tasker.start(controller.signal);
  const logged = logsFrom(tasker, 'waiting for abort', 1);
  const hang = await tasker.addTask({ operation: 'hang' });
  await logged;

  const stopped = nextEvent(tasker, 'stopped');
  const events = recordEvents(tasker, ['task.ended', 'stopped']);
  controller.abort();
  await stopped;
  const task = await tasker.getTask(hang);
  assert.equal(task.status, 'aborted');
  assert.equal(task.abortReason?.code, AbortCodes.TASKER_STOPPED);
  assert.deepEqual(events.map(([name]) => name), ['task.ended', 'stopped']);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);

  // It is stopped: a new task is not run.
  const later = await tasker.addTask({ operation: 'echo', data: 'later' });
  assert.equal((await tasker.getTask(later)).status, 'new');
});

test('start() with an already-aborted signal does not start', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('echo', runner('echo'));
  const controller = new AbortController();
  controller.abort();
  const events = recordEvents(tasker, ['started', 'task.run']);
  await tasker.start(controller.signal);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  const uuid = await tasker.addTask({ operation: 'echo', data: 1 });
  assert.equal((await tasker.getTask(uuid)).status, 'new', 'nothing is dispatched');
  assert.equal(events.length, 0, `no event: ${JSON.stringify(events)}`);

  // A later start() without a signal works.
  await tasker.start();
  assert.equal(await tasker.waitForTaskOutputData(uuid), 1);
  assert.deepEqual(events.map(([name]) => name), ['started', 'task.run']);
});

test('stop() on a never-started tasker resolves', T, async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  const events = recordEvents(tasker, ['started', 'stopped']);
  await tasker.stop();
  await Promise.all([tasker.stop(), tasker.stop()]);
  const uuid = await tasker.addTask({ operation: 'none' });
  await tasker.stop();
  assert.equal((await tasker.getTask(uuid)).status, 'new');
  assert.equal(events.filter(([name]) => name === 'started').length, 0);
});

test('concurrent stop() calls share one stop and resolve together', T, async (t) => {
  const tasker = createTasker(t, { abortGraceMs: 100 });
  tasker.assignRunner('ignore', runner('ignore-abort'));
  await tasker.start();
  const logged = logsFrom(tasker, 'ignoring aborts', 1);
  const uuid = await tasker.addTask({ operation: 'ignore' });
  await logged;
  const events = recordEvents(tasker, ['stopped']);
  await Promise.all([tasker.stop(), tasker.stop()]);
  assert.equal(events.length, 1, 'stopped is emitted once');
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.equal(task.terminated, true);
});

test('onIdle() resolves once every task has ended, and idle is emitted after the last task.ended', T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 2 });
  tasker.assignRunner('echo', runner('echo'));
  tasker.assignRunner('fail', runner('fail'));
  const uuids = [
    await tasker.addTask({ operation: 'echo', data: 1 }),
    await tasker.addTask({ operation: 'fail' }),
    await tasker.addTask({ operation: 'echo', data: 3 }),
    await tasker.addTask({ operation: 'echo', data: 4 }),
  ];
  const events = recordEvents(tasker, ['task.ended', 'idle']);
  const idleEvent = nextEvent(tasker, 'idle');
  await tasker.start();
  await tasker.onIdle();

  const ended = events.filter(([name]) => name === 'task.ended').map(([, uuid]) => uuid);
  assert.deepEqual([...ended].sort(), [...uuids].sort(), 'every task.ended was emitted before onIdle() resolved');
  const statuses = await Promise.all(uuids.map(async (uuid) => (await tasker.getTask(uuid)).status));
  assert.deepEqual(statuses, ['done', 'failed', 'done', 'done']);
  await idleEvent;
  assert.equal(events.at(-1)?.[0], 'idle', `idle comes after every task.ended: ${events.map(([name]) => name).join(', ')}`);
  assert.equal(events.filter(([name]) => name === 'idle').length, 1);
  // Once idle, waiting on any task resolves at once.
  assert.deepEqual(await Promise.all([uuids[0]!, uuids[2]!].map((uuid) => tasker.waitForTaskOutputData(uuid))), [1, 3]);
});

// ---- the process can exit ----------------------------------------------------------

const SCRIPT = fileURLToPath(new URL('../fixtures/scripts/run-and-stop.mjs', import.meta.url));


test('a process whose tasker ran a task and was stopped exits on its own', { timeout: 15_000 }, async () => {
  const { code, signal, stdout, stderr } = await runNode(SCRIPT, ['done'], 10_000);
  assert.equal(signal, null, stderr);
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), { status: 'done', result: { hello: 'world' }, terminated: false, code: null });
});

test('a process whose tasker was stopped while a runner ignored the abort exits on its own', { timeout: 15_000 }, async () => {
  const { code, signal, stdout, stderr } = await runNode(SCRIPT, ['abort'], 10_000);
  assert.equal(signal, null, stderr);
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), { status: 'aborted', result: null, terminated: true, code: AbortCodes.TASKER_STOPPED });
});
