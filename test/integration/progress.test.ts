import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import { Tasker, type Progress, type TaskStore } from 'tasker';
import { rejectsWith } from '../helpers/assertions.js';
import { nextEvent, recordEvents } from '../helpers/events.js';
import { runner } from '../helpers/fixtures.js';
import { createTasker, tempDir } from '../helpers/tasker.js';

const T = { timeout: 20_000 };

type Step = [value: number | { done: number; total: number }, message?: string];

function post(channelName: string, message: string): void {
  const channel = new BroadcastChannel(channelName);
  channel.postMessage(message);
  channel.close();
}

/** Without `at`, to compare values. */
function bare(progress: Progress | undefined): Omit<Progress, 'at'> | undefined {
  if (progress === undefined) return undefined;
  assert.ok(progress.at instanceof Date, 'at is a Date');
  const { at: _at, ...rest } = progress;
  return rest;
}

/** Answers each progress event of `uuid` with 'next', so that the runner reports its next step. */
function stepThrough(tasker: Tasker, uuid: string, channel: string): Progress[] {
  const seen: Progress[] = [];
  (tasker as unknown as EventEmitter).on(`task.${uuid}.progress`, (progress: Progress) => {
    seen.push(progress);
    post(channel, 'next');
  });
  return seen;
}

async function drain<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

const STEPS: Step[] = [[0], [{ done: 1, total: 4 }, 'one'], [0.5, 'half'], [{ done: 3, total: 4 }], [1, 'all']];
const EXPECTED = [
  { ratio: 0 },
  { ratio: 0.25, done: 1, total: 4, message: 'one' },
  { ratio: 0.5, message: 'half' },
  { ratio: 0.75, done: 3, total: 4 },
  { ratio: 1, message: 'all' },
];

test('progress is stored on the task and evented, in order, before the task ends', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('steps', runner('progress-steps'));
  await tasker.start();
  const channel = `progress-${randomUUID()}`;
  const events = recordEvents(tasker, ['task.progress', 'task.done']);
  const before = Date.now();
  const uuid = await tasker.addTask({ operation: 'steps', data: { channel, steps: STEPS } });
  assert.equal(await tasker.getTask(uuid).then((task) => task.progress), undefined, 'no progress before the runner reports one');
  const seen = stepThrough(tasker, uuid, channel);
  assert.equal(await tasker.waitForTaskOutputData(uuid), STEPS.length);
  assert.deepEqual(seen.map(bare), EXPECTED);
  assert.deepEqual(events.map(([name]) => name), [...STEPS.map(() => 'task.progress'), 'task.done']);
  assert.deepEqual(events.slice(0, -1).map(([, id, progress]) => [id, bare(progress as Progress)]), EXPECTED.map((p) => [uuid, p]));
  let previous = before - 1000;
  for (const progress of seen) {
    assert.ok(progress.at.getTime() >= previous && progress.at.getTime() <= Date.now() + 1000, 'at is plausible and does not go backwards');
    previous = progress.at.getTime();
  }
  const task = await tasker.getTask(uuid);
  assert.deepEqual(bare(task.progress), EXPECTED.at(-1));
  assert.deepEqual(bare((await tasker.findTasks({ uuid }))[0]!.progress), EXPECTED.at(-1));
  assert.deepEqual(await tasker.findTasks({ 'progress.ratio': 1 }, { projection: { uuid: 1 } }), [{ uuid }], 'queries see progress');
});

test('a runner calling progress() a million times sends few messages, and the final value is never lost', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('flood', runner('progress-flood'));
  await tasker.start();
  const count = 1_000_000;
  const events = recordEvents(tasker, ['task.progress', 'task.done']);
  const uuid = await tasker.addTask({ operation: 'flood', data: { count, message: 'working' } });
  const { loopMs } = (await tasker.waitForTaskOutputData(uuid)) as { loopMs: number };
  const progressEvents = events.filter(([name]) => name === 'task.progress');
  // One per 100 ms of loop at most, plus the first and the last.
  assert.ok(progressEvents.length < 50, `${progressEvents.length} progress events for ${count} calls`);
  assert.ok(progressEvents.length <= Math.ceil(loopMs / 100) + 2, `${progressEvents.length} progress events for a ${Math.round(loopMs)} ms loop`);
  const last = progressEvents.at(-1)!;
  assert.deepEqual(bare(last[2] as Progress), { ratio: 1, done: count, total: count, message: 'working' });
  assert.equal(events.at(-1)![0], 'task.done', 'the last progress is evented before the end');
  const ratios = progressEvents.map(([, , progress]) => (progress as Progress).ratio);
  assert.deepEqual(ratios, [...ratios].sort((a, b) => a - b), 'progress arrives in order');
  assert.deepEqual(bare((await tasker.getTask(uuid)).progress), { ratio: 1, done: count, total: count, message: 'working' });
});

