import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { BroadcastChannel } from 'node:worker_threads';
import { ErrorCodes, TaskFailedError, type AddTaskDef, type JsonValue, type LogEntry, type Tasker } from 'tasker';
import { rejectsWith } from '../helpers/assertions.js';
import { runner } from '../helpers/fixtures.js';
import { createTasker } from '../helpers/tasker.js';

/** Safety net only: a test that hangs fails instead of blocking the run. */
const T = { timeout: 10_000 };

/** Resolves once `predicate()` holds, re-checked after each `event` (listeners registered earlier run first). */
function until(tasker: Tasker, event: 'task.log' | 'task.run' | 'task.ended', predicate: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (predicate()) return resolve();
    const check = (): void => {
      if (!predicate()) return;
      tasker.off(event, check);
      resolve();
    };
    tasker.on(event, check);
  });
}


// ---- results ------------------------------------------------------------------

test('a number result is stored and returned', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('sum', runner('sum'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'sum', data: [5, 4] });
  assert.equal(await tasker.waitForTaskOutputData(uuid), 9);
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'done');
  assert.equal(task.result, 9);
  assert.ok(task.startedAt instanceof Date);
  assert.ok(task.endedAt instanceof Date);
  assert.ok(task.endedAt.getTime() >= task.startedAt.getTime());
  assert.equal('error' in task, false);
  assert.equal('abortReason' in task, false);
});

test('an object result keeps its Dates as Date objects', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('value', runner('return-value'));
  tasker.assignRunner('echo', runner('echo'));
  await tasker.start();

  const dateTask = await tasker.addTask({ operation: 'value', data: { kind: 'date' } });
  const output = await tasker.waitForTaskOutputData<{ at: Date }>(dateTask);
  assert.ok(output.at instanceof Date, 'waitForTaskOutputData gives a Date');
  assert.equal(output.at.getTime(), 0);
  const stored = await tasker.getTask<JsonValue, { at: Date }>(dateTask);
  assert.ok(stored.result?.at instanceof Date, 'the stored result holds a Date');
  assert.equal(stored.result.at.getTime(), 0);

  const data = { n: 1, nested: { list: [1, 'two', null, true], when: new Date('2024-02-03T04:05:06.789Z') } };
  const echoTask = await tasker.addTask({ operation: 'echo', data });
  const echoed = await tasker.waitForTaskOutputData<typeof data>(echoTask);
  assert.deepEqual(echoed, data);
  assert.ok(echoed.nested.when instanceof Date);
});

test('a runner returning undefined stores null', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('value', runner('return-value'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'value', data: { kind: 'undefined' } });
  assert.equal(await tasker.waitForTaskOutputData(uuid), null);
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'done');
  assert.ok('result' in task, 'result is present');
  assert.equal(task.result, null);
});

test('a named export runs with { module, export }', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('product', { module: runner('sum'), export: 'product' });
  tasker.assignRunner('sum', { module: runner('sum') });
  await tasker.start();
  const product = await tasker.addTask({ operation: 'product', data: [2, 3, 4] });
  const sum = await tasker.addTask({ operation: 'sum', data: [2, 3, 4] });
  assert.equal(await tasker.waitForTaskOutputData(product), 24);
  assert.equal(await tasker.waitForTaskOutputData(sum), 9);
});

test('a runner given as a file: URL string or a URL object runs', T, async (t) => {
  const tasker = createTasker(t);
  const url = pathToFileURL(runner('echo'));
  tasker.assignRunner('by-string', url.href);
  tasker.assignRunner('by-url', url);
  tasker.assignRunner('by-module-url', { module: pathToFileURL(runner('sum')), export: 'product' });
  await tasker.start();
  const a = await tasker.addTask({ operation: 'by-string', data: 'string' });
  const b = await tasker.addTask({ operation: 'by-url', data: { via: 'URL' } });
  const c = await tasker.addTask({ operation: 'by-module-url', data: [3, 5] });
  assert.equal(await tasker.waitForTaskOutputData(a), 'string');
  assert.deepEqual(await tasker.waitForTaskOutputData(b), { via: 'URL' });
  assert.equal(await tasker.waitForTaskOutputData(c), 15);
});

