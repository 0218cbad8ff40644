import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Tasker, Task } from 'tasker';
import { rejectsWith } from '../helpers/assertions.js';
import { runner } from '../helpers/fixtures.js';
import { createTasker } from '../helpers/tasker.js';

const T = { timeout: 20_000 };

interface Photo {
  n: number;
  file: string;
  tags: string[];
  big: string;
}

/** A started tasker with five ended `echo` tasks (result = data) and one `burst` task that logged 5 lines. */
async function setUp(t: TestContext): Promise<{ tasker: Tasker; photos: string[]; burst: string }> {
  const tasker = createTasker(t);
  tasker.assignRunner('echo', runner('echo'));
  tasker.assignRunner('burst', runner('log-burst'));
  await tasker.start();
  const photos: string[] = [];
  for (let n = 0; n < 5; n++) {
    const data: Photo = { n, file: `photo-${n}.jpg`, tags: ['a', `t${n}`], big: 'x'.repeat(10_000) };
    photos.push(await tasker.addTask({ operation: 'echo', id: { n }, data, priority: n }));
  }
  const burst = await tasker.addTask({ operation: 'burst', data: { count: 5 } });
  await tasker.onIdle();
  return { tasker, photos, burst };
}

test('findTasks with an inclusion returns only the projected fields (and uuid); query, sort, skip and limit still see whole tasks', T, async (t) => {
  const { tasker, photos } = await setUp(t);
  const found = await tasker.findTasks<Photo, Photo>(
    { operation: 'echo', 'data.n': { $gte: 1 }, 'result.big': { $exists: true } },
    { sort: { 'data.n': -1 }, skip: 1, limit: 2, projection: { status: 1, 'data.file': 1, 'result.n': 1 } },
  );
  assert.deepEqual(found, [
    { uuid: photos[3], status: 'done', data: { file: 'photo-3.jpg' }, result: { n: 3 } },
    { uuid: photos[2], status: 'done', data: { file: 'photo-2.jpg' }, result: { n: 2 } },
  ]);

  assert.deepEqual(
    await tasker.findTasks({ operation: 'echo' }, { sort: { priority: 1 }, projection: { uuid: 0, 'data.n': true } }),
    [0, 1, 2, 3, 4].map((n) => ({ data: { n } })),
  );
  // A whole-task query without a projection is unchanged.
  const whole = await tasker.findTasks<Photo, Photo>({ uuid: photos[0] });
  assert.equal(whole[0]?.data?.big.length, 10_000);
  assert.equal(whole[0]?.result?.big.length, 10_000);
});

test('findTasks with an exclusion returns everything else, with dot paths into data and result', T, async (t) => {
  const { tasker, photos } = await setUp(t);
  const [task] = await tasker.findTasks<Photo, Photo>({ uuid: photos[1] }, { projection: { 'data.big': 0, 'result.big': 0, 'result.tags': 0 } });
  assert.ok(task !== undefined);
  const full = await tasker.getTask<Photo, Photo>(photos[1]!);
  const { data, result, ...rest } = full;
  assert.deepEqual(task, {
    ...rest,
    data: { n: 1, file: 'photo-1.jpg', tags: ['a', 't1'] },
    result: { n: 1, file: 'photo-1.jpg' },
  });
  assert.equal(data?.big.length, 10_000);
  assert.equal(result?.big.length, 10_000);
  assert.ok(task.createdAt instanceof Date && task.endedAt instanceof Date, 'Dates stay Dates');

  const [bare] = await tasker.findTasks({ uuid: photos[1] }, { projection: { data: 0, result: 0, uuid: 0 } });
  assert.deepEqual(Object.keys(bare ?? {}).sort(), ['createdAt', 'endedAt', 'id', 'operation', 'priority', 'startedAt', 'status']);
});

test('findTask and getTask take a projection', T, async (t) => {
  const { tasker, photos } = await setUp(t);
  assert.deepEqual(await tasker.findTask({ operation: 'echo' }, { sort: { 'data.n': -1 }, projection: { 'data.n': 1 } }), {
    uuid: photos[4],
    data: { n: 4 },
  });
  assert.equal(await tasker.findTask({ operation: 'nothing' }, { projection: { status: 1 } }), undefined);
  assert.deepEqual(await tasker.getTask(photos[0]!, { projection: { status: 1, result: 1, 'data.tags': 1 } }), {
    uuid: photos[0],
    status: 'done',
    data: { tags: ['a', 't0'] },
    result: { n: 0, file: 'photo-0.jpg', tags: ['a', 't0'], big: 'x'.repeat(10_000) },
  });
  assert.deepEqual(await tasker.getTask(photos[0]!, { projection: {} }), await tasker.getTask(photos[0]!));
  await assert.rejects(tasker.getTask('no-such-task', { projection: { status: 1 } }), rejectsWith('ERR_TASK_NOT_FOUND'));
});