test('an invalid value throws a TypeError in the runner, which can catch it; uncaught, it fails the task', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('invalid', runner('progress-invalid'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'invalid' });
  const outcomes = (await tasker.waitForTaskOutputData(uuid)) as Array<[string, string]>;
  assert.equal(outcomes.length, 17);
  for (const [name, message] of outcomes) {
    assert.equal(name, 'TypeError', message);
    assert.match(message, /^ctx\.progress\(/, 'the message names the call');
  }
  assert.match(outcomes[1]![1], /between 0 and 1, got 1\.5/);
  assert.match(outcomes[12]![1], /done \(11\) must not exceed total \(10\)/);
  assert.match(outcomes[15]![1], /message must be a string/);
  assert.deepEqual(bare((await tasker.getTask(uuid)).progress), { ratio: 0.25, message: 'valid after invalid ones' }, 'invalid calls changed nothing');

  const failed = await tasker.addTask({ operation: 'invalid', data: { uncaught: true } });
  await assert.rejects(tasker.waitForTaskOutputData(failed), rejectsWith('ERR_TASK_FAILED'));
  const task = await tasker.getTask(failed);
  assert.equal((task.error as { name: string }).name, 'TypeError');
  assert.deepEqual(bare(task.progress), { ratio: 0.25, message: 'valid after invalid ones' });
});

test('progress survives a restart: of a done task, and of a task aborted by the stop', T, async (t) => {
  const persistDir = await tempDir(t);
  const channel = `progress-${randomUUID()}`;
  const first = new Tasker({ maxThreads: 2, abortGraceMs: 200, persistDir });
  t.after(() => first.close());
  first.assignRunner('steps', runner('progress-steps'));
  await first.start();
  const done = await first.addTask({ operation: 'steps', data: { channel: `${channel}-done`, steps: [[{ done: 2, total: 3 }, 'two of three']] } });
  const reported = nextEvent(first, `task.${done}.progress`);
  await reported;
  post(`${channel}-done`, 'next');
  await first.waitForTaskOutputData(done);
  const held = await first.addTask({ operation: 'steps', data: { channel: `${channel}-held`, steps: [[0.4, 'held']] } });
  await nextEvent(first, `task.${held}.progress`);
  await first.close();

  const second = new Tasker({ persistDir });
  t.after(() => second.close());
  assert.deepEqual(bare((await second.getTask(done)).progress), { ratio: 2 / 3, done: 2, total: 3, message: 'two of three' });
  const aborted = await second.getTask(held);
  assert.equal(aborted.status, 'aborted');
  assert.deepEqual(bare(aborted.progress), { ratio: 0.4, message: 'held' });
  assert.ok(aborted.progress!.at instanceof Date, 'at is a Date after a restart');
});

test('a task that goes back to the queue (here a stop\'s requeue) loses the progress of its run', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('steps', runner('progress-steps'));
  await tasker.start();
  const channel = `progress-${randomUUID()}`;
  const uuid = await tasker.addTask({ operation: 'steps', data: { channel, steps: [[0.5]] } });
  await nextEvent(tasker, `task.${uuid}.progress`);
  await tasker.stop({ running: 'requeue' });
  const requeued = await tasker.getTask(uuid);
  assert.equal(requeued.status, 'new');
  assert.equal(requeued.progress, undefined);
  assert.equal(requeued.attempts?.length, 1);
});

