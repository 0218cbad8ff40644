import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import type { EngineLogger, Tasker } from 'tasker';
import { nextEvent } from '../helpers/events.js';
import { runner } from '../helpers/fixtures.js';
import { readStoreFiles } from '../helpers/store-files.js';
import { createTasker, tempDir } from '../helpers/tasker.js';

const T = { timeout: 10_000 };

const GENERAL = [
  'started',
  'stopped',
  'idle',
  'task.add',
  'task.added',
  'task.prioritized',
  'task.run',
  'task.log',
  'task.done',
  'task.failed',
  'task.aborted',
  'task.ended',
] as const;

const PER_TASK = ['prioritized', 'run', 'log', 'done', 'failed', 'aborted', 'ended'] as const;

type Seen = Array<[string, ...unknown[]]>;

/** Records events of any name into one array, in emission order. */
function recorder(tasker: Tasker): { seen: Seen; listen(names: readonly string[]): void } {
  const seen: Seen = [];
  const emitter = tasker as unknown as EventEmitter;
  return {
    seen,
    listen(names) {
      for (const name of names) emitter.on(name, (...args: unknown[]) => seen.push([name, ...args]));
    },
  };
}

function perTaskNames(uuid: string): string[] {
  return PER_TASK.map((name) => `task.${uuid}.${name}`);
}

function release(channelName: string): void {
  const channel = new BroadcastChannel(channelName);
  channel.postMessage('release');
  channel.close();
}

/** The task as stored on disk (snapshot + journals, read independently of the store). */
function readStoredTask(dir: string, uuid: string): Record<string, unknown> | undefined {
  return readStoreFiles(dir).tasks.get(uuid);
}

/** The task's log entries as stored on disk. */
function readStoredLogs(dir: string, uuid: string): Array<Record<string, unknown>> {
  return readStoreFiles(dir).logs.get(uuid) ?? [];
}

test('the full event sequence of a done task, on general and per-task names', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('sum', runner('sum'));
  const { seen, listen } = recorder(tasker);
  listen(GENERAL);
  const def = { operation: 'sum', id: 'sum-1', data: [2, 3] };
  const uuid = await tasker.addTask(def);
  listen(perTaskNames(uuid));
  await tasker.start();
  assert.equal(await tasker.waitForTaskOutputData(uuid), 5);
  await tasker.onIdle();
  await tasker.stop();

  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.equal(task.status, 'done');
  const [sumLog, endedLog] = task.logs!;
  assert.deepEqual(sumLog, { level: 'info', message: 'Sum', data: { data: [2, 3] }, timestamp: sumLog!.timestamp });
  assert.ok(sumLog!.timestamp instanceof Date);
  assert.equal(endedLog?.message, 'Ended');
  assert.deepEqual(seen, [
    ['task.add', def],
    ['task.added', uuid],
    ['started'],
    ['task.run', uuid],
    [`task.${uuid}.run`],
    ['task.log', uuid, sumLog],
    [`task.${uuid}.log`, sumLog],
    ['task.log', uuid, endedLog],
    [`task.${uuid}.log`, endedLog],
    ['task.done', uuid, 5],
    [`task.${uuid}.done`, 5],
    ['task.ended', uuid, 'done', 5],
    [`task.${uuid}.ended`, 'done', 5],
    ['idle'],
    ['stopped'],
  ]);
});

test('the full event sequence of a failed task, on general and per-task names', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('fail', runner('fail'));
  const { seen, listen } = recorder(tasker);
  listen(GENERAL);
  const def = { operation: 'fail', data: { message: 'it broke', code: 'E_BROKE' } };
  const uuid = await tasker.addTask(def);
  listen(perTaskNames(uuid));
  await tasker.start();
  await assert.rejects(tasker.waitForTaskOutputData(uuid), { code: 'ERR_TASK_FAILED' });
  await tasker.onIdle();
  await tasker.stop();

  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'failed');
  const error = task.error as Record<string, unknown>;
  assert.equal(error['name'], 'Error');
  assert.equal(error['message'], 'it broke');
  assert.equal(error['code'], 'E_BROKE');
  assert.deepEqual(error['detail'], { attempt: 1 });
  assert.equal(typeof error['stack'], 'string');
  assert.deepEqual(seen, [
    ['task.add', def],
    ['task.added', uuid],
    ['started'],
    ['task.run', uuid],
    [`task.${uuid}.run`],
    ['task.failed', uuid, error],
    [`task.${uuid}.failed`, error],
    ['task.ended', uuid, 'failed', error],
    [`task.${uuid}.ended`, 'failed', error],
    ['idle'],
    ['stopped'],
  ]);
});

