/**
 * `queueTimeout`: a task still `new` that many ms after it entered the queue
 * (its `createdAt`, or its `queuedAt` once a retry, a postpone or a requeue
 * put it back) is aborted with ERR_TASK_QUEUE_TIMEOUT. Starting in time
 * cancels it. Deadlines are checked only while the tasker is started; those
 * that passed meanwhile fire on start(). Per task, or a runner's default.
 *
 * Time is a FakeClock. Tasks are kept queued by a stopped tasker, by an
 * operation without a runner, or by one thread held by the `gate` runner.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import { AbortCodes, type SerializedError, type Tasker } from 'tasker';
import { nextEvent, recordEvents } from '../helpers/events.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { runner } from '../helpers/fixtures.js';
import { readStoreFiles, writeStoreFiles, type Json } from '../helpers/store-files.js';
import { createTasker, tempDir } from '../helpers/tasker.js';

const T = { timeout: 20_000 };
const QUEUE_TIMEOUT = AbortCodes.QUEUE_TIMEOUT;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Gate tasks by name: `data(name)` for addTask, `started(name)` once it holds its thread, `release(name)`. */
function gates(t: TestContext, tasker: Tasker) {
  const channel = `gate-${randomUUID()}`;
  const bc = new BroadcastChannel(channel);
  t.after(() => bc.close());
  const started = new Set<string>();
  const waiters = new Map<string, Array<() => void>>();
  tasker.on('task.log', (_uuid, log) => {
    const name = (log.data as { name?: string } | undefined)?.name;
    if (log.message !== 'started' || name === undefined) return;
    started.add(name);
    for (const resolve of waiters.get(name) ?? []) resolve();
    waiters.delete(name);
  });
  return {
    data: (name: string) => ({ channel, name }),
    started: (name: string): Promise<void> =>
      started.has(name) ? Promise.resolve() : new Promise((resolve) => waiters.set(name, [...(waiters.get(name) ?? []), resolve])),
    release: (name: string): void => bc.postMessage(`release:${name}`),
  };
}

/** Holds the only thread with a gate task named 'block'; returns its uuid. */
async function holdThread(tasker: Tasker, gate: ReturnType<typeof gates>): Promise<string> {
  const started = gate.started('block');
  const uuid = await tasker.addTask({ operation: 'gate', data: gate.data('block') });
  await started;
  return uuid;
}

function assertQueueTimeout(reason: SerializedError | undefined, ms: number): void {
  assert.equal(reason?.name, 'AbortError');
  assert.equal(reason?.code, QUEUE_TIMEOUT);
  assert.match(reason?.message ?? '', new RegExp(`\\b${ms} ms\\b`));
}

test('a task still new after its queueTimeout is aborted ERR_TASK_QUEUE_TIMEOUT (events, waiters, store); one that started in time is not', T, async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock();
  const tasker = createTasker(t, { onMissingRunner: 'queue', persistDir: dir, clock, maxThreads: 1 });
  tasker.assignRunner('gate', runner('gate'));
  const gate = gates(t, tasker);
  await tasker.start();
  const t0 = clock.now();

  const heldStarted = gate.started('held');
  const held = await tasker.addTask({ operation: 'gate', data: gate.data('held'), queueTimeout: 100 });
  await heldStarted;
  const queued = await tasker.addTask({ operation: 'gate', data: gate.data('queued'), queueTimeout: 100 });
  const seen = recordEvents(tasker, ['task.run', 'task.aborted', `task.${queued}.aborted`, 'task.ended', `task.${queued}.ended`]);
  const waiting = assert.rejects(tasker.waitForTaskOutputData(queued), (error: Error & { code?: string; cause?: { code?: string } }) => {
    assert.equal(error.code, 'ERR_TASK_ABORTED');
    assert.equal(error.cause?.code, QUEUE_TIMEOUT);
    return true;
  });

  clock.advance(99);
  assert.equal((await tasker.getTask(queued)).status, 'new', 'not before its queueTimeout');
  assert.equal(seen.length, 0);
  const aborted = nextEvent(tasker, `task.${queued}.ended`);
  clock.advance(1);
  await aborted;
  await waiting;

  const task = await tasker.getTask(queued);
  assert.equal(task.status, 'aborted');
  assertQueueTimeout(task.abortReason, 100);
  assert.equal(task.startedAt, undefined, 'it never ran');
  assert.deepEqual(task.endedAt, new Date(t0 + 100));
  const reason = task.abortReason!;
  assert.deepEqual(seen, [
    ['task.aborted', queued, reason],
    [`task.${queued}.aborted`, reason],
    ['task.ended', queued, 'aborted', reason],
    [`task.${queued}.ended`, 'aborted', reason],
  ]);
  const stored = readStoreFiles(dir).tasks.get(queued)!;
  assert.equal(stored['status'], 'aborted');
  assert.equal((stored['abortReason'] as Json)['code'], QUEUE_TIMEOUT);
  assert.equal(stored['queueTimeout'], 100);

  // The task that started in time, with the same queueTimeout, is not affected.
  clock.advance(10_000);
  assert.equal((await tasker.getTask(held)).status, 'running');
  gate.release('held');
  assert.equal(await tasker.waitForTaskOutputData(held), 'held');
  assert.deepEqual(seen.filter(([name]) => name === 'task.aborted'), [['task.aborted', queued, reason]], 'one abort in all');
  assert.deepEqual(seen.filter(([name]) => name === 'task.run'), [], 'the timed-out task never ran');
});