// ---- failures -----------------------------------------------------------------

test('a runner throwing an Error fails the task; the stored error keeps its fields', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('fail', runner('fail'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'fail', data: { message: 'boom', code: 'E_BOOM' } });
  await assert.rejects(
    tasker.waitForTaskOutputData(uuid),
    rejectsWith(ErrorCodes.TASK_FAILED, (error) => {
      assert.ok(error instanceof TaskFailedError);
      assert.equal((error as TaskFailedError).uuid, uuid);
      assert.match(error.message, /boom/);
      const cause = error.cause as Error & { code?: unknown; detail?: unknown };
      assert.ok(cause instanceof Error, 'cause is an Error');
      assert.equal(cause.message, 'boom');
      assert.equal(cause.code, 'E_BOOM');
      assert.deepEqual(cause.detail, { attempt: 1 });
    }),
  );
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'failed');
  assert.ok(task.startedAt instanceof Date && task.endedAt instanceof Date);
  assert.equal('result' in task, false);
  const error = task.error as Record<string, unknown>;
  assert.equal(error['name'], 'Error');
  assert.equal(error['message'], 'boom');
  assert.equal(error['code'], 'E_BOOM');
  assert.deepEqual(error['detail'], { attempt: 1 });
  assert.equal(typeof error['stack'], 'string');
  assert.match(error['stack'] as string, /boom/);
  assert.match(error['stack'] as string, /fail\.mjs/);
});

for (const [label, value] of [
  ['a string', 'just a string'],
  ['null', null],
  ['a plain object', { reason: 'nope', count: 2, nested: { ok: false } }],
] as const) {
  test(`a runner throwing ${label} fails the task with the raw value as error`, T, async (t) => {
    const tasker = createTasker(t);
    tasker.assignRunner('throw', runner('throw-value'));
    await tasker.start();
    const uuid = await tasker.addTask({ operation: 'throw', data: { value } });
    await assert.rejects(
      tasker.waitForTaskOutputData(uuid),
      rejectsWith(ErrorCodes.TASK_FAILED, (error) => assert.deepEqual(error.cause, value)),
    );
    const task = await tasker.getTask(uuid);
    assert.equal(task.status, 'failed');
    assert.ok('error' in task, 'error is present');
    assert.deepEqual(task.error, value);
  });
}

for (const kind of ['function', 'symbol', 'class', 'cycle']) {
  test(`a runner returning a ${kind} fails with ERR_RESULT_NOT_SERIALIZABLE`, T, async (t) => {
    const tasker = createTasker(t);
    tasker.assignRunner('value', runner('return-value'));
    await tasker.start();
    const uuid = await tasker.addTask({ operation: 'value', data: { kind } });
    await assert.rejects(
      tasker.waitForTaskOutputData(uuid),
      rejectsWith(ErrorCodes.TASK_FAILED, (error) => {
        assert.equal((error.cause as { code?: unknown }).code, ErrorCodes.RESULT_NOT_SERIALIZABLE);
      }),
    );
    const task = await tasker.getTask(uuid);
    assert.equal(task.status, 'failed');
    assert.equal('result' in task, false);
    const error = task.error as Record<string, unknown>;
    assert.equal(error['code'], ErrorCodes.RESULT_NOT_SERIALIZABLE);
    assert.match(error['message'] as string, /result/);
  });
}

