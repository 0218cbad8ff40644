import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scheduler } from '../../dist/src/scheduler/scheduler.js';
import type { StoreChange, StoredTask, TaskStore } from 'tasker';
import { nextEvent, recordEvents } from '../helpers/events.js';
import { rejectsWith } from '../helpers/assertions.js';
import { runner } from '../helpers/fixtures.js';
import { createTasker } from '../helpers/tasker.js';


/** A store whose commits wait until the test releases them, and can be made to fail. */
class GatedStore implements TaskStore {
  hold = false;
  fail = false;
  readonly #held: Array<() => void> = [];
  async load(): Promise<StoredTask[]> {
    return [];
  }
  async commit(_changes: readonly StoreChange[]): Promise<void> {
    if (this.hold) await new Promise<void>((resolve) => this.#held.push(resolve));
    if (this.fail) throw new Error('disk gone');
  }
  async close(): Promise<void> {}
  release(): void {
    this.hold = false;
    for (const resolve of this.#held.splice(0)) resolve();
  }
}

test('an abort requested as the task starts on a fresh thread reaches the runner (no termination)', async (t) => {
  const tasker = createTasker(t, { maxThreads: 1, abortGraceMs: 30_000 });
  tasker.assignRunner('hang', runner('hang-until-abort'));
  await tasker.start();
  for (let round = 0; round < 3; round++) {
    const run = nextEvent(tasker, 'task.run');
    const uuid = await tasker.addTask({ operation: 'hang' });
    await run;
    await tasker.abortTask(uuid, `round ${round}`);
    const task = await tasker.getTask(uuid);
    assert.equal(task.status, 'aborted');
    assert.equal(task.terminated, undefined, 'the runner settled on its signal; its thread was not terminated');
  }
});

test('a runner that logs, then spins forever, has every line stored', async (t) => {
  const tasker = createTasker(t, { maxThreads: 1, abortGraceMs: 0 });
  tasker.assignRunner('spin', runner('log-then-spin'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'spin', data: { count: 40 } });
  let seen = 0;
  const all = new Promise<void>((resolve) => tasker.on(`task.${uuid}.log`, () => ++seen === 40 && resolve()));
  await all;
  await tasker.abortTask(uuid);
  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.equal(task.status, 'aborted');
  assert.equal(task.terminated, true);
  assert.deepEqual(task.logs?.map((log) => log.message), Array.from({ length: 40 }, (_, i) => `line ${i}`));
});

test('a log write that fails is reported, never an unhandled rejection; the task still ends', async (t) => {
  const store = new GatedStore();
  const errors: unknown[] = [];
  const tasker = createTasker(t, { store, logger: { error: (...a: unknown[]) => errors.push(a), warn() {}, info() {}, debug() {} } });
  tasker.assignRunner('logs', runner('log-burst'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'logs', data: { count: 3 } });
  store.fail = true;
  const ended = nextEvent(tasker, `task.${uuid}.ended`);
  const [status] = await ended;
  assert.equal(status, 'done');
  assert.ok(errors.length > 0, 'the failed writes were reported to the logger');
});

test('stop() called while start() still loads the store wins: nothing starts', async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('echo', runner('echo'));
  const events = recordEvents(tasker, ['started', 'stopped']);
  const starting = tasker.start();
  await tasker.stop();
  await starting;
  const uuid = await tasker.addTask({ operation: 'echo', data: 1 });
  assert.equal((await tasker.getTask(uuid)).status, 'new');
  assert.deepEqual(events, []);
  await tasker.start();
  assert.equal(await tasker.waitForTaskOutputData(uuid), 1);
});

test('with an already-aborted signal, task.added comes before task.aborted and task.ended', async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  const events = recordEvents(tasker, ['task.add', 'task.added', 'task.aborted', 'task.ended']);
  const uuid = await tasker.addTask({ operation: 'none', abortSignal: AbortSignal.abort('no') });
  await assert.rejects(tasker.waitForTaskOutputData(uuid), rejectsWith('ERR_TASK_ABORTED'));
  assert.deepEqual(events.map(([name]) => name), ['task.add', 'task.added', 'task.aborted', 'task.ended']);
});

test('a second abortTask resolves only once the end is stored, like the first', async (t) => {
  const store = new GatedStore();
  const tasker = createTasker(t, { onMissingRunner: 'queue', store });
  const uuid = await tasker.addTask({ operation: 'none' });
  store.hold = true;
  let firstDone = false;
  let secondDone = false;
  const first = tasker.abortTask(uuid).then(() => (firstDone = true));
  const second = tasker.abortTask(uuid).then(() => (secondDone = true));
  // Let both calls reach the held write.
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(firstDone, false);
  assert.equal(secondDone, false);
  store.release();
  await Promise.all([first, second]);
  assert.equal((await tasker.getTask(uuid)).status, 'aborted');
});

