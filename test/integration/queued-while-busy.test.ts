/**
 * What a queued task is while every thread is busy (a guard for any dispatcher
 * that would hand tasks to the worker pool ahead of a free thread): it stays `new` (its
 * status, no `startedAt`, no `task.run`) until a thread begins it; it becomes
 * `running` only then, and never while `maxThreads` tasks are running; and
 * every operation on it (abortTask, prioritizeTask, updateTask, postponeTask,
 * its queueTimeout, stop()) behaves as on any queued task — its runner never
 * begins when it is aborted or when the tasker stops.
 *
 * Runners are `marked-gate` (test/fixtures/runners): each appends its name to
 * a file the moment it begins, a trace the tasker cannot hide, read once the
 * tasker is closed (no thread can begin anything then); a held gate then
 * waits for `release:<name>` on a BroadcastChannel. Waits are on events; the
 * only timers are the tests' safety nets.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import { AbortCodes, ErrorCodes, type Task, type Tasker } from 'tasker';
import { rejectsWith } from '../helpers/assertions.js';
import { nextEvent, recordEvents } from '../helpers/events.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { runner } from '../helpers/fixtures.js';
import { closeWithin, createTasker, tempDir } from '../helpers/tasker.js';

const T = { timeout: 30_000 };
const CLOSE_LIMIT_MS = 30_000;

/** Gate tasks by name, their release, and the trace of the runners that began. */
class Gates {
  readonly #channel = `queued-while-busy-${randomUUID()}`;
  readonly #bc: BroadcastChannel;
  readonly #markFile: string;
  readonly #started = new Set<string>();
  readonly #waiters = new Map<string, Array<() => void>>();

  static async create(t: TestContext): Promise<Gates> {
    return new Gates(t, join(await tempDir(t, 'tasker-queued-marks-'), 'began'));
  }