test('a task that starts before its queueTimeout is not aborted later: starting cancels the timeout', T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { onMissingRunner: 'queue', clock, maxThreads: 1 });
  tasker.assignRunner('gate', runner('gate'));
  const gate = gates(t, tasker);
  await tasker.start();
  await holdThread(tasker, gate);
  const soon = await tasker.addTask({ operation: 'gate', data: gate.data('soon'), queueTimeout: 100 });
  const aborts = recordEvents(tasker, ['task.aborted']);

  clock.advance(60);
  const soonStarted = gate.started('soon');
  gate.release('block');
  await soonStarted;
  assert.equal((await tasker.getTask(soon)).status, 'running');
  clock.advance(10_000);
  assert.equal((await tasker.getTask(soon)).status, 'running', 'past its queueTimeout, still running');
  gate.release('soon');
  assert.equal(await tasker.waitForTaskOutputData(soon), 'soon');
  assert.deepEqual(aborts, []);
});

test("a runner's queueTimeout applies to its tasks without their own; a task's own wins; tasks added before the runner get it too", T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { onMissingRunner: 'queue', clock, maxThreads: 1 });
  tasker.assignRunner('gate', runner('gate'));
  tasker.assignRunner('slow', runner('gate'), { queueTimeout: 100 });
  const gate = gates(t, tasker);
  await tasker.start();
  const t0 = clock.now();
  await holdThread(tasker, gate);
  const byDefault = await tasker.addTask({ operation: 'slow', data: gate.data('default') });
  const own = await tasker.addTask({ operation: 'slow', data: gate.data('own'), queueTimeout: 300 });
  const shorter = await tasker.addTask({ operation: 'slow', data: gate.data('shorter'), queueTimeout: 50 });
  const other = await tasker.addTask({ operation: 'gate', data: gate.data('other') });
  const early = await tasker.addTask({ operation: 'late', data: gate.data('early') });

  clock.advance(50);
  assertQueueTimeout((await tasker.getTask(shorter)).abortReason, 50);
  assert.equal((await tasker.getTask(byDefault)).status, 'new');
  clock.advance(50);
  const defaultTask = await tasker.getTask(byDefault);
  assert.equal(defaultTask.status, 'aborted');
  assertQueueTimeout(defaultTask.abortReason, 100);
  assert.deepEqual(defaultTask.endedAt, new Date(t0 + 100));
  assert.equal(defaultTask.queueTimeout, undefined, "the runner's default is not stored with the task");
  assert.equal((await tasker.getTask(own)).status, 'new', 'its own queueTimeout (300) wins over the runner’s (100)');
  clock.advance(199);
  assert.equal((await tasker.getTask(own)).status, 'new');
  clock.advance(1);
  assertQueueTimeout((await tasker.getTask(own)).abortReason, 300);
  assert.equal((await tasker.getTask(other)).status, 'new', 'another operation has no queueTimeout');

  // 'late' gets a runner (with a default) 300 ms after its task was created: overdue, aborted at once.
  const earlyEnded = nextEvent(tasker, `task.${early}.ended`);
  tasker.assignRunner('late', runner('gate'), { queueTimeout: 100 });
  clock.advance(0);
  const [status, reason] = await earlyEnded;
  assert.equal(status, 'aborted');
  assertQueueTimeout(reason as SerializedError, 100);
});