test('data nested deeper than the limit is refused with ERR_INVALID_TASK, not a stack overflow', async (t) => {
  const tasker = createTasker(t);
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 20_000; i++) deep = (deep['next'] = {}) as Record<string, unknown>;
  await assert.rejects(tasker.addTask({ operation: 'x', data: root }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'ERR_INVALID_TASK');
    assert.match(error.message, /nested deeper than 512 levels/);
    return true;
  });
});

test('a query that fails only when evaluated rejects with ERR_INVALID_QUERY', async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  await tasker.addTask({ operation: 'x', data: { v: 1 } });
  await assert.rejects(tasker.hasTask({ 'data.v': { $type: 'no-such-type' } }), rejectsWith('ERR_INVALID_QUERY'));
  await assert.rejects(tasker.countTasks({ 'data.v': { $type: 'no-such-type' } }), rejectsWith('ERR_INVALID_QUERY'));
});

test('an async listener that rejects is reported to the logger, not left unhandled', async (t) => {
  const errors: unknown[][] = [];
  const tasker = createTasker(t, { onMissingRunner: 'queue', logger: { error: (...a: unknown[]) => errors.push(a), warn() {}, info() {}, debug() {} } });
  tasker.on('task.added', async () => {
    throw new Error('async listener failed');
  });
  await tasker.addTask({ operation: 'x' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]?.[0]), /task\.added/);
});

test('queries that differ only by a Date versus its ISO string are different conditions', () => {
  const scheduler = new Scheduler();
  const at = new Date('2026-01-01T00:00:00.000Z');
  const running = { uuid: 'r', operation: 'op', status: 'running', createdAt: new Date('2025-01-01T00:00:00.000Z') };
  scheduler.markRunning('r', running);
  const dateQuery = { scope: 'running' as const, query: { createdAt: { $lt: at } }, limit: 1 };
  const stringQuery = { scope: 'running' as const, query: { createdAt: { $lt: at.toISOString() } }, limit: 1 };
  scheduler.enqueue({ uuid: 'a', doc: { uuid: 'a' }, priority: 1, seq: 1, conditions: [dateQuery] });
  scheduler.enqueue({ uuid: 'b', doc: { uuid: 'b' }, priority: 0, seq: 2, conditions: [stringQuery] });
  // The Date query matches the running task (blocked); the string query does not compare a Date to a string.
  assert.equal(scheduler.next()?.entry.uuid, 'b');
  assert.equal(scheduler.next(), null);
});

test('after close(), every call rejects with ERR_TASKER_CLOSED and assignRunner throws it', async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  const uuid = await tasker.addTask({ operation: 'x' });
  await tasker.close();
  await tasker.close(); // twice is fine
  assert.throws(() => tasker.assignRunner('echo', runner('echo')), rejectsWith('ERR_TASKER_CLOSED'));
  await assert.rejects(tasker.addTask({ operation: 'x' }), rejectsWith('ERR_TASKER_CLOSED'));
  await assert.rejects(tasker.getTask(uuid), rejectsWith('ERR_TASKER_CLOSED'));
  await assert.rejects(tasker.findTasks({}), rejectsWith('ERR_TASKER_CLOSED'));
  await assert.rejects(tasker.start(), rejectsWith('ERR_TASKER_CLOSED'));
  await assert.rejects(tasker.onIdle(), rejectsWith('ERR_TASKER_CLOSED'));
  await tasker.stop(); // shutdown paths never throw
});

test('a flood beyond the backpressure window (20,000 lines, 4,096 in flight at most) is stored whole and in order', async (t) => {
  const tasker = createTasker(t, { maxThreads: 1 });
  tasker.assignRunner('burst', runner('log-burst'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'burst', data: { count: 20_000 }, maxLogs: 20_000 });
  const streamed: string[] = [];
  const stream = (async () => {
    for await (const log of tasker.listenTaskLogs(uuid, { fromBeginning: true })) streamed.push(log.message);
  })();
  assert.equal(await tasker.waitForTaskOutputData(uuid), 20_000);
  await stream;
  const task = await tasker.getTask(uuid, { withLogs: true });
  const expected = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
  assert.deepEqual(task.logs?.map((log) => log.message), expected);
  assert.deepEqual(streamed, expected);
  assert.equal(task.logsDropped, undefined);
  // The slot is reused by the next task: it starts from a zero count.
  const next = await tasker.addTask({ operation: 'burst', data: { count: 5_000 }, maxLogs: 5_000 });
  assert.equal(await tasker.waitForTaskOutputData(next), 5_000);
  assert.equal((await tasker.getTask(next, { withLogs: true })).logs?.length, 5_000);
});