  private constructor(t: TestContext, markFile: string) {
    this.#markFile = markFile;
    writeFileSync(markFile, '');
    this.#bc = new BroadcastChannel(this.#channel);
    t.after(() => this.#bc.close());
  }

  /** Data of a gate task named `name`: held until `release(name)`, or (hold false) done at once. */
  data(name: string, hold = false) {
    return { channel: this.#channel, markFile: this.#markFile, name, hold };
  }

  /** Follows the 'started' log lines of `tasker`'s gates (call before they can start). */
  watch(tasker: Tasker): void {
    tasker.on('task.log', (_uuid, log) => {
      const name = (log.data as { name?: string } | undefined)?.name;
      if (log.message !== 'started' || name === undefined) return;
      this.#started.add(name);
      for (const resolve of this.#waiters.get(name) ?? []) resolve();
      this.#waiters.delete(name);
    });
  }

  /** Resolves once the gate `name` has begun (its 'started' log line arrived). */
  started(name: string): Promise<void> {
    if (this.#started.has(name)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.set(name, [...(this.#waiters.get(name) ?? []), resolve]));
  }

  release(name: string): void {
    this.#bc.postMessage(`release:${name}`);
  }

  /** Names of the runners that began, in the order they began. Final only once their tasker is closed. */
  began(): string[] {
    return readFileSync(this.#markFile, 'utf8').split('\n').filter((line) => line !== '');
  }
}

/** A tasker with the 'gate' operation (marked-gate), watched by `gates`. */
function gateTasker(t: TestContext, gates: Gates, options: Parameters<typeof createTasker>[1]): Tasker {
  const tasker = createTasker(t, options);
  tasker.assignRunner('gate', runner('marked-gate'));
  gates.watch(tasker);
  return tasker;
}

/** Adds a gate that holds its thread, and waits until it does. */
async function hold(tasker: Tasker, gates: Gates, name: string): Promise<string> {
  const started = gates.started(name);
  const uuid = await tasker.addTask({ operation: 'gate', data: gates.data(name, true) });
  await started;
  return uuid;
}

/** A started gate tasker whose `maxThreads` threads are all held, by gates A1 (and A2): their names and uuids. */
async function busyTasker(t: TestContext, maxThreads: number): Promise<{ gates: Gates; tasker: Tasker; holders: string[]; held: string[] }> {
  const gates = await Gates.create(t);
  const tasker = gateTasker(t, gates, { maxThreads });
  await tasker.start();
  const holders = ['A1', 'A2'].slice(0, maxThreads);
  const held: string[] = [];
  for (const name of holders) held.push(await hold(tasker, gates, name));
  return { gates, tasker, holders, held };
}

/** Adds a gate that is done as soon as it begins. */
function queue(tasker: Tasker, gates: Gates, name: string, more: { priority?: number; queueTimeout?: number } = {}): Promise<string> {
  return tasker.addTask({ operation: 'gate', data: gates.data(name), ...more });
}

/** The names of the events of one task, in order, from `recordEvents` output. */
function eventsOf(seen: Array<[string, ...unknown[]]>, uuid: string): string[] {
  return seen.filter(([, id]) => id === uuid).map(([name]) => name);
}

/** Asserts that `uuid` is a queued task that has never started. */
async function assertQueued(tasker: Tasker, uuid: string, label: string): Promise<void> {
  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.equal(task.status, 'new', `${label} is new`);
  assert.equal('startedAt' in task, false, `${label} has no startedAt`);
  assert.deepEqual(task.logs, [], `${label} has no log`);
}

/** The most tasks whose stored [startedAt, endedAt) intervals overlap (an end before a start at the same ms). */
function storedPeak(tasks: Task[]): number {
  const points: Array<[number, number]> = [];
  for (const task of tasks) {
    assert.ok(task.startedAt instanceof Date && task.endedAt instanceof Date, `${task.uuid} has startedAt and endedAt`);
    assert.ok(task.startedAt.getTime() <= task.endedAt.getTime(), `${task.uuid} ends after it starts`);
    points.push([task.startedAt.getTime(), 1], [task.endedAt.getTime(), -1]);
  }
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let peak = 0;
  for (const [, delta] of points) peak = Math.max(peak, (running += delta));
  return peak;
}

// ---- abortTask ---------------------------------------------------------------

for (const maxThreads of [1, 2]) {
  test(`maxThreads ${maxThreads}, all threads busy: a queued task is new; abortTask aborts it at once (ERR_TASK_ABORT_REQUESTED) and its runner never begins; the running tasks and the next queued one are unaffected`, T, async (t) => {
    const { gates, tasker, holders, held } = await busyTasker(t, maxThreads);
    const seen = recordEvents(tasker, ['task.run', 'task.log', 'task.aborted', 'task.done', 'task.ended']);
    const b = await queue(tasker, gates, 'B');
    const c = await queue(tasker, gates, 'C');

    await assertQueued(tasker, b, 'B');
    await assertQueued(tasker, c, 'C');
    assert.equal(await tasker.countTasks({ status: 'running' }), maxThreads);
    assert.deepEqual((await tasker.findTasks({ status: 'new' })).map((task) => task.uuid), [b, c], 'queue order');
    // A queued task cannot be removed, as any task that has not ended.
    await assert.rejects(tasker.removeTask(b), rejectsWith(ErrorCodes.TASK_STATE));

    const waiting = assert.rejects(tasker.waitForTaskOutputData(b), rejectsWith(ErrorCodes.TASK_ABORTED, (error) => {
      assert.equal((error.cause as { code?: unknown }).code, AbortCodes.REQUESTED);
    }));
    await tasker.abortTask(b, 'not needed');
    const aborted = await tasker.getTask(b, { withLogs: true });
    assert.equal(aborted.status, 'aborted', 'aborted once abortTask resolved');
    assert.equal(aborted.abortReason?.name, 'AbortError');
    assert.equal(aborted.abortReason?.code, AbortCodes.REQUESTED);
    assert.equal(aborted.abortReason?.message, 'not needed');
    assert.equal('startedAt' in aborted, false);
    assert.equal('terminated' in aborted, false);
    assert.deepEqual(aborted.logs, []);
    await waiting;
    assert.deepEqual(eventsOf(seen, b), ['task.aborted', 'task.ended']);

    for (const uuid of held) assert.equal((await tasker.getTask(uuid)).status, 'running', 'a running task is unaffected');
    await assertQueued(tasker, c, 'C');
    assert.deepEqual(seen.filter(([name]) => name === 'task.run'), [], 'nothing started meanwhile');

    gates.release(holders[0]!);
    assert.equal(await tasker.waitForTaskOutputData(c), 'C');
    for (const name of holders.slice(1)) gates.release(name);
    assert.deepEqual(await Promise.all(held.map((uuid) => tasker.waitForTaskOutputData(uuid))), holders);
    await tasker.onIdle();
    assert.deepEqual(eventsOf(seen, c), ['task.run', 'task.log', 'task.done', 'task.ended']);
    assert.deepEqual(eventsOf(seen, held[0]!), ['task.done', 'task.ended']);
    assert.deepEqual(eventsOf(seen, b), ['task.aborted', 'task.ended'], 'B never ran, not even later');
    assert.equal((await tasker.getTask(b)).status, 'aborted');

    await closeWithin(tasker, CLOSE_LIMIT_MS);
    assert.deepEqual(gates.began(), [...holders, 'C'], "B's runner never began");
  });
}

// ---- priorities ----------------------------------------------------------------

for (const maxThreads of [1, 2]) {
  test(`maxThreads ${maxThreads}, all threads busy: a task added with a higher priority runs before the tasks queued earlier, which then take the freed thread while the other threads stay held`, T, async (t) => {
    const { gates, tasker, holders, held } = await busyTasker(t, maxThreads);
    const order: string[] = [];
    tasker.on('task.run', (uuid) => order.push(uuid));
    // As many low-priority tasks as threads: as many as could be handed over ahead of time.
    const lowNames = ['B1', 'B2'].slice(0, maxThreads);
    const lows: string[] = [];
    for (const name of lowNames) lows.push(await queue(tasker, gates, name));
    for (const uuid of lows) await assertQueued(tasker, uuid, 'a low-priority task');
    const high = await queue(tasker, gates, 'C', { priority: 10 });
    await assertQueued(tasker, high, 'C');
    assert.deepEqual((await tasker.findTasks({ status: 'new' })).map((task) => task.uuid), [high, ...lows], 'queue order');

    // One thread frees up: C takes it, then the earlier tasks one after the other, the other threads still held.
    gates.release(holders[0]!);
    assert.deepEqual(await Promise.all([high, ...lows].map((uuid) => tasker.waitForTaskOutputData(uuid))), ['C', ...lowNames]);
    for (const uuid of held.slice(1)) assert.equal((await tasker.getTask(uuid)).status, 'running', 'still held');
    assert.deepEqual(order, [high, ...lows], "C's task.run comes before the earlier tasks'");
    for (const name of holders.slice(1)) gates.release(name);
    await tasker.onIdle();
    assert.deepEqual(order, [high, ...lows]);

    await closeWithin(tasker, CLOSE_LIMIT_MS);
    assert.deepEqual(gates.began(), [...holders, 'C', ...lowNames]);
  });
}

// ---- prioritizeTask, updateTask ------------------------------------------------------

test('maxThreads 1, its thread busy: prioritizeTask and updateTask of queued tasks succeed and take effect (order, data the runner receives)', T, async (t) => {
  const gates = await Gates.create(t);
  const tasker = gateTasker(t, gates, { maxThreads: 1 });
  await tasker.start();
  const a = await hold(tasker, gates, 'A');
  const seen = recordEvents(tasker, ['task.run', 'task.prioritized', 'task.updated', 'task.ended']);
  const b = await queue(tasker, gates, 'B');
  const c = await queue(tasker, gates, 'C');
  await assertQueued(tasker, b, 'B');

  // B is the head of the queue, the task a thread would take next.
  await tasker.updateTask(b, { data: gates.data('B-updated') });
  await tasker.prioritizeTask(c, 5);
  assert.deepEqual(eventsOf(seen, b), ['task.updated']);
  assert.deepEqual(eventsOf(seen, c), ['task.prioritized']);
  const updated = await tasker.getTask(b);
  assert.equal(updated.status, 'new');
  assert.deepEqual(updated.data, gates.data('B-updated'));
  const prioritized = await tasker.getTask(c);
  assert.equal(prioritized.status, 'new');
  assert.equal(prioritized.priority, 5);
  assert.deepEqual((await tasker.findTasks({ status: 'new' })).map((task) => task.uuid), [c, b], 'queue order');
  // Still queued, still changeable: the first change did not lock it.
  await tasker.updateTask(b, { priority: 1 });
  await tasker.prioritizeTask(b, 0);
  assert.equal((await tasker.getTask(b)).priority, 0);

  gates.release('A');
  assert.equal(await tasker.waitForTaskOutputData(b), 'B-updated', 'the runner received the updated data');
  assert.equal(await tasker.waitForTaskOutputData(c), 'C');
  await tasker.onIdle();
  assert.deepEqual(seen.filter(([name]) => name === 'task.run').map(([, uuid]) => uuid), [c, b]);
  assert.equal((await tasker.getTask(a)).status, 'done');

  await closeWithin(tasker, CLOSE_LIMIT_MS);
  assert.deepEqual(gates.began(), ['A', 'C', 'B-updated'], 'B began once, with its updated data');
});

// ---- the concurrency limit -------------------------------------------------------

for (const logs of [false, true]) {
  test(`maxThreads 2, 300 short tasks${logs ? ' logging one line each (persisted)' : ''}: never more than 2 running by events or by stored times; each task goes task.run${logs ? ', task.log' : ''}, task.ended`, T, async (t) => {
    const maxThreads = 2;
    const count = 300;
    const tasker = createTasker(t, { maxThreads, ...(logs ? { persistDir: await tempDir(t), durability: 'none' } : {}) });
    tasker.assignRunner('short', runner(logs ? 'log-burst' : 'echo'));
    const perTask = new Map<string, string[]>();
    const note = (uuid: string, what: string): string[] => {
      let list = perTask.get(uuid);
      if (list === undefined) perTask.set(uuid, (list = []));
      list.push(what);
      return list;
    };
    let running = 0;
    let peak = 0;
    const violations: string[] = [];
    tasker.on('task.run', (uuid) => {
      note(uuid, 'run');
      running++;
      peak = Math.max(peak, running);
      if (running > maxThreads) violations.push(`${running} running once ${uuid} started`);
    });
    tasker.on('task.log', (uuid) => void note(uuid, 'log'));
    tasker.on('task.ended', (uuid, status) => {
      if (note(uuid, `ended ${status}`).includes('run')) running--;
    });
    await tasker.start();

    // Added while started, in a burst: every addTask dispatches.
    const uuids = await Promise.all(Array.from({ length: count }, (_, i) => tasker.addTask({ operation: 'short', data: logs ? { count: 1 } : i })));
    await Promise.all(uuids.map((uuid) => tasker.waitForTaskOutputData(uuid)));
    await tasker.onIdle();

    assert.deepEqual(violations, []);
    assert.ok(peak >= 1 && peak <= maxThreads, `peak ${peak}`);
    assert.equal(running, 0);
    const expected = logs ? ['run', 'log', 'ended done'] : ['run', 'ended done'];
    for (const uuid of uuids) assert.deepEqual(perTask.get(uuid), expected, `events of ${uuid}`);
    const tasks = await tasker.findTasks({ operation: 'short' });
    assert.equal(tasks.length, count);
    assert.ok(tasks.every((task) => task.status === 'done'));
    assert.ok(storedPeak(tasks) <= maxThreads, `stored startedAt/endedAt overlap: ${storedPeak(tasks)} tasks at once`);
  });
}

// ---- stop() ---------------------------------------------------------------------------

for (const running of ['wait', 'abort'] as const) {
  test(`stop({ running: '${running}' }) while the only thread is busy: the queued tasks stay new and never begin, then a new Tasker on the store runs them`, T, async (t) => {
    const dir = await tempDir(t);
    const gates = await Gates.create(t);
    const first = gateTasker(t, gates, { maxThreads: 1, persistDir: dir });
    await first.start();
    const a = await hold(first, gates, 'A');
    const seen = recordEvents(first, ['task.run', 'task.log', 'task.ended', 'stopped']);
    const b = await queue(first, gates, 'B');
    const c = await queue(first, gates, 'C');
    await assertQueued(first, b, 'B');
    await assertQueued(first, c, 'C');

    const stopping = first.stop({ running });
    if (running === 'wait') gates.release('A'); // A finishes during the stop and frees the thread
    await stopping;
    const ended = await first.getTask(a);
    if (running === 'wait') {
      assert.equal(ended.status, 'done');
      assert.equal(ended.result, 'A');
    } else {
      assert.equal(ended.status, 'aborted');
      assert.equal(ended.abortReason?.code, AbortCodes.TASKER_STOPPED);
    }
    await assertQueued(first, b, 'B');
    await assertQueued(first, c, 'C');
    assert.deepEqual(seen.map(([name, uuid]) => (uuid === a ? `${name} A` : name)), ['task.ended A', 'stopped'], 'nothing started during the stop');
    await closeWithin(first, CLOSE_LIMIT_MS);
    assert.deepEqual(gates.began(), ['A'], 'neither B nor C began');

    const second = gateTasker(t, gates, { maxThreads: 1, persistDir: dir });
    const order: string[] = [];
    second.on('task.run', (uuid) => order.push(uuid));
    assert.equal((await second.getTask(b)).status, 'new', 'stored new');
    await second.start();
    assert.equal(await second.waitForTaskOutputData(b), 'B');
    assert.equal(await second.waitForTaskOutputData(c), 'C');
    await second.onIdle();
    assert.deepEqual(order, [b, c]);
    await closeWithin(second, CLOSE_LIMIT_MS);
    assert.deepEqual(gates.began(), ['A', 'B', 'C']);
  });
}

// ---- queueTimeout ----------------------------------------------------------------------

test('maxThreads 1, its thread busy: a queued task past its queueTimeout (fake clock) is aborted ERR_TASK_QUEUE_TIMEOUT and never begins; the next one takes the thread', T, async (t) => {
  const gates = await Gates.create(t);
  const clock = new FakeClock();
  const tasker = gateTasker(t, gates, { maxThreads: 1, clock });
  await tasker.start();
  const a = await hold(tasker, gates, 'A');
  const seen = recordEvents(tasker, ['task.run', 'task.log', 'task.aborted', 'task.done', 'task.ended']);
  const b = await queue(tasker, gates, 'B', { queueTimeout: 100 });
  const c = await queue(tasker, gates, 'C');

  clock.advance(99);
  await assertQueued(tasker, b, 'B, 1 ms before its queueTimeout,');
  const bEnded = nextEvent(tasker, `task.${b}.ended`);
  clock.advance(1);
  const [status, reason] = await bEnded;
  assert.equal(status, 'aborted');
  assert.equal((reason as { code?: unknown }).code, AbortCodes.QUEUE_TIMEOUT);
  const timedOut = await tasker.getTask(b, { withLogs: true });
  assert.equal(timedOut.status, 'aborted');
  assert.equal(timedOut.abortReason?.name, 'AbortError');
  assert.equal(timedOut.abortReason?.code, AbortCodes.QUEUE_TIMEOUT);
  assert.equal('startedAt' in timedOut, false);
  assert.deepEqual(timedOut.logs, []);
  assert.deepEqual(eventsOf(seen, b), ['task.aborted', 'task.ended']);
  assert.equal((await tasker.getTask(a)).status, 'running', 'the running task is unaffected');
  await assertQueued(tasker, c, 'C');

  gates.release('A');
  assert.equal(await tasker.waitForTaskOutputData(c), 'C');
  await tasker.onIdle();
  assert.equal((await tasker.getTask(a)).status, 'done');
  assert.deepEqual(seen.filter(([name]) => name === 'task.run').map(([, uuid]) => uuid), [c]);
  assert.deepEqual(eventsOf(seen, b), ['task.aborted', 'task.ended'], 'B never ran, not even later');

  await closeWithin(tasker, CLOSE_LIMIT_MS);
  assert.deepEqual(gates.began(), ['A', 'C'], "B's runner never began");
});

// ---- postponeTask ---------------------------------------------------------------------

test('maxThreads 1, its thread busy: postponeTask of the queued head keeps it new and it runs after the others', T, async (t) => {
  const gates = await Gates.create(t);
  const tasker = gateTasker(t, gates, { maxThreads: 1 });
  await tasker.start();
  await hold(tasker, gates, 'A');
  const seen = recordEvents(tasker, ['task.run', 'task.postponed', 'task.requeued', 'task.aborted', 'task.ended']);
  const b = await queue(tasker, gates, 'B');
  const c = await queue(tasker, gates, 'C');
  const d = await queue(tasker, gates, 'D');

  await tasker.postponeTask(b);
  await assertQueued(tasker, b, 'B, postponed,');
  assert.equal('attempts' in (await tasker.getTask(b)), false, 'a queued task postponed has no run to record');
  assert.deepEqual(eventsOf(seen, b), ['task.postponed'], 'postponed as a new task (not requeued as a running one)');
  assert.deepEqual((await tasker.findTasks({ status: 'new' })).map((task) => task.uuid), [c, d, b], 'queue order');

  gates.release('A');
  assert.equal(await tasker.waitForTaskOutputData(b), 'B');
  await tasker.onIdle();
  assert.deepEqual(seen.filter(([name]) => name === 'task.run').map(([, uuid]) => uuid), [c, d, b]);
  assert.deepEqual(eventsOf(seen, b), ['task.postponed', 'task.run', 'task.ended']);

  await closeWithin(tasker, CLOSE_LIMIT_MS);
  assert.deepEqual(gates.began(), ['A', 'C', 'D', 'B']);
});
