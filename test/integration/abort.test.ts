import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { AbortCodes, ErrorCodes, TaskAbortedError, type LogEntry, type Task, type Tasker } from 'tasker';
import { RecordingClock } from '../helpers/fake-clock.js';
import { rejectsWith } from '../helpers/assertions.js';
import { runner } from '../helpers/fixtures.js';
import { recordEvents } from '../helpers/events.js';
import { createTasker } from '../helpers/tasker.js';

/** Safety net only: a test that hangs fails instead of blocking the run. */
const T = { timeout: 10_000 };

/** Resolves with the uuid of the next task that logs `message`. Register before the task can log. */
function nextLog(tasker: Tasker, message: string): Promise<string> {
  return new Promise((resolve) => {
    const onLog = (uuid: string, entry: LogEntry): void => {
      if (entry.message !== message) return;
      tasker.off('task.log', onLog);
      resolve(uuid);
    };
    tasker.on('task.log', onLog);
  });
}


function abortedWith(abortCode: string, message?: RegExp) {
  return rejectsWith(ErrorCodes.TASK_ABORTED, (error) => {
    assert.ok(error instanceof TaskAbortedError);
    const cause = error.cause as Error & { code?: unknown };
    assert.ok(cause instanceof Error, 'cause is an Error');
    assert.equal(cause.name, 'AbortError');
    assert.equal(cause.code, abortCode);
    if (message !== undefined) assert.match(cause.message, message);
  });
}


// ---- new tasks ----------------------------------------------------------------

test('abortTask on a new task aborts it at once, settles its waiters and emits task.ended (original bug 1)', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('echo', runner('echo'));
  const uuid = await tasker.addTask({ operation: 'echo', data: 1 });
  const events = recordEvents(tasker, ['task.aborted', 'task.ended', `task.${uuid}.ended`, 'task.run']);
  const waiting = assert.rejects(tasker.waitForTaskOutputData(uuid), abortedWith(AbortCodes.REQUESTED, /^not needed any more$/));

  await tasker.abortTask(uuid, 'not needed any more');
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.equal(task.abortReason?.name, 'AbortError');
  assert.equal(task.abortReason?.code, AbortCodes.REQUESTED);
  assert.equal(task.abortReason?.message, 'not needed any more');
  assert.ok(task.endedAt instanceof Date);
  assert.equal('startedAt' in task, false);
  assert.equal('result' in task, false);
  assert.equal('terminated' in task, false);
  await waiting;
  await assert.rejects(tasker.waitForTaskOutputData(uuid), abortedWith(AbortCodes.REQUESTED));
  assert.deepEqual(
    events.map(([name, ...args]) => [name, ...args.slice(0, 2)]),
    [
      ['task.aborted', uuid, task.abortReason],
      ['task.ended', uuid, 'aborted'],
      [`task.${uuid}.ended`, 'aborted', task.abortReason],
    ],
  );

  // Starting afterwards does not run it.
  await tasker.start();
  assert.equal((await tasker.getTask(uuid)).status, 'aborted');
  assert.equal(events.filter(([name]) => name === 'task.run').length, 0);
});

test('abortTask without a reason uses a default message', T, async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  const uuid = await tasker.addTask({ operation: 'nobody' });
  await tasker.abortTask(uuid);
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.equal(task.abortReason?.code, AbortCodes.REQUESTED);
  assert.equal(typeof task.abortReason?.message, 'string');
  assert.ok(task.abortReason!.message.length > 0);
});

test('a new task waiting for its runner can be aborted and does not run once the runner is assigned', T, async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'late', data: 'x' });
  const keep = await tasker.addTask({ operation: 'late', data: 'kept' });
  const waiting = assert.rejects(tasker.waitForTaskOutputData(uuid), abortedWith(AbortCodes.REQUESTED));
  await tasker.abortTask(uuid, 'gone');
  await waiting;
  tasker.assignRunner('late', runner('echo'));
  assert.equal(await tasker.waitForTaskOutputData(keep), 'kept');
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.equal('startedAt' in task, false);
});

