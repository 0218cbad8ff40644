import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { test, type TestContext } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import { Tasker, type LogEntry, type LogLevel } from 'tasker';
import { nextEvent } from '../helpers/events.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { runner } from '../helpers/fixtures.js';
import { createTasker } from '../helpers/tasker.js';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warning', 'info', 'debug'];
const T = { timeout: 10_000 };

/** Drains an iterator with for-await: whatever it yields, `undefined` included, ends up in the array. */
async function collect(iterable: AsyncIterable<LogEntry>, eachItem?: () => Promise<void>): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const entry of iterable) {
    out.push(entry);
    if (eachItem !== undefined) await eachItem();
  }
  return out;
}

/** Resolves once `n` `task.<uuid>.log` events were emitted (each is emitted after its entry is stored). */
function logsStored(tasker: Tasker, uuid: string, n: number): Promise<void> {
  const emitter = tasker as unknown as EventEmitter;
  return new Promise((resolve) => {
    let seen = 0;
    const onLog = (): void => {
      if (++seen < n) return;
      emitter.off(`task.${uuid}.log`, onLog);
      resolve();
    };
    emitter.on(`task.${uuid}.log`, onLog);
  });
}

function release(channelName: string): void {
  const channel = new BroadcastChannel(channelName);
  channel.postMessage('release');
  channel.close();
}

function expectedBurst(count: number): Array<Omit<LogEntry, 'timestamp'>> {
  return Array.from({ length: count }, (_, i) => ({ level: LEVELS[i % 5]!, message: `line ${i}`, data: { i } }));
}

function withoutTimestamps(logs: readonly LogEntry[]): Array<Omit<LogEntry, 'timestamp'>> {
  return logs.map(({ timestamp: _timestamp, ...rest }) => rest);
}

function messages(logs: readonly LogEntry[]): string[] {
  return logs.map((entry) => entry.message);
}