test('the full event sequence of a task aborted while running, on general and per-task names', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('hang', runner('hang-until-abort'));
  const { seen, listen } = recorder(tasker);
  listen(GENERAL);
  const def = { operation: 'hang', data: { n: 1 } };
  const uuid = await tasker.addTask(def);
  listen(perTaskNames(uuid));
  const logged = nextEvent(tasker, `task.${uuid}.log`);
  await tasker.start();
  const [log] = await logged;
  await tasker.abortTask(uuid, 'enough waiting');
  await assert.rejects(tasker.waitForTaskOutputData(uuid), { code: 'ERR_TASK_ABORTED' });
  await tasker.onIdle();
  await tasker.stop();

  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  const reason = task.abortReason!;
  assert.equal(reason.name, 'AbortError');
  assert.equal(reason.code, 'ERR_TASK_ABORT_REQUESTED');
  assert.equal(reason.message, 'enough waiting');
  assert.equal(log.message, 'waiting for abort');
  assert.deepEqual(seen, [
    ['task.add', def],
    ['task.added', uuid],
    ['started'],
    ['task.run', uuid],
    [`task.${uuid}.run`],
    ['task.log', uuid, log],
    [`task.${uuid}.log`, log],
    ['task.aborted', uuid, reason],
    [`task.${uuid}.aborted`, reason],
    ['task.ended', uuid, 'aborted', reason],
    [`task.${uuid}.ended`, 'aborted', reason],
    ['idle'],
    ['stopped'],
  ]);
});

test('prioritizeTask on a new task emits task.prioritized then task.<uuid>.prioritized, stored before they fire', T, async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  const first = await tasker.addTask({ operation: 'later', id: 'first' });
  const second = await tasker.addTask({ operation: 'later', id: 'second' });
  const { seen, listen } = recorder(tasker);
  listen(['task.prioritized', ...perTaskNames(first), ...perTaskNames(second)]);

  await tasker.prioritizeTask(second, 7);
  assert.deepEqual(seen, [
    ['task.prioritized', second, 7],
    [`task.${second}.prioritized`, 7],
  ]);
  await tasker.prioritizeTask(first, Infinity);
  assert.deepEqual(seen.slice(2), [
    ['task.prioritized', first, Infinity],
    [`task.${first}.prioritized`, Infinity],
  ]);
  await tasker.prioritizeTask(second, -Infinity);
  assert.deepEqual(seen.slice(4), [
    ['task.prioritized', second, -Infinity],
    [`task.${second}.prioritized`, -Infinity],
  ]);
  assert.equal((await tasker.getTask(first)).priority, Infinity);
  assert.equal((await tasker.getTask(second)).priority, -Infinity);
  assert.deepEqual((await tasker.findTasks({ operation: 'later' })).map((task) => task.id), ['first', 'second']);
});

test('prioritizeTask on a running or ended task rejects with ERR_TASK_STATE and emits nothing', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('gate', runner('gate'));
  tasker.assignRunner('sum', runner('sum'));
  const channel = `events-${randomUUID()}`;
  const gate = await tasker.addTask({ operation: 'gate', data: { channel, name: 'g' } });
  const started = nextEvent(tasker, `task.${gate}.log`);
  const { seen, listen } = recorder(tasker);
  listen(['task.prioritized', `task.${gate}.prioritized`]);
  await tasker.start();
  await started;
  assert.equal((await tasker.getTask(gate)).status, 'running');
  await assert.rejects(tasker.prioritizeTask(gate, 10), { code: 'ERR_TASK_STATE' });
  assert.equal((await tasker.getTask(gate)).priority, 0);

  release(channel);
  assert.equal(await tasker.waitForTaskOutputData(gate), 'g');
  await assert.rejects(tasker.prioritizeTask(gate, 10), { code: 'ERR_TASK_STATE' });
  await assert.rejects(tasker.prioritizeTask(randomUUID(), 10), { code: 'ERR_TASK_NOT_FOUND' });
  await assert.rejects(tasker.prioritizeTask(gate, Number.NaN), { code: 'ERR_INVALID_OPTION' });
  assert.equal((await tasker.getTask(gate)).priority, 0);
  assert.deepEqual(seen, []);
});