test('abortTask right after addTask never yields a task both done and aborted (original bug 2)', { timeout: 20_000 }, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('echo', runner('echo'));
  const events = recordEvents(tasker, ['task.run', 'task.done', 'task.failed', 'task.aborted', 'task.ended']);
  await tasker.start();
  const seen = { done: 0, aborted: 0 };
  for (let i = 0; i < 20; i++) {
    const uuid = await tasker.addTask({ operation: 'echo', data: { i } });
    await tasker.abortTask(uuid, `race ${i}`);
    const task: Task = await tasker.getTask(uuid);
    assert.ok(task.status === 'done' || task.status === 'aborted', `ended right after abortTask, got ${task.status}`);
    const output = await tasker.waitForTaskOutputData(uuid).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    if (task.status === 'done') {
      seen.done++;
      assert.deepEqual(task.result, { i });
      assert.equal('abortReason' in task, false);
      assert.equal('terminated' in task, false);
      assert.deepEqual(output, { ok: true, value: { i } });
    } else {
      seen.aborted++;
      assert.equal(task.abortReason?.code, AbortCodes.REQUESTED);
      assert.equal(task.abortReason?.message, `race ${i}`);
      assert.equal('result' in task, false);
      assert.equal('error' in task, false);
      assert.equal(output.ok, false);
      assert.equal((output as { error: { code?: unknown } }).error.code, ErrorCodes.TASK_ABORTED);
    }
    assert.equal((await tasker.getTask(uuid)).status, task.status, 'the end state does not change afterwards');
    const mine = events.filter(([, id]) => id === uuid).map(([name, , status]) => (name === 'task.ended' ? `ended:${String(status)}` : name));
    const outcomes = mine.filter((name) => name === 'task.done' || name === 'task.failed' || name === 'task.aborted');
    assert.deepEqual(outcomes, [`task.${task.status}`], `one outcome event for ${uuid}: ${mine.join(', ')}`);
    assert.deepEqual(mine.filter((name) => name.startsWith('ended:')), [`ended:${task.status}`]);
    assert.ok(mine.indexOf(`ended:${task.status}`) === mine.length - 1, `task.ended comes last: ${mine.join(', ')}`);
    if (task.status === 'done') assert.equal(mine[0], 'task.run');
  }
  assert.equal(seen.done + seen.aborted, 20);
  t.diagnostic(`ended done: ${seen.done}, aborted: ${seen.aborted}`);
});

// ---- running tasks --------------------------------------------------------------

test('aborting a cooperative running runner ends it aborted without terminating its thread', T, async (t) => {
  const tasker = createTasker(t, { abortGraceMs: 5000 });
  tasker.assignRunner('hang', runner('hang-until-abort'));
  await tasker.start();
  const logged = nextLog(tasker, 'waiting for abort');
  const uuid = await tasker.addTask({ operation: 'hang' });
  assert.equal(await logged, uuid);
  assert.equal((await tasker.getTask(uuid)).status, 'running');
  const events = recordEvents(tasker, ['task.ended']);

  await tasker.abortTask(uuid, 'please stop');
  // abortTask resolves only once the task has ended and its end was announced.
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.deepEqual(events.map(([name, id, status]) => [name, id, status]), [['task.ended', uuid, 'aborted']]);
  assert.equal(task.abortReason?.code, AbortCodes.REQUESTED);
  assert.equal(task.abortReason?.message, 'please stop');
  assert.equal('terminated' in task, false);
  assert.equal('error' in task, false);
  assert.ok(task.startedAt instanceof Date && task.endedAt instanceof Date);
  await assert.rejects(tasker.waitForTaskOutputData(uuid), abortedWith(AbortCodes.REQUESTED, /please stop/));
});