test('a runner module without the export fails with ERR_RUNNER_LOAD_FAILED', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('missing-export', { module: runner('echo'), export: 'doesNotExist' });
  tasker.assignRunner('echo', runner('echo'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'missing-export', data: 1 });
  await assert.rejects(
    tasker.waitForTaskOutputData(uuid),
    rejectsWith(ErrorCodes.TASK_FAILED, (error) => {
      assert.equal((error.cause as { code?: unknown }).code, ErrorCodes.RUNNER_LOAD_FAILED);
    }),
  );
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'failed');
  const error = task.error as Record<string, unknown>;
  assert.equal(error['code'], ErrorCodes.RUNNER_LOAD_FAILED);
  assert.match(error['message'] as string, /doesNotExist/);
  // The same module's default export still works.
  const ok = await tasker.addTask({ operation: 'echo', data: 'fine' });
  assert.equal(await tasker.waitForTaskOutputData(ok), 'fine');
});

test('process.exit(3) in a runner fails the task with ERR_WORKER_EXITED and the next task still runs', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('exit', runner('exit'));
  tasker.assignRunner('echo', runner('echo'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'exit', data: { code: 3 } });
  await assert.rejects(
    tasker.waitForTaskOutputData(uuid),
    rejectsWith(ErrorCodes.TASK_FAILED, (error) => {
      assert.equal((error.cause as { code?: unknown }).code, ErrorCodes.WORKER_EXITED);
    }),
  );
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'failed');
  const error = task.error as Record<string, unknown>;
  assert.equal(error['code'], ErrorCodes.WORKER_EXITED);
  assert.equal(error['exitCode'], 3);

  // More tasks than threads, so that every thread (including the replacement) serves one.
  const next = await Promise.all([1, 2, 3, 4].map((n) => tasker.addTask({ operation: 'echo', data: n })));
  assert.deepEqual(await Promise.all(next.map((id) => tasker.waitForTaskOutputData(id))), [1, 2, 3, 4]);
  for (const id of next) assert.equal((await tasker.getTask(id)).status, 'done');
});

// ---- assignRunner -------------------------------------------------------------

test('assignRunner refuses a function, a missing file, and a second runner for one operation', async (t) => {
  const tasker = createTasker(t);
  const fn = async (): Promise<number> => 1;
  assert.throws(() => tasker.assignRunner('fn', fn as unknown as string), { code: ErrorCodes.INVALID_RUNNER });
  assert.throws(() => tasker.assignRunner('missing', runner('no-such-runner-file')), { code: ErrorCodes.INVALID_RUNNER });
  assert.throws(() => tasker.assignRunner('missing-url', pathToFileURL(runner('no-such-runner-file'))), {
    code: ErrorCodes.INVALID_RUNNER,
  });
  // The refused assignments left the operations free.
  tasker.assignRunner('fn', runner('echo'));
  tasker.assignRunner('missing', runner('echo'));
  assert.throws(() => tasker.assignRunner('fn', runner('sum')), { code: ErrorCodes.RUNNER_ALREADY_ASSIGNED });
  assert.throws(() => tasker.assignRunner('missing', runner('echo')), { code: ErrorCodes.RUNNER_ALREADY_ASSIGNED });
});

test('assignRunner schedules tasks added before it (original bug 8)', T, async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  tasker.assignRunner('other', runner('echo'));
  await tasker.start();
  const early = await tasker.addTask({ operation: 'late', data: 'early' });
  const alsoEarly = await tasker.addTask({ operation: 'late', data: 'also early' });
  // Proof the tasker is dispatching: another operation runs to the end.
  const other = await tasker.addTask({ operation: 'other', data: 'other' });
  assert.equal(await tasker.waitForTaskOutputData(other), 'other');
  assert.equal((await tasker.getTask(early)).status, 'new');
  assert.equal((await tasker.getTask(alsoEarly)).status, 'new');

  const waiting = Promise.all([tasker.waitForTaskOutputData(early), tasker.waitForTaskOutputData(alsoEarly)]);
  tasker.assignRunner('late', runner('echo'));
  // Nothing else happens after assignRunner: if it did not schedule, this would hang (and time out).
  assert.deepEqual(await waiting, ['early', 'also early']);
});

// ---- addTask validation ---------------------------------------------------------