test('deadlines are checked only while started: a stopped tasker aborts nothing; on start() the overdue tasks are aborted at once', T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { onMissingRunner: 'queue', clock, maxThreads: 1 });
  tasker.assignRunner('gate', runner('gate'));
  const gate = gates(t, tasker);
  const t0 = clock.now();
  // Added while stopped, in this order: 'block' will take the only thread at start().
  const block = await tasker.addTask({ operation: 'gate', data: gate.data('block') });
  const queued = await tasker.addTask({ operation: 'gate', data: gate.data('queued'), queueTimeout: 100 });
  const noRunner = await tasker.addTask({ operation: 'nobody', queueTimeout: 100 });
  const aborts = recordEvents(tasker, ['task.aborted']);

  clock.advance(1_000);
  await tasker.onIdle();
  assert.equal((await tasker.getTask(queued)).status, 'new', 'not aborted while the tasker is stopped');
  assert.equal((await tasker.getTask(noRunner)).status, 'new');
  assert.equal(aborts.length, 0);

  const blockStarted = gate.started('block');
  const ended = Promise.all([nextEvent(tasker, `task.${queued}.ended`), nextEvent(tasker, `task.${noRunner}.ended`)]);
  await tasker.start();
  clock.advance(0); // no time passes
  await ended;
  for (const uuid of [queued, noRunner]) {
    const task = await tasker.getTask(uuid);
    assert.equal(task.status, 'aborted');
    assertQueueTimeout(task.abortReason, 100);
    assert.deepEqual(task.endedAt, new Date(t0 + 1_000));
  }
  await blockStarted;
  assert.equal((await tasker.getTask(block)).status, 'running');

  // A task without a runner that was aborted stays aborted when its runner comes.
  tasker.assignRunner('nobody', runner('echo'));
  gate.release('block');
  await tasker.onIdle();
  assert.equal((await tasker.getTask(noRunner)).status, 'aborted');
  assert.deepEqual(aborts.map(([, uuid]) => uuid).sort(), [queued, noRunner].sort());
});

test('stop() pauses the deadlines; the next start() fires the ones that passed meanwhile', T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { onMissingRunner: 'queue', clock });
  await tasker.start();
  const t0 = clock.now();
  const uuid = await tasker.addTask({ operation: 'nobody', queueTimeout: 100 });
  const later = await tasker.addTask({ operation: 'nobody', queueTimeout: 5_000 });
  clock.advance(50);
  await tasker.stop();
  clock.advance(1_000);
  assert.equal((await tasker.getTask(uuid)).status, 'new', 'stopped: not aborted');
  const ended = nextEvent(tasker, `task.${uuid}.ended`);
  await tasker.start();
  clock.advance(0);
  await ended;
  const task = await tasker.getTask(uuid);
  assertQueueTimeout(task.abortReason, 100);
  assert.deepEqual(task.endedAt, new Date(t0 + 1_050), 'aborted at start(), when the time was found to have passed');
  assert.equal((await tasker.getTask(later)).status, 'new', 'a deadline not yet passed still waits');
  clock.advance(5_000 - 1_050 - 1);
  assert.equal((await tasker.getTask(later)).status, 'new');
  clock.advance(1);
  assertQueueTimeout((await tasker.getTask(later)).abortReason, 5_000);
});

test(
  'on start(), an overdue task is aborted even when a thread is free for it',
  T,
  async (t) => {
    const clock = new FakeClock();
    const tasker = createTasker(t, { onMissingRunner: 'queue', clock, maxThreads: 1 });
    tasker.assignRunner('echo', runner('echo'));
    const uuid = await tasker.addTask({ operation: 'echo', data: 'ran', queueTimeout: 100 });
    clock.advance(1_000);
    const ended = nextEvent(tasker, `task.${uuid}.ended`);
    await tasker.start();
    clock.advance(0);
    const [status] = await ended;
    const task = await tasker.getTask(uuid);
    assert.equal(status, 'aborted', `expected aborted ERR_TASK_QUEUE_TIMEOUT, got ${task.status} (result ${JSON.stringify(task.result)})`);
    assertQueueTimeout(task.abortReason, 100);
  },
);