test('logs: only with withLogs, kept by a projection unless logs: 0, narrowed by sub-paths', T, async (t) => {
  const { tasker, burst } = await setUp(t);
  const all = (await tasker.getTask(burst, { withLogs: true })).logs;
  assert.equal(all?.length, 5);

  // withLogs asked for them: an inclusion that does not name them keeps them.
  assert.deepEqual(await tasker.getTask(burst, { withLogs: true, projection: { status: 1 } }), { uuid: burst, status: 'done', logs: all });
  assert.deepEqual(await tasker.getTask(burst, { withLogs: true, projection: { status: 1, logs: 0 } }), { uuid: burst, status: 'done' });
  assert.deepEqual(await tasker.getTask(burst, { withLogs: true, projection: { uuid: 0, logs: 1 } }), { logs: all });
  const excluded = await tasker.getTask(burst, { withLogs: true, projection: { data: 0, logs: 0 } });
  assert.equal(excluded.status, 'done');
  assert.equal('logs' in excluded, false);
  assert.equal('data' in excluded, false);

  // Sub-paths narrow each entry; logsMaxLevel selects entries first.
  assert.deepEqual(await tasker.findTasks({ uuid: burst }, { withLogs: true, logsMaxLevel: 'error', projection: { 'logs.message': 1 } }), [
    { uuid: burst, logs: [{ message: 'line 0' }, { message: 'line 1' }] },
  ]);
  const trimmed = await tasker.findTask({ uuid: burst }, { withLogs: true, projection: { result: 0, 'logs.data': 0, 'logs.timestamp': 0 } });
  assert.deepEqual(trimmed?.logs, ['fatal', 'error', 'warning', 'info', 'debug'].map((level, i) => ({ level, message: `line ${i}` })));
  assert.equal('result' in (trimmed ?? {}), false);
  assert.deepEqual(trimmed?.data, { count: 5 });

  // Without withLogs there are none, and a projection cannot ask for them.
  assert.deepEqual(await tasker.getTask(burst, { projection: { status: 1 } }), { uuid: burst, status: 'done' });
  assert.equal('logs' in (await tasker.getTask(burst, { projection: { data: 0, logs: 0 } })), false);
  await assert.rejects(tasker.getTask(burst, { projection: { status: 1, logs: 1 } }), rejectsWith('ERR_INVALID_QUERY', (error) => {
    assert.match(error.message, /projection\["logs"\]: logs appear only with withLogs: true/);
  }));
  await assert.rejects(tasker.findTasks({}, { withLogs: false, projection: { 'logs.message': 1 } }), rejectsWith('ERR_INVALID_QUERY'));
});

test('projected tasks are copies: mutating them changes nothing stored', T, async (t) => {
  const { tasker, photos, burst } = await setUp(t);
  const uuid = photos[2]!;
  const before = await tasker.getTask(uuid);

  const [included] = await tasker.findTasks<Photo, Photo>({ uuid }, { projection: { data: 1, 'result.tags': 1, createdAt: 1 } });
  included!.data!.tags.push('mutated');
  included!.data!.file = 'mutated';
  included!.result!.tags![0] = 'mutated';
  included!.createdAt!.setTime(0);
  const excluded = await tasker.getTask<Photo, Photo>(uuid, { projection: { 'data.big': 0 } });
  excluded.data!.tags.length = 0;
  (excluded.result as { extra?: boolean }).extra = true;
  excluded.endedAt!.setTime(0);

  assert.deepEqual(await tasker.getTask(uuid), before);

  const logsBefore = (await tasker.getTask(burst, { withLogs: true })).logs;
  const withLogs = await tasker.getTask(burst, { withLogs: true, projection: { 'logs.message': 1, 'logs.data': 1 } });
  (withLogs.logs![0]!.data as { i: number }).i = 99;
  withLogs.logs!.pop();
  const whole = await tasker.getTask(burst, { withLogs: true, projection: { status: 1 } });
  whole.logs![1]!.message = 'mutated';
  assert.deepEqual((await tasker.getTask(burst, { withLogs: true })).logs, logsBefore);
});