test('addTask rejects malformed definitions with ERR_INVALID_TASK and stores nothing', async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  const invalid = (def: unknown): Promise<string> => tasker.addTask(def as AddTaskDef);
  const expect = (pattern?: RegExp) => rejectsWith(ErrorCodes.INVALID_TASK, (error) => {
    if (pattern !== undefined) assert.match(error.message, pattern);
  });

  await assert.rejects(invalid({ operation: '' }), expect(/operation/));
  await assert.rejects(invalid({ data: 1 }), expect(/operation/));

  const cycle: Record<string, unknown> = { ok: 1 };
  cycle['self'] = cycle;
  class Point {
    x = 1;
  }
  await assert.rejects(invalid({ operation: 'op', data: { a: [1, { fn: () => 1 }] } }), expect(/data\.a\[1\]\.fn/));
  await assert.rejects(invalid({ operation: 'op', data: { big: 10n } }), expect(/data\.big/));
  await assert.rejects(invalid({ operation: 'op', data: { nested: cycle } }), expect(/data\.nested\.self/));
  await assert.rejects(invalid({ operation: 'op', data: { point: new Point() } }), expect(/data\.point.*Point/));
  await assert.rejects(invalid({ operation: 'op', id: { f: () => 1 } }), expect(/id\.f/));

  await assert.rejects(invalid({ operation: 'op', priority: NaN }), expect(/priority/));
  await assert.rejects(invalid({ operation: 'op', priority: '1' }), expect(/priority/));
  await assert.rejects(invalid({ operation: 'op', runTimeout: 0 }), expect(/runTimeout/));
  await assert.rejects(invalid({ operation: 'op', runTimeout: -1 }), expect(/runTimeout/));
  await assert.rejects(invalid({ operation: 'op', unknownField: true }), expect(/unknownField/));

  assert.equal(await tasker.countTasks(), 0, 'no invalid task was stored');

  const inf = await tasker.addTask({ operation: 'op', priority: Infinity });
  const negInf = await tasker.addTask({ operation: 'op', priority: -Infinity });
  assert.equal((await tasker.getTask(inf)).priority, Infinity);
  assert.equal((await tasker.getTask(negInf)).priority, -Infinity);
  assert.equal(await tasker.countTasks(), 2);
});

test('getTask of an unknown uuid rejects with ERR_TASK_NOT_FOUND', async (t) => {
  const tasker = createTasker(t);
  await assert.rejects(tasker.getTask(randomUUID()), { code: ErrorCodes.TASK_NOT_FOUND });
  await assert.rejects(tasker.waitForTaskOutputData(randomUUID()), { code: ErrorCodes.TASK_NOT_FOUND });
});

test('tasks, data and results handed out are copies', T, async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('echo', runner('echo'));
  const data = { list: [1, 2], when: new Date(0), inner: { flag: true } };
  const uuid = await tasker.addTask({ operation: 'echo', data });
  // Mutating what was given to addTask changes nothing stored.
  data.list.push(3);
  data.when.setTime(1000);
  data.inner.flag = false;
  const expected = { list: [1, 2], when: new Date(0), inner: { flag: true } };
  assert.deepEqual((await tasker.getTask(uuid)).data, expected);

  const beforeEnd = tasker.waitForTaskOutputData<typeof expected>(uuid);
  await tasker.start();
  const first = await beforeEnd;
  assert.deepEqual(first, expected);
  first.list.push(99);
  first.when.setTime(5);
  first.inner.flag = false;

  const task = await tasker.getTask<typeof expected, typeof expected>(uuid);
  assert.deepEqual(task.result, expected, 'mutating a waiter result changes nothing stored');
  task.status = 'failed';
  task.data!.list.push(7);
  task.result!.inner.flag = false;
  task.createdAt.setTime(0);
  const [found] = await tasker.findTasks<typeof expected, typeof expected>({ uuid });
  assert.ok(found);
  found.data!.list.length = 0;
  found.result!.list.length = 0;

  const again = await tasker.getTask<typeof expected, typeof expected>(uuid);
  assert.equal(again.status, 'done');
  assert.deepEqual(again.data, expected);
  assert.deepEqual(again.result, expected);
  assert.notEqual(again.createdAt.getTime(), 0);
  const second = await tasker.waitForTaskOutputData<typeof expected>(uuid);
  assert.deepEqual(second, expected);
  second.list.push(1);
  assert.deepEqual(await tasker.waitForTaskOutputData(uuid), expected);
});