test("'started' is emitted once per start; 'stopped' after the running tasks have ended, once per stop", T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('gate', runner('gate'));
  const { seen, listen } = recorder(tasker);
  listen(['started', 'stopped', 'task.run', 'task.aborted', 'task.ended']);

  await tasker.start();
  await tasker.start();
  assert.deepEqual(seen, [['started']]);

  // stop() with a task running: the task is aborted and has ended before 'stopped'.
  const channel = `events-${randomUUID()}`;
  const gate = await tasker.addTask({ operation: 'gate', data: { channel } });
  await nextEvent(tasker, `task.${gate}.log`);
  await tasker.stop();
  const reason = (await tasker.getTask(gate)).abortReason!;
  assert.equal(reason.code, 'ERR_TASKER_STOPPED');
  assert.deepEqual(seen, [
    ['started'],
    ['task.run', gate],
    ['task.aborted', gate, reason],
    ['task.ended', gate, 'aborted', reason],
    ['stopped'],
  ]);
  await tasker.stop();
  assert.equal(seen.filter(([name]) => name === 'stopped').length, 1, 'a second stop() emits nothing');

  // Started again, then stopped through the start() signal.
  seen.length = 0;
  const controller = new AbortController();
  await tasker.start(controller.signal);
  const stopped = nextEvent(tasker, 'stopped');
  controller.abort();
  await stopped;
  assert.deepEqual(seen, [['started'], ['stopped']]);
});

test("'idle' is emitted once, after the last task has ended and its end is stored; onIdle() resolves then", T, async (t) => {
  const dir = await tempDir(t);
  const tasker = createTasker(t, { maxThreads: 1, persistDir: dir });
  tasker.assignRunner('sum', runner('sum'));
  const { seen, listen } = recorder(tasker);
  listen(['idle', 'task.run', 'task.ended']);
  const a = await tasker.addTask({ operation: 'sum', data: [1] });
  const b = await tasker.addTask({ operation: 'sum', data: [2] });
  let statusOnDiskAtIdle: unknown;
  tasker.on('idle', () => {
    statusOnDiskAtIdle = readStoredTask(dir, b)?.['status'];
  });
  await tasker.start();
  await tasker.onIdle();
  const statusOnDiskAfterOnIdle = readStoredTask(dir, b)?.['status'];
  assert.deepEqual(await Promise.all([tasker.waitForTaskOutputData(a), tasker.waitForTaskOutputData(b)]), [1, 2]);
  assert.deepEqual(seen, [
    ['task.run', a],
    ['task.ended', a, 'done', 1],
    ['task.run', b],
    ['task.ended', b, 'done', 2],
    ['idle'],
  ]);
  assert.equal(statusOnDiskAtIdle, 'done');
  assert.equal(statusOnDiskAfterOnIdle, 'done');
});

test('a throwing listener breaks no transition: the task ends done, other listeners run, the error goes to logger.error', T, async (t) => {
  const reported: unknown[][] = [];
  const logger: EngineLogger = {
    error: (...args: unknown[]) => void reported.push(args),
    warn: () => {},
    info: () => {},
    debug: () => {},
  };
  const tasker = createTasker(t, { logger });
  tasker.assignRunner('sum', runner('sum'));
  const boom = new Error('listener boom');
  const thrower = (): never => {
    throw boom;
  };
  const calls: string[] = [];
  tasker.on('started', thrower);
  tasker.on('started', () => calls.push('started'));
  tasker.on('task.run', thrower);
  tasker.on('task.run', () => calls.push('run'));
  tasker.on('task.done', thrower);
  tasker.on('task.done', (_uuid, result) => calls.push(`done:${String(result)}`));

  const uuid = await tasker.addTask({ operation: 'sum', data: [4, 5] });
  tasker.on(`task.${uuid}.ended`, thrower);
  tasker.on(`task.${uuid}.ended`, (status) => calls.push(`ended:${status}`));
  await tasker.start();
  assert.equal(await tasker.waitForTaskOutputData(uuid), 9);
  assert.equal((await tasker.getTask(uuid)).status, 'done');
  assert.deepEqual(calls, ['started', 'run', 'done:9', 'ended:done']);

  assert.equal(reported.length, 4);
  for (const [args, name] of [
    [reported[0]!, 'started'],
    [reported[1]!, 'task.run'],
    [reported[2]!, 'task.done'],
    [reported[3]!, `task.${uuid}.ended`],
  ] as const) {
    assert.ok(args.includes(boom), 'the thrown error is reported');
    assert.ok(args.some((arg) => typeof arg === 'string' && arg.includes(`'${name}'`)), `the event name ${name} is reported`);
  }

  // The tasker still works afterwards.
  const next = await tasker.addTask({ operation: 'sum', data: [1, 1] });
  assert.equal(await tasker.waitForTaskOutputData(next), 2);
});