test(
  "assignRunner on a started tasker: a task overdue by the runner's queueTimeout is aborted even when a thread is free for it",
  T,
  async (t) => {
    const clock = new FakeClock();
    const tasker = createTasker(t, { onMissingRunner: 'queue', clock, maxThreads: 1 });
    await tasker.start();
    // Its queueTimeout is the runner's default: it has no deadline until the runner comes.
    const uuid = await tasker.addTask({ operation: 'echo', data: 'ran' });
    clock.advance(1_000);
    assert.equal((await tasker.getTask(uuid)).status, 'new');
    const ended = nextEvent(tasker, `task.${uuid}.ended`);
    tasker.assignRunner('echo', runner('echo'), { queueTimeout: 100 });
    clock.advance(0);
    const [status] = await ended;
    const task = await tasker.getTask(uuid);
    assert.equal(status, 'aborted', `expected aborted ERR_TASK_QUEUE_TIMEOUT, got ${task.status} (result ${JSON.stringify(task.result)})`);
    assertQueueTimeout(task.abortReason, 100);
  },
);

test('a queueTimeout survives a restart and still counts from createdAt', T, async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock();
  const t0 = clock.now();
  const first = createTasker(t, { onMissingRunner: 'queue', persistDir: dir, clock });
  const uuid = await first.addTask({ operation: 'nobody', queueTimeout: 1_000 });
  await first.close();

  clock.advance(400);
  const second = createTasker(t, { onMissingRunner: 'queue', persistDir: dir, clock });
  assert.equal((await second.getTask(uuid)).queueTimeout, 1_000);
  await second.start();
  clock.advance(599);
  assert.equal((await second.getTask(uuid)).status, 'new');
  const ended = nextEvent(second, `task.${uuid}.ended`);
  clock.advance(1);
  await ended;
  const task = await second.getTask(uuid);
  assertQueueTimeout(task.abortReason, 1_000);
  assert.deepEqual(task.endedAt, new Date(t0 + 1_000));
  await second.stop();
  const stored = readStoreFiles(dir).tasks.get(uuid)!;
  assert.equal(stored['status'], 'aborted');
  assert.equal((stored['abortReason'] as Json)['code'], QUEUE_TIMEOUT);
});

test('after a retry the queueTimeout counts from queuedAt (its runAfter), not from createdAt', T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { onMissingRunner: 'queue', clock, maxThreads: 1 });
  tasker.assignRunner('flaky', runner('flaky'));
  tasker.assignRunner('gate', runner('gate'));
  const gate = gates(t, tasker);
  await tasker.start();
  const t0 = clock.now();
  const retried = nextEvent(tasker, 'task.retry');
  const uuid = await tasker.addTask({
    operation: 'flaky',
    data: { succeedAt: 2 },
    queueTimeout: 100,
    retry: { attempts: 2, backoff: { type: 'fixed', delay: 1_000 } },
  });
  const [, info] = await retried;
  assert.deepEqual(info.runAfter, new Date(t0 + 1_000));
  await holdThread(tasker, gate);

  clock.advance(100);
  assert.equal((await tasker.getTask(uuid)).status, 'new', 'createdAt + queueTimeout has passed: not what counts');
  clock.advance(900); // its retry time: it enters the queue, held back by the busy thread
  clock.advance(99);
  assert.equal((await tasker.getTask(uuid)).status, 'new');
  const ended = nextEvent(tasker, `task.${uuid}.ended`);
  clock.advance(1);
  await ended;
  const task = await tasker.getTask(uuid);
  assertQueueTimeout(task.abortReason, 100);
  assert.deepEqual(task.endedAt, new Date(t0 + 1_100));
  assert.deepEqual(task.attempts?.map((a) => a.outcome), ['failed'], 'the abort of a queued task adds no run');
});