test('a runner ignoring the abort is terminated after abortGraceMs and the pool keeps serving', T, async (t) => {
  const graceMs = 200;
  const tasker = createTasker(t, { abortGraceMs: graceMs, maxThreads: 2 });
  tasker.assignRunner('ignore', runner('ignore-abort'));
  tasker.assignRunner('echo', runner('echo'));
  await tasker.start();
  const logged = nextLog(tasker, 'ignoring aborts');
  const uuid = await tasker.addTask({ operation: 'ignore' });
  assert.equal(await logged, uuid);

  const before = performance.now();
  await tasker.abortTask(uuid, 'go away');
  const elapsed = performance.now() - before;
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.equal(task.terminated, true);
  assert.equal(task.abortReason?.code, AbortCodes.REQUESTED);
  assert.equal(task.abortReason?.message, 'go away');
  assert.ok(elapsed >= graceMs - 20, `terminated only after the grace period (${elapsed.toFixed(0)} ms)`);

  // Both threads (the replaced one included) serve again.
  const next = await Promise.all([1, 2, 3, 4].map((n) => tasker.addTask({ operation: 'echo', data: n })));
  assert.deepEqual(await Promise.all(next.map((id) => tasker.waitForTaskOutputData(id))), [1, 2, 3, 4]);
});

test('a busy-loop runner with runTimeout is aborted with ERR_TASK_RUN_TIMEOUT and terminated', T, async (t) => {
  const tasker = createTasker(t, { abortGraceMs: 100, maxThreads: 2 });
  tasker.assignRunner('busy', runner('busy-loop'));
  tasker.assignRunner('echo', runner('echo'));
  await tasker.start();
  const busy = await tasker.addTask({ operation: 'busy', runTimeout: 100 });
  const others = await Promise.all([1, 2, 3].map((n) => tasker.addTask({ operation: 'echo', data: n })));
  assert.deepEqual(await Promise.all(others.map((id) => tasker.waitForTaskOutputData(id))), [1, 2, 3]);
  await assert.rejects(tasker.waitForTaskOutputData(busy), abortedWith(AbortCodes.RUN_TIMEOUT, /runTimeout/));
  const task = await tasker.getTask(busy);
  assert.equal(task.status, 'aborted');
  assert.equal(task.terminated, true);
  assert.equal(task.runTimeout, 100);
  assert.equal(task.abortReason?.code, AbortCodes.RUN_TIMEOUT);
  const after = await tasker.addTask({ operation: 'echo', data: 'after' });
  assert.equal(await tasker.waitForTaskOutputData(after), 'after');
});

test('while a busy-loop blocks one thread, tasks keep completing on the other until runTimeout ends it', T, async (t) => {
  const clock = new RecordingClock();
  const tasker = createTasker(t, { abortGraceMs: 300, maxThreads: 2, clock });
  tasker.assignRunner('busy', runner('busy-loop'));
  tasker.assignRunner('echo', runner('echo'));
  await tasker.start();
  const spinning = nextLog(tasker, 'spinning');
  const runTimer = clock.nextTimer();
  const busy = await tasker.addTask({ operation: 'busy', runTimeout: 100 });
  assert.equal(await runTimer, 100, 'the runTimeout timer is set when the task runs');
  assert.equal(await spinning, busy);

  // Time does not move: the busy task cannot time out while the others run.
  const others = await Promise.all([1, 2, 3, 4, 5].map((n) => tasker.addTask({ operation: 'echo', data: n })));
  assert.deepEqual(await Promise.all(others.map((id) => tasker.waitForTaskOutputData(id))), [1, 2, 3, 4, 5]);
  for (const id of others) assert.equal((await tasker.getTask(id)).status, 'done');
  assert.equal((await tasker.getTask(busy)).status, 'running');

  const ended = assert.rejects(tasker.waitForTaskOutputData(busy), abortedWith(AbortCodes.RUN_TIMEOUT));
  const graceTimer = clock.nextTimer();
  clock.advance(100);
  assert.equal(await graceTimer, 300, 'the grace timer uses abortGraceMs');
  assert.equal((await tasker.getTask(busy)).status, 'running', 'still running during the grace period');
  clock.advance(300);
  await ended;
  const task = await tasker.getTask(busy);
  assert.equal(task.status, 'aborted');
  assert.equal(task.terminated, true);
});