test('listenTaskProgress: the current value first, then updates, ending with the task', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('steps', runner('progress-steps'));
  await tasker.start();
  const channel = `progress-${randomUUID()}`;
  const uuid = await tasker.addTask({ operation: 'steps', data: { channel, steps: STEPS } });
  await nextEvent(tasker, `task.${uuid}.progress`);
  const stream = tasker.listenTaskProgress(uuid);
  const first = await stream.next();
  assert.deepEqual(bare(first.value as Progress), EXPECTED[0], 'the current progress first');
  const rest: Progress[] = [];
  for (let i = 1; i < STEPS.length; i++) {
    post(channel, 'next');
    const { value, done } = await stream.next();
    assert.equal(done, false);
    rest.push(value as Progress);
  }
  assert.deepEqual(rest.map(bare), EXPECTED.slice(1));
  post(channel, 'next');
  assert.deepEqual(await stream.next(), { value: undefined, done: true }, 'ends when the task ends');
  assert.equal((await tasker.getTask(uuid)).status, 'done');

  // On an ended task: the stored progress, then the end.
  assert.deepEqual((await drain(tasker.listenTaskProgress(uuid))).map(bare), [EXPECTED.at(-1)]);
});

test('listenTaskProgress: a task without progress yields nothing until it reports; abortSignal ends it; a slow consumer gets the latest', T, async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  const channel = `progress-${randomUUID()}`;
  const uuid = await tasker.addTask({ operation: 'steps', data: { channel, steps: STEPS } });
  // Listening before the task runs: nothing yet.
  const controller = new AbortController();
  const early = tasker.listenTaskProgress(uuid, { abortSignal: controller.signal });
  const stopped = drain(early);
  tasker.assignRunner('steps', runner('progress-steps'));
  const slow = tasker.listenTaskProgress(uuid);
  await tasker.start();
  for (let i = 0; i < STEPS.length - 1; i++) {
    await nextEvent(tasker, `task.${uuid}.progress`);
    post(channel, 'next');
  }
  await nextEvent(tasker, `task.${uuid}.progress`);
  controller.abort();
  const seenBeforeAbort = await stopped;
  assert.deepEqual(seenBeforeAbort.map(bare), EXPECTED, 'a prompt consumer sees every value, then the abort ends it');
  // The slow consumer took nothing so far: it gets only the latest value.
  const { value } = await slow.next();
  assert.deepEqual(bare(value as Progress), EXPECTED.at(-1));
  // An already-aborted signal ends the stream at once.
  assert.deepEqual(await drain(tasker.listenTaskProgress(uuid, { abortSignal: AbortSignal.abort() })), []);
  post(channel, 'next');
  await tasker.waitForTaskOutputData(uuid);
  assert.deepEqual(await slow.next(), { value: undefined, done: true });
  await assert.rejects(tasker.listenTaskProgress(randomUUID()).next(), rejectsWith('ERR_TASK_NOT_FOUND'));
});

test('a running task\'s progress is stored at most every second (the rest with its end), yet evented each time', T, async (t) => {
  const puts: Array<{ status: string; ratio: number | undefined }> = [];
  const store: TaskStore = {
    load: async () => [],
    commit: async (changes) => {
      for (const change of changes) if (change.type === 'put') puts.push({ status: change.task.status, ratio: change.task.progress?.ratio });
    },
    close: async () => {},
  };
  const tasker = createTasker(t, { store });
  tasker.assignRunner('flood', runner('progress-flood'));
  await tasker.start();
  const events = recordEvents(tasker, ['task.progress']);
  const uuid = await tasker.addTask({ operation: 'flood', data: { count: 3_000_000 } });
  const { loopMs } = (await tasker.waitForTaskOutputData(uuid)) as { loopMs: number };
  const running = puts.filter((put) => put.status === 'running');
  // The start, then at most one progress per second of run (the first one at once).
  assert.ok(running.length <= 2 + Math.ceil(loopMs / 1000), `${running.length} puts of the running task for a ${Math.round(loopMs)} ms run`);
  assert.ok(events.length >= running.length - 1, 'every stored progress was evented');
  assert.deepEqual(puts.at(-1), { status: 'done', ratio: 1 }, 'the final value is stored with the end');
});