function range(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix} ${i}`);
}

test('log entries are stored in order as {level, message, data, timestamp: Date} and returned by getTask withLogs', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('burst', runner('log-burst'));
  await tasker.start();
  const before = Date.now();
  const uuid = await tasker.addTask({ operation: 'burst', data: { count: 10 } });
  assert.equal(await tasker.waitForTaskOutputData(uuid), 10);
  const after = Date.now();

  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.equal(task.status, 'done');
  const logs = task.logs!;
  assert.deepEqual(withoutTimestamps(logs), expectedBurst(10));
  let previous = -Infinity;
  for (const entry of logs) {
    assert.deepEqual(Object.keys(entry).sort(), ['data', 'level', 'message', 'timestamp']);
    assert.ok(entry.timestamp instanceof Date, 'timestamp is a Date');
    const time = entry.timestamp.getTime();
    assert.ok(time >= before - 1000 && time <= after + 1000, `timestamp ${entry.timestamp.toISOString()} is plausible`);
    assert.ok(time >= previous, 'timestamps do not go backwards');
    previous = time;
  }
  assert.equal(task.logsDropped, undefined);

  const plain = await tasker.getTask(uuid);
  assert.equal('logs' in plain, false, 'no logs without withLogs');
  const explicitNo = await tasker.getTask(uuid, { withLogs: false });
  assert.equal('logs' in explicitNo, false);
});

test("logsMaxLevel 'info' returns fatal..info only; the default returns every level", T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('burst', runner('log-burst'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'burst', data: { count: 10 } });
  await tasker.waitForTaskOutputData(uuid);

  const all = expectedBurst(10);
  const byDefault = await tasker.getTask(uuid, { withLogs: true });
  assert.deepEqual(withoutTimestamps(byDefault.logs!), all);
  const info = await tasker.getTask(uuid, { withLogs: true, logsMaxLevel: 'info' });
  assert.deepEqual(withoutTimestamps(info.logs!), all.filter((entry) => entry.level !== 'debug'));
  assert.equal(info.logs!.length, 8);
  const fatal = await tasker.getTask(uuid, { withLogs: true, logsMaxLevel: 'fatal' });
  assert.deepEqual(messages(fatal.logs!), ['line 0', 'line 5']);
  const warning = await tasker.getTask(uuid, { withLogs: true, logsMaxLevel: 'warning' });
  assert.deepEqual(messages(warning.logs!), ['line 0', 'line 1', 'line 2', 'line 5', 'line 6', 'line 7']);
  const debug = await tasker.getTask(uuid, { withLogs: true, logsMaxLevel: 'debug' });
  assert.deepEqual(withoutTimestamps(debug.logs!), all);
});

test('findTasks and findTask withLogs really attach the logs (original bug 4)', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('burst', runner('log-burst'));
  await tasker.start();
  const three = await tasker.addTask({ operation: 'burst', id: 'three', data: { count: 3 } });
  const seven = await tasker.addTask({ operation: 'burst', id: 'seven', data: { count: 7 } });
  await Promise.all([tasker.waitForTaskOutputData(three), tasker.waitForTaskOutputData(seven)]);

  const found = await tasker.findTasks({ operation: 'burst' }, { withLogs: true, sort: { id: -1 } });
  assert.deepEqual(found.map((task) => task.id), ['three', 'seven']);
  assert.deepEqual(withoutTimestamps(found[0]!.logs!), expectedBurst(3));
  assert.deepEqual(withoutTimestamps(found[1]!.logs!), expectedBurst(7));
  for (const task of found) assert.ok(task.logs!.every((entry) => entry.timestamp instanceof Date));

  const filtered = await tasker.findTasks({ operation: 'burst' }, { withLogs: true, logsMaxLevel: 'info', sort: { id: 1 } });
  assert.deepEqual(filtered.map((task) => messages(task.logs!)), [
    ['line 0', 'line 1', 'line 2', 'line 3', 'line 5', 'line 6'],
    ['line 0', 'line 1', 'line 2'],
  ]);

  const one = await tasker.findTask({ id: 'seven' }, { withLogs: true });
  assert.equal(one?.uuid, seven);
  assert.deepEqual(withoutTimestamps(one!.logs!), expectedBurst(7));
  const oneInfo = await tasker.findTask({ uuid: seven }, { withLogs: true, logsMaxLevel: 'warning' });
  assert.deepEqual(messages(oneInfo!.logs!), ['line 0', 'line 1', 'line 2', 'line 5', 'line 6']);

  const without = await tasker.findTasks({ operation: 'burst' });
  assert.ok(without.every((task) => !('logs' in task)), 'no logs without withLogs');
  const oneWithout = await tasker.findTask({ uuid: three });
  assert.equal(oneWithout !== undefined && 'logs' in oneWithout, false);
});

test('listenTaskLogs on a running task yields the live logs in order and ends when the task ends', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('wait', runner('log-then-wait'));
  const channel = `logs-${randomUUID()}`;
  const uuid = await tasker.addTask({ operation: 'wait', data: { channel, before: 1, after: 30 } });
  const firstStored = logsStored(tasker, uuid, 1);
  await tasker.start();
  await firstStored;
  assert.equal((await tasker.getTask(uuid)).status, 'running');

  const stream = tasker.listenTaskLogs(uuid);
  const collected = collect(stream);
  release(channel);
  const live = await collected;

  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.equal(task.status, 'done');
  assert.equal(task.logs!.length, 31);
  assert.deepEqual(messages(live), range('after', 30));
  // The exact stored entries, nothing before the stream began, no trailing undefined.
  assert.deepEqual(live, task.logs!.slice(1));
  assert.ok(live.every((entry) => entry.timestamp instanceof Date));
  assert.deepEqual(await stream.next(), { value: undefined, done: true });
});

test('listenTaskLogs on a task that is still new yields every log once it runs, then ends', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('burst', runner('log-burst'));
  const uuid = await tasker.addTask({ operation: 'burst', data: { count: 20 } });
  const collected = collect(tasker.listenTaskLogs(uuid));
  await tasker.start();
  const live = await collected;
  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.equal(task.status, 'done');
  assert.deepEqual(withoutTimestamps(live), expectedBurst(20));
  assert.deepEqual(live, task.logs);
});

test('fromBeginning yields the stored logs first, then the live ones, without duplicates or gaps', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('wait', runner('log-then-wait'));
  const channel = `logs-${randomUUID()}`;
  const uuid = await tasker.addTask({ operation: 'wait', data: { channel, before: 50, after: 50 } });
  const beforeStored = logsStored(tasker, uuid, 50);
  await tasker.start();
  await beforeStored;

  const collected = collect(tasker.listenTaskLogs(uuid, { fromBeginning: true }));
  release(channel);
  const all = await collected;

  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.equal(task.status, 'done');
  assert.deepEqual(messages(all), [...range('before', 50), ...range('after', 50)]);
  assert.deepEqual(all, task.logs);
});

test('fromBeginning taken while a burst is being logged still yields every entry exactly once', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('burst', runner('log-burst'));
  const uuid = await tasker.addTask({ operation: 'burst', data: { count: 2000 } });
  const firstStored = logsStored(tasker, uuid, 1);
  await tasker.start();
  await firstStored;
  const all = await collect(tasker.listenTaskLogs(uuid, { fromBeginning: true }));
  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.equal(task.status, 'done');
  assert.deepEqual(withoutTimestamps(all), expectedBurst(2000));
  assert.deepEqual(all, task.logs);
});

test('a slow consumer loses nothing of a 2,000-line burst (original bug 5)', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('burst', runner('log-burst'));
  const uuid = await tasker.addTask({ operation: 'burst', data: { count: 2000 } });
  const slow = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  const live = collect(tasker.listenTaskLogs(uuid), slow);
  const fromBeginning = collect(tasker.listenTaskLogs(uuid, { fromBeginning: true }), slow);
  await tasker.start();
  assert.equal(await tasker.waitForTaskOutputData(uuid), 2000);
  const expected = expectedBurst(2000);
  assert.deepEqual(withoutTimestamps(await live), expected);
  assert.deepEqual(withoutTimestamps(await fromBeginning), expected);
});

test('on an already-ended task: fromBeginning yields the history then ends; without it the stream ends at once', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('burst', runner('log-burst'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'burst', data: { count: 5 } });
  await tasker.waitForTaskOutputData(uuid);
  const task = await tasker.getTask(uuid, { withLogs: true });

  assert.deepEqual(await collect(tasker.listenTaskLogs(uuid, { fromBeginning: true })), task.logs);
  assert.deepEqual(await collect(tasker.listenTaskLogs(uuid)), []);
  assert.deepEqual(await tasker.listenTaskLogs(uuid).next(), { value: undefined, done: true });
});

test('a stream on a task aborted while new ends', T, async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  tasker.assignRunner('burst', runner('log-burst'));
  await tasker.start();
  // No runner for 'nobody': the task stays new.
  const uuid = await tasker.addTask({ operation: 'nobody' });
  const opened = collect(tasker.listenTaskLogs(uuid, { fromBeginning: true }));
  await tasker.abortTask(uuid, 'not needed');
  assert.deepEqual(await opened, []);
  assert.equal((await tasker.getTask(uuid)).status, 'aborted');
  // Taken after the abort, with and without fromBeginning.
  assert.deepEqual(await collect(tasker.listenTaskLogs(uuid)), []);
  assert.deepEqual(await collect(tasker.listenTaskLogs(uuid, { fromBeginning: true })), []);
});

test('an already-aborted abortSignal ends the stream at once with nothing yielded', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('wait', runner('log-then-wait'));
  const channel = `logs-${randomUUID()}`;
  const uuid = await tasker.addTask({ operation: 'wait', data: { channel, before: 3, after: 0 } });
  const stored = logsStored(tasker, uuid, 3);
  await tasker.start();
  await stored;

  const signal = AbortSignal.abort();
  assert.deepEqual(await collect(tasker.listenTaskLogs(uuid, { fromBeginning: true, abortSignal: signal })), []);
  assert.deepEqual(await collect(tasker.listenTaskLogs(uuid, { abortSignal: signal })), []);
  assert.equal((await tasker.getTask(uuid)).status, 'running', 'the stream ended on its own, not with the task');

  release(channel);
  assert.equal(await tasker.waitForTaskOutputData(uuid), 3);
});

test('aborting the abortSignal mid-stream ends the stream while the task runs on', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('wait', runner('log-then-wait'));
  const channel = `logs-${randomUUID()}`;
  const uuid = await tasker.addTask({ operation: 'wait', data: { channel, before: 1, after: 2 } });
  const stored = logsStored(tasker, uuid, 1);
  await tasker.start();
  await stored;

  // Aborted while the consumer is waiting for the next entry.
  const controller = new AbortController();
  const stream = tasker.listenTaskLogs(uuid, { fromBeginning: true, abortSignal: controller.signal });
  const first = await stream.next();
  assert.equal(first.done, false);
  assert.equal(first.value?.message, 'before 0');
  const pending = stream.next();
  controller.abort();
  assert.deepEqual(await pending, { value: undefined, done: true });
  assert.deepEqual(await stream.next(), { value: undefined, done: true });

  // Aborted between two entries, inside a for-await loop.
  const controller2 = new AbortController();
  const seen: LogEntry[] = [];
  for await (const entry of tasker.listenTaskLogs(uuid, { fromBeginning: true, abortSignal: controller2.signal })) {
    seen.push(entry);
    controller2.abort();
  }
  assert.deepEqual(messages(seen), ['before 0']);
  assert.equal((await tasker.getTask(uuid)).status, 'running');

  release(channel);
  assert.equal(await tasker.waitForTaskOutputData(uuid), 3);
  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.deepEqual(messages(task.logs!), ['before 0', 'after 0', 'after 1']);
});

test('listenTaskLogs on an unknown uuid: the first next() rejects with ERR_TASK_NOT_FOUND', T, async (t) => {
  const tasker = createTasker(t);
  await tasker.start();
  const stream = tasker.listenTaskLogs(randomUUID());
  await assert.rejects(stream.next(), { code: 'ERR_TASK_NOT_FOUND' });
  assert.deepEqual(await stream.next(), { value: undefined, done: true });
  await assert.rejects(collect(tasker.listenTaskLogs('not-a-uuid', { fromBeginning: true })), { code: 'ERR_TASK_NOT_FOUND' });
});

test('maxLogsPerTask: 5,000 lines with a cap of 100 keep the first 100 and count 4,900 dropped', T, async (t) => {
  const tasker = createTasker(t, { maxLogsPerTask: 100 });
  tasker.assignRunner('burst', runner('log-burst'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'burst', data: { count: 5000 } });
  assert.equal(await tasker.waitForTaskOutputData(uuid), 5000);
  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.equal(task.status, 'done');
  assert.equal(task.logs!.length, 100);
  assert.deepEqual(withoutTimestamps(task.logs!), expectedBurst(100));
  assert.equal(task.logsDropped, 4900);
  assert.equal((await tasker.getTask(uuid)).logsDropped, 4900);
});

test('a runner that logs one line then spins until its runTimeout still has that line stored', T, async (t) => {
  // A fake clock: the runTimeout and the grace period elapse only when the test says so, so
  // a slow thread start cannot make the timeout fire before the runner has logged.
  const clock = new FakeClock();
  const tasker = new Tasker({ maxThreads: 2, abortGraceMs: 100, clock });
  t.after(async () => {
    // If the test failed with the runner still spinning, let stop() run its abort ladder to the end.
    const stopping = tasker.stop();
    clock.advance(60_000);
    await stopping;
  });
  tasker.assignRunner('spin', runner('busy-loop'));
  const uuid = await tasker.addTask({ operation: 'spin', runTimeout: 300 });
  // The line must reach the main thread while the runner is still spinning (it never yields).
  const logged = nextEvent(tasker, `task.${uuid}.log`);
  const ended = nextEvent(tasker, `task.${uuid}.ended`);
  await tasker.start();
  const [log] = await logged;
  assert.equal(log.message, 'spinning');
  assert.equal((await tasker.getTask(uuid)).status, 'running');
  clock.advance(300 + 100);
  const [status] = await ended;
  assert.equal(status, 'aborted');
  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.equal(task.status, 'aborted');
  assert.equal(task.abortReason?.code, 'ERR_TASK_RUN_TIMEOUT');
  assert.equal(task.terminated, true);
  assert.deepEqual(withoutTimestamps(task.logs!), [{ level: 'info', message: 'spinning' }]);
});

test('log data that is not JSON (a function, a Map, a class instance) is stored as a string, not dropped', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('odd', runner('log-odd-data'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'odd' });
  assert.equal(await tasker.waitForTaskOutputData(uuid), 'ok');
  const { logs } = await tasker.getTask(uuid, { withLogs: true });
  assert.deepEqual(messages(logs!), ['function', 'map', 'instance', 'plain']);
  const [fn, map, instance, plain] = logs!;
  assert.equal(typeof fn!.data, 'string');
  assert.match(fn!.data as string, /namedFn/);
  assert.equal(typeof map!.data, 'string');
  assert.match(map!.data as string, /Map\(1\)/);
  assert.match(map!.data as string, /'k' => 1/);
  assert.equal(instance!.level, 'warning');
  assert.equal(typeof instance!.data, 'string');
  assert.match(instance!.data as string, /Point/);
  assert.deepEqual(plain!.data, { ok: true, at: new Date(0) });
});

/** Runs one task of the runner fixture `name` (which returns 1) to its end; its stored log entries. */
async function logsOfOneRun(t: TestContext, name: string): Promise<LogEntry[]> {
  const tasker = createTasker(t, { maxThreads: 1 });
  tasker.assignRunner('op', runner(name));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'op' });
  assert.equal(await tasker.waitForTaskOutputData(uuid), 1);
  return (await tasker.getTask(uuid, { withLogs: true })).logs ?? [];
}

test('a runner may replace ctx.logger with its own wrapper; what it logs through it is stored', T, async (t) => {
  assert.deepEqual((await logsOfOneRun(t, 'wrap-logger')).map((entry) => entry.message), ['[wrapped] x']);
});

test('lines a synchronous runner logs from a microtask it queued before returning belong to the task', T, async (t) => {
  assert.deepEqual((await logsOfOneRun(t, 'log-in-microtask')).map((entry) => [entry.level, entry.message]), [
    ['info', 'logger, in a microtask queued before returning'],
    ['info', 'console, in a microtask queued before returning'],
  ]);
});