test('a per-task abortGraceMs overrides the tasker option', T, async (t) => {
  const clock = new RecordingClock();
  const tasker = createTasker(t, { abortGraceMs: 60_000, maxThreads: 2, clock });
  tasker.assignRunner('ignore', runner('ignore-abort'));
  await tasker.start();

  const logged = nextLog(tasker, 'ignoring aborts');
  const uuid = await tasker.addTask({ operation: 'ignore', abortGraceMs: 50 });
  assert.equal(await logged, uuid);
  assert.equal((await tasker.getTask(uuid)).abortGraceMs, 50);

  const graceTimer = clock.nextTimer();
  const aborting = tasker.abortTask(uuid, 'short grace');
  assert.equal(await graceTimer, 50, 'the grace timer uses the task abortGraceMs');
  assert.equal((await tasker.getTask(uuid)).status, 'running');
  clock.advance(50);
  await aborting;
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.equal(task.terminated, true);

  // Without an override the option applies.
  const loggedDefault = nextLog(tasker, 'ignoring aborts');
  const other = await tasker.addTask({ operation: 'ignore' });
  assert.equal(await loggedDefault, other);
  const defaultTimer = clock.nextTimer();
  const abortingDefault = tasker.abortTask(other);
  assert.equal(await defaultTimer, 60_000);
  clock.advance(60_000);
  await abortingDefault;
  assert.equal((await tasker.getTask(other)).terminated, true);
});

// ---- the task's own abortSignal ---------------------------------------------------

test('a task whose abortSignal is already aborted is aborted with ERR_TASK_SIGNAL_ABORTED and never runs', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('echo', runner('echo'));
  await tasker.start();
  const events = recordEvents(tasker, ['task.run', 'task.ended']);
  const controller = new AbortController();
  controller.abort('not wanted');
  const uuid = await tasker.addTask({ operation: 'echo', data: 1, abortSignal: controller.signal });
  await assert.rejects(tasker.waitForTaskOutputData(uuid), abortedWith(AbortCodes.SIGNAL, /not wanted/));
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.equal(task.abortReason?.code, AbortCodes.SIGNAL);
  assert.equal('startedAt' in task, false);
  assert.equal('result' in task, false);
  assert.deepEqual(events.map(([name, id, status]) => [name, id, status]), [['task.ended', uuid, 'aborted']]);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
});

test('a task whose abortSignal fires while it runs is aborted with ERR_TASK_SIGNAL_ABORTED', T, async (t) => {
  const tasker = createTasker(t, { abortGraceMs: 5000 });
  tasker.assignRunner('hang', runner('hang-until-abort'));
  await tasker.start();
  const controller = new AbortController();
  const logged = nextLog(tasker, 'waiting for abort');
  const uuid = await tasker.addTask({ operation: 'hang', abortSignal: controller.signal });
  assert.equal(await logged, uuid);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1, 'the tasker listens to the signal');

  const ended = assert.rejects(tasker.waitForTaskOutputData(uuid), abortedWith(AbortCodes.SIGNAL, /user cancelled/));
  controller.abort(new Error('user cancelled'));
  await ended;
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.equal(task.abortReason?.code, AbortCodes.SIGNAL);
  assert.equal('terminated' in task, false);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
});