test('a projection copies only what it keeps: no structuredClone of left-out data, results or logs', T, async (t) => {
  const { tasker, photos, burst } = await setUp(t);
  /** The values structuredClone was called with during `read()`. */
  async function clonedDuring(read: () => Promise<unknown>): Promise<unknown[]> {
    const clone = t.mock.method(globalThis, 'structuredClone');
    try {
      await read();
      return clone.mock.calls.map((call) => call.arguments[0]);
    } finally {
      clone.mock.restore();
    }
  }
  const hasBig = (value: unknown): boolean => JSON.stringify(value)?.includes('x'.repeat(10_000)) ?? false;

  // (control) Without a projection each task is cloned whole, its big data and result with it.
  const whole = await clonedDuring(() => tasker.findTasks({ operation: 'echo' }));
  assert.ok(whole.filter(hasBig).length >= 5, 'the spy sees the whole clones');

  // Only strings and numbers kept: nothing to clone at all.
  assert.deepEqual(await clonedDuring(() => tasker.findTasks({}, { withLogs: true, projection: { uuid: 1, status: 1, 'data.n': 1, logs: 0 } })), []);
  // Excluded fields: the rest is copied (only id is an object to clone; Dates are rebuilt), never data or result.
  const excluding = await clonedDuring(() => tasker.findTasks({ operation: 'echo' }, { sort: { priority: 1 }, projection: { data: 0, result: 0 } }));
  assert.deepEqual(excluding, [0, 1, 2, 3, 4].map((n) => ({ n })));
  // Inclusion of small parts of big objects clones only those parts.
  const parts = await clonedDuring(() => tasker.getTask(photos[0]!, { projection: { 'data.tags': 1, 'result.file': 1 } }));
  assert.deepEqual(parts, [['a', 't0']]);
  // Logs left out are not copied; narrowed logs copy only the kept parts.
  assert.deepEqual(await clonedDuring(() => tasker.getTask(burst, { withLogs: true, projection: { status: 1, logs: 0 } })), []);
  assert.deepEqual(
    await clonedDuring(() => tasker.getTask(burst, { withLogs: true, projection: { 'logs.data': 1 } })),
    [0, 1, 2, 3, 4].map((i) => ({ i })),
  );
});

test('a malformed projection rejects with ERR_INVALID_QUERY naming the key, from every read method', T, async (t) => {
  const { tasker, photos } = await setUp(t);
  const cases: Array<[unknown, RegExp]> = [
    [null, /^projection must be a plain object/],
    [['status'], /^projection must be a plain object/],
    ['status', /^projection must be a plain object/],
    [{ status: 2 }, /^projection\["status"\] must be 1, 0, true or false, got 2/],
    [{ status: 'yes' }, /^projection\["status"\] must be 1, 0, true or false/],
    [{ status: 1, data: 0 }, /^projection mixes inclusion \(projection\["status"\]: 1\) and exclusion \(projection\["data"\]: 0\)/],
    [{ '': 1 }, /^projection\[""\]: the path is empty/],
    [{ 'data..file': 1 }, /^projection\["data\.\.file"\]: the path has an empty segment/],
    [{ 'data.$': 1 }, /^projection\["data\.\$"\]: projection operators/],
    [{ data: { $slice: 1 } }, /^projection\["data"\] must be 1, 0, true or false/],
    [{ data: 1, 'data.file': 1 }, /^projection\["data\.file"\] collides with projection\["data"\]/],
  ];
  for (const [projection, message] of cases) {
    const options = { projection } as never;
    const expected = rejectsWith('ERR_INVALID_QUERY', (error) => assert.match(error.message, message));
    await assert.rejects(tasker.findTasks({}, options), expected);
    await assert.rejects(tasker.findTask({}, options), expected);
    await assert.rejects(tasker.getTask(photos[0]!, options), expected);
    // Validated before the uuid is looked up.
    await assert.rejects(tasker.getTask('no-such-task', options), expected);
  }
  // An explicit undefined is no projection, as for the other read options.
  assert.deepEqual(await tasker.getTask(photos[0]!, { projection: undefined } as never), await tasker.getTask(photos[0]!));
});

test('types: a projected read is typed Partial<Task>, an unprojected one Task', T, async (t) => {
  const { tasker, photos } = await setUp(t);
  const whole: Task[] = await tasker.findTasks({}, { sort: { createdAt: 1 }, withLogs: true });
  const one: Task | undefined = await tasker.findTask({});
  const got: Task = await tasker.getTask(photos[0]!);
  const projected = await tasker.findTasks({}, { projection: { status: 1 } });
  // @ts-expect-error a projected task may lack any field
  const notWhole: Task[] = projected;
  // @ts-expect-error a projected task may lack any field
  const notWholeOne: Task = await tasker.getTask(photos[0]!, { projection: { status: 1 } });
  const partial: Partial<Task> | undefined = await tasker.findTask({}, { projection: { data: 0 } });
  assert.ok(whole.length > 0 && one !== undefined && got.uuid === photos[0] && notWhole.length > 0 && notWholeOne.status === 'done');
  assert.ok(partial !== undefined && projected.every((task) => task.status !== undefined));
});