test('events are emitted after the change is stored: the store files read inside the listeners already have it', T, async (t) => {
  const dir = await tempDir(t);
  const tasker = createTasker(t, { persistDir: dir });
  tasker.assignRunner('sum', runner('sum'));
  const onDisk: Record<string, unknown> = {};
  tasker.on('task.added', (uuid) => {
    onDisk['added'] = readStoredTask(dir, uuid)?.['status'];
  });
  tasker.on('task.run', (uuid) => {
    const stored = readStoredTask(dir, uuid);
    onDisk['run'] = [stored?.['status'], typeof stored?.['startedAt']];
  });
  tasker.on('task.log', (uuid, log) => {
    const logs = readStoredLogs(dir, uuid);
    ((onDisk['log'] ??= []) as unknown[]).push([log.message, logs.map((entry) => entry['message']).includes(log.message)]);
  });
  tasker.on('task.done', (uuid, result) => {
    const stored = readStoredTask(dir, uuid);
    onDisk['done'] = [stored?.['status'], stored?.['result'], result, typeof stored?.['endedAt']];
  });
  tasker.on('task.ended', (uuid) => {
    onDisk['ended'] = readStoredTask(dir, uuid)?.['status'];
  });
  // Added while stopped, so that the 'new' state is written on its own.
  const uuid = await tasker.addTask({ operation: 'sum', data: [20, 22] });
  await tasker.start();
  assert.equal(await tasker.waitForTaskOutputData(uuid), 42);
  assert.deepEqual(onDisk, {
    added: 'new',
    run: ['running', 'string'],
    log: [
      ['Sum', true],
      ['Ended', true],
    ],
    done: ['done', 42, 42, 'string'],
    ended: 'done',
  });
});

for (const [label, clear] of [
  ['none removed', (): void => {}],
  ['after removeAllListeners()', (tasker: Tasker): void => void tasker.removeAllListeners()],
  ["after removeAllListeners('newListener')", (tasker: Tasker): void => void tasker.removeAllListeners('newListener' as never)],
] as const) {
  test(`per-task events reach a listener added after tasks ran without one (${label})`, T, async (t) => {
    // Until a per-task name has a listener the engine does not build those names; it must notice the first one.
    const tasker = createTasker(t, { maxThreads: 1 });
    tasker.assignRunner('sum', runner('sum'));
    await tasker.start();
    for (let i = 0; i < 20; i++) assert.equal(await tasker.waitForTaskOutputData(await tasker.addTask({ operation: 'sum', data: [i, 1] })), i + 1);
    let generalDone = 0;
    tasker.on('task.done', () => generalDone++);
    clear(tasker);
    await tasker.stop();
    const uuid = await tasker.addTask({ operation: 'sum', data: [2, 3] });
    const seen: string[] = [];
    const emitter = tasker as unknown as EventEmitter;
    for (const name of perTaskNames(uuid)) emitter.on(name, () => seen.push(name.slice(`task.${uuid}.`.length)));
    await tasker.start();
    assert.equal(await tasker.waitForTaskOutputData(uuid), 5);
    await tasker.onIdle();
    assert.deepEqual(seen, ['run', 'log', 'log', 'done', 'ended']);
    assert.equal(generalDone, label === 'after removeAllListeners()' ? 0 : 1, 'removeAllListeners() removed every listener, and only then');
  });
}

test('removeAllListeners keeps EventEmitter semantics: an explicit undefined names one event and removes no other', T, (t) => {
  const tasker = createTasker(t);
  const emitter = tasker as unknown as EventEmitter;
  let done = 0;
  tasker.on('task.done', () => done++);
  emitter.removeAllListeners(undefined as unknown as string);
  emitter.emit('task.done', 'u', 1);
  assert.equal(done, 1);
  tasker.removeAllListeners();
  emitter.emit('task.done', 'u', 1);
  assert.equal(done, 1);
  assert.deepEqual(tasker.eventNames(), ['newListener'], "only the tasker's own watch of per-task listeners is left");
});