test('postponeTask restarts the count (from its new queuedAt); updateTask can add a queueTimeout, counted from createdAt', T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { onMissingRunner: 'queue', clock, maxThreads: 1 });
  tasker.assignRunner('gate', runner('gate'));
  const gate = gates(t, tasker);
  await tasker.start();
  const t0 = clock.now();
  await holdThread(tasker, gate);
  const postponed = await tasker.addTask({ operation: 'gate', data: gate.data('postponed'), queueTimeout: 100 });
  const updated = await tasker.addTask({ operation: 'gate', data: gate.data('updated') });

  clock.advance(60);
  await tasker.postponeTask(postponed);
  assert.deepEqual((await tasker.getTask(postponed)).queuedAt, new Date(t0 + 60));
  clock.advance(40);
  assert.equal((await tasker.getTask(postponed)).status, 'new', 'createdAt + 100: no longer the deadline');

  await tasker.updateTask(updated, { queueTimeout: 150 });
  clock.advance(49); // t0 + 149
  assert.equal((await tasker.getTask(updated)).status, 'new');
  clock.advance(1); // t0 + 150
  assertQueueTimeout((await tasker.getTask(updated)).abortReason, 150);
  assert.equal((await tasker.getTask(postponed)).status, 'new');
  clock.advance(9); // t0 + 159
  assert.equal((await tasker.getTask(postponed)).status, 'new');
  clock.advance(1); // t0 + 160 = queuedAt + 100
  const task = await tasker.getTask(postponed);
  assertQueueTimeout(task.abortReason, 100);
  assert.deepEqual(task.endedAt, new Date(t0 + 160));
});

test('a task requeued at start-up (interrupted) counts its queueTimeout from its requeue', T, async (t) => {
  const dir = await tempDir(t);
  const uuid = randomUUID();
  writeStoreFiles(dir, [
    {
      uuid,
      operation: 'nobody',
      priority: 0,
      status: 'running',
      createdAt: '2025-06-01T10:00:00.000Z',
      startedAt: '2025-06-01T10:00:01.000Z',
      queueTimeout: 100,
      onInterrupted: 'requeue',
    },
  ]);
  const clock = new FakeClock();
  const tasker = createTasker(t, { onMissingRunner: 'queue', persistDir: dir, clock });
  await nextEvent(tasker, `task.${uuid}.requeued`);
  await tasker.start();
  clock.advance(0);
  clock.advance(99);
  assert.equal((await tasker.getTask(uuid)).status, 'new', 'createdAt is long past: not what counts');
  const ended = nextEvent(tasker, `task.${uuid}.ended`);
  clock.advance(1);
  await ended;
  const task = await tasker.getTask(uuid);
  assertQueueTimeout(task.abortReason, 100);
  assert.deepEqual(task.attempts?.map((a) => a.outcome), ['interrupted']);
});

test('abortTask on a task with a queueTimeout: aborted once, as requested; its deadline is dropped', T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { onMissingRunner: 'queue', clock });
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'nobody', queueTimeout: 100 });
  const aborts = recordEvents(tasker, ['task.aborted']);
  await tasker.abortTask(uuid, 'not needed');
  clock.advance(1_000);
  await tasker.onIdle();
  assert.deepEqual(aborts.map(([, id, reason]) => [id, (reason as SerializedError).code]), [[uuid, AbortCodes.REQUESTED]]);
  assert.equal((await tasker.getTask(uuid)).abortReason?.code, AbortCodes.REQUESTED);
});

test('a malformed queueTimeout is refused: addTask/updateTask ERR_INVALID_TASK, assignRunner ERR_INVALID_RUNNER', T, async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  const invalid: unknown[] = [0, -1, 'x', '100', Infinity, -Infinity, NaN, null, MAX_TIMER_MS + 1, {}];
  for (const value of invalid) {
    await assert.rejects(tasker.addTask({ operation: 'x', queueTimeout: value as number }), { code: 'ERR_INVALID_TASK' }, `addTask ${String(value)}`);
    assert.throws(() => tasker.assignRunner(`op-${String(value)}`, runner('echo'), { queueTimeout: value as number }), { code: 'ERR_INVALID_RUNNER' }, `assignRunner ${String(value)}`);
  }
  assert.equal(await tasker.countTasks(), 0, 'nothing was stored');
  const uuid = await tasker.addTask({ operation: 'x' });
  for (const value of invalid) {
    await assert.rejects(tasker.updateTask(uuid, { queueTimeout: value as number }), { code: 'ERR_INVALID_TASK' }, `updateTask ${String(value)}`);
  }
  assert.equal((await tasker.getTask(uuid)).queueTimeout, undefined);
  // The bounds that are valid.
  for (const value of [1, MAX_TIMER_MS]) {
    const valid = await tasker.addTask({ operation: 'x', queueTimeout: value });
    assert.equal((await tasker.getTask(valid)).queueTimeout, value);
  }
});