// ---- scheduling -----------------------------------------------------------------

test('maxThreads bounds concurrency: 2 threads, 5 gate tasks, exactly 2 run at once', T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 2 });
  tasker.assignRunner('gate', runner('gate'));
  const channelName = `tasker-test-gate:${randomUUID()}`;
  const channel = new BroadcastChannel(channelName);
  t.after(() => channel.close());

  let running = 0;
  let maxRunning = 0;
  const runOrder: string[] = [];
  const started = new Set<string>();
  tasker.on('task.run', (uuid: string) => {
    runOrder.push(uuid);
    running++;
    maxRunning = Math.max(maxRunning, running);
  });
  tasker.on('task.ended', () => running--);
  tasker.on('task.log', (uuid: string, entry: LogEntry) => {
    if (entry.message === 'started') started.add(uuid);
  });

  await tasker.start();
  const names = ['g0', 'g1', 'g2', 'g3', 'g4'];
  const uuids: string[] = [];
  for (const name of names) uuids.push(await tasker.addTask({ operation: 'gate', data: { channel: channelName, name } }));
  const nameOf = new Map(uuids.map((uuid, i) => [uuid, names[i]!]));

  await until(tasker, 'task.log', () => started.size === 2);
  assert.deepEqual([...started].map((uuid) => nameOf.get(uuid)).sort(), ['g0', 'g1'], 'the first two (FIFO) started');
  assert.equal(await tasker.countTasks({ status: 'running' }), 2);
  assert.equal(await tasker.countTasks({ status: 'new' }), 3);

  // Release the gates one at a time, in run order; each end lets exactly one more start.
  for (let i = 0; i < names.length; i++) {
    await until(tasker, 'task.log', () => runOrder.length > i && started.has(runOrder[i]!));
    const uuid = runOrder[i]!;
    channel.postMessage(`release:${nameOf.get(uuid)}`);
    assert.equal(await tasker.waitForTaskOutputData(uuid), nameOf.get(uuid));
    const left = names.length - (i + 1);
    assert.equal(await tasker.countTasks({ status: 'running' }), Math.min(2, left));
    assert.equal(await tasker.countTasks({ status: 'new' }), Math.max(0, left - 2));
  }

  assert.equal(maxRunning, 2);
  assert.deepEqual(runOrder.map((uuid) => nameOf.get(uuid)), names, 'tasks ran in FIFO order');
  assert.equal(await tasker.countTasks({ status: 'done' }), 5);
});

test('with maxThreads 1 tasks run by priority, highest first, FIFO among equals', T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 1 });
  tasker.assignRunner('echo', runner('echo'));
  const defs: Array<[string, number]> = [
    ['a0', 0],
    ['b5', 5],
    ['c0', 0],
    ['d10', 10],
    ['e5', 5],
    ['f-inf', -Infinity],
    ['g+inf', Infinity],
    ['h-1', -1],
    ['i10', 10],
  ];
  const nameOf = new Map<string, string>();
  for (const [name, priority] of defs) nameOf.set(await tasker.addTask({ operation: 'echo', data: name, priority }), name);
  assert.equal(await tasker.countTasks({ status: 'new' }), defs.length);

  const order: string[] = [];
  tasker.on('task.run', (uuid: string) => order.push(nameOf.get(uuid) ?? uuid));
  await tasker.start();
  await Promise.all([...nameOf.keys()].map((uuid) => tasker.waitForTaskOutputData(uuid)));
  assert.deepEqual(order, ['g+inf', 'd10', 'i10', 'b5', 'e5', 'a0', 'c0', 'h-1', 'f-inf']);
});