test('no abort listener is left on a task abortSignal once the task ended done or failed (original bug 11)', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('echo', runner('echo'));
  tasker.assignRunner('fail', runner('fail'));
  const doneSignal = new AbortController().signal;
  const failSignal = new AbortController().signal;
  const shared = new AbortController().signal;
  const done = await tasker.addTask({ operation: 'echo', data: 'ok', abortSignal: doneSignal });
  const failed = await tasker.addTask({ operation: 'fail', abortSignal: failSignal });
  const sharedA = await tasker.addTask({ operation: 'echo', data: 'a', abortSignal: shared });
  const sharedB = await tasker.addTask({ operation: 'echo', data: 'b', abortSignal: shared });
  assert.equal(getEventListeners(doneSignal, 'abort').length, 1);
  assert.equal(getEventListeners(failSignal, 'abort').length, 1);
  assert.equal(getEventListeners(shared, 'abort').length, 2);

  await tasker.start();
  assert.equal(await tasker.waitForTaskOutputData(done), 'ok');
  await assert.rejects(tasker.waitForTaskOutputData(failed), { code: ErrorCodes.TASK_FAILED });
  assert.deepEqual(await Promise.all([tasker.waitForTaskOutputData(sharedA), tasker.waitForTaskOutputData(sharedB)]), ['a', 'b']);
  assert.equal(getEventListeners(doneSignal, 'abort').length, 0);
  assert.equal(getEventListeners(failSignal, 'abort').length, 0);
  assert.equal(getEventListeners(shared, 'abort').length, 0);
});

// ---- abortTask edge cases ------------------------------------------------------------

test('abortTask on an ended task changes nothing', T, async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  tasker.assignRunner('echo', runner('echo'));
  tasker.assignRunner('fail', runner('fail'));
  await tasker.start();
  const done = await tasker.addTask({ operation: 'echo', data: { v: 1 } });
  const failed = await tasker.addTask({ operation: 'fail' });
  await tasker.waitForTaskOutputData(done);
  await assert.rejects(tasker.waitForTaskOutputData(failed), { code: ErrorCodes.TASK_FAILED });
  const aborted = await tasker.addTask({ operation: 'nobody' });
  await tasker.abortTask(aborted, 'first');

  const before = await Promise.all([done, failed, aborted].map((id) => tasker.getTask(id)));
  const events = recordEvents(tasker, ['task.aborted', 'task.ended', 'task.done', 'task.failed']);
  await tasker.abortTask(done, 'too late');
  await tasker.abortTask(failed, 'too late');
  await tasker.abortTask(aborted, 'second');
  const after = await Promise.all([done, failed, aborted].map((id) => tasker.getTask(id)));
  assert.deepEqual(after, before);
  assert.equal(after[0]!.status, 'done');
  assert.equal(after[1]!.status, 'failed');
  assert.equal(after[2]!.abortReason?.message, 'first');
  assert.equal(events.length, 0, `no event: ${JSON.stringify(events)}`);
  assert.deepEqual(await tasker.waitForTaskOutputData(done), { v: 1 });
});

test('abortTask of an unknown uuid rejects with ERR_TASK_NOT_FOUND', async (t) => {
  const tasker = createTasker(t);
  await assert.rejects(tasker.abortTask(randomUUID()), { code: ErrorCodes.TASK_NOT_FOUND });
  await assert.rejects(tasker.abortTask(randomUUID(), 'reason'), { code: ErrorCodes.TASK_NOT_FOUND });
});

test('abortTask resolves only after a terminated task has ended', T, async (t) => {
  const tasker = createTasker(t, { abortGraceMs: 100 });
  tasker.assignRunner('ignore', runner('ignore-abort'));
  await tasker.start();
  const logged = nextLog(tasker, 'ignoring aborts');
  const uuid = await tasker.addTask({ operation: 'ignore' });
  await logged;
  const events = recordEvents(tasker, ['task.aborted', 'task.ended']);
  const first = tasker.abortTask(uuid, 'one');
  const second = tasker.abortTask(uuid, 'two');
  await first;
  assert.equal((await tasker.getTask(uuid)).status, 'aborted');
  assert.deepEqual(events.map(([name]) => name), ['task.aborted', 'task.ended']);
  await second;
  const task = await tasker.getTask(uuid);
  assert.equal(task.terminated, true);
  assert.equal(task.abortReason?.message, 'one', 'the first abort reason is kept');
  assert.equal(events.length, 2);
});
