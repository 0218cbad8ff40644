import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TaskerError, type JsonValue, type LogEntry, type StoredTask, type TaskDoc } from 'tasker';
import { JsonFileStore, STORE_FILE } from '../../dist/src/store/json-file-store.js';
import { tempDir } from '../helpers/tasker.js';

const BIG = 'x'.repeat(2 * 1024 * 1024 - 3) + '€'; // > 2 MB of UTF-8

/** Task `data` with every awkward key: own __proto__, $-operators, tags, dots, unicode. */
function awkwardData(): Record<string, unknown> {
  const data = JSON.parse(
    '{"__proto__": {"polluted": true}, "$where": "this.a", "$$date": 5, "$$$x": "three", "a.b.c": "dotted", ' +
      '"unicodé ключ 鍵": "värde 🎉", "nested": {"$in": [1, 2], "__proto__": [1], "$$date": "2020-01-01T00:00:00.000Z"}}',
  ) as Record<string, unknown>;
  data['when'] = new Date('2024-02-29T10:00:00.000Z');
  data['dates'] = [new Date(0), { deep: new Date('1999-12-31T23:59:59.999Z') }];
  data['big'] = BIG;
  return data;
}

function tasks(): { fresh: TaskDoc; done: TaskDoc; failed: TaskDoc; aborted: TaskDoc } {
  const createdAt = new Date('2025-01-02T03:04:05.006Z');
  return {
    fresh: {
      uuid: '01900000-0000-7000-8000-000000000001',
      operation: 'convert',
      priority: Infinity,
      status: 'new',
      createdAt,
      id: { tenant: 'tenant-ü', at: new Date('2025-01-01T00:00:00.000Z') },
      data: awkwardData() as JsonValue,
      concurrency: [
        { scope: 'running', query: { 'data.book': 'b', createdAt: { $gt: new Date(0) } }, limit: 1 },
        { scope: 'before-queued', query: { 'data.book': 'b', operation: 'write' }, limit: 2 },
      ],
      runTimeout: 5000,
      abortGraceMs: 0,
    },
    done: {
      uuid: '01900000-0000-7000-8000-000000000002',
      operation: 'sum',
      priority: -Infinity,
      status: 'done',
      createdAt,
      startedAt: new Date('2025-01-02T03:04:06.000Z'),
      endedAt: new Date('2025-01-02T03:04:07.000Z'),
      data: [1, 2],
      result: { total: 3, at: new Date('2025-01-02T03:04:07.000Z'), $$date: 'not a date' },
    },
    failed: {
      uuid: '01900000-0000-7000-8000-000000000003',
      operation: 'fail',
      priority: 0,
      status: 'failed',
      createdAt,
      error: { name: 'Error', message: 'runner failed ✗', code: 'E_RUNNER', stack: 'Error: runner failed\n    at x', detail: { attempt: 1 } },
      logsDropped: 3,
    },
    aborted: {
      uuid: '01900000-0000-7000-8000-000000000004',
      operation: 'hang',
      priority: -1.5,
      status: 'aborted',
      createdAt,
      abortReason: { name: 'AbortError', message: 'The task was aborted', code: 'ERR_TASK_ABORT_REQUESTED' },
      terminated: true,
    },
  };
}

const logs1: LogEntry[] = [
  { level: 'info', message: 'Started ▶', timestamp: new Date('2025-01-02T03:04:06.100Z') },
  { level: 'debug', message: 'data', data: { at: new Date(5), $$date: 1, list: [null, 'ü'] }, timestamp: new Date('2025-01-02T03:04:06.200Z') },
];
const logs2: LogEntry[] = [{ level: 'error', message: 'second batch', data: 'text', timestamp: new Date('2025-01-02T03:04:06.300Z') }];

function byUuid(loaded: StoredTask[]): Map<string, StoredTask> {
  return new Map(loaded.map((s) => [s.task.uuid, s]));
}

/** Asserts `promise` rejects with ERR_STORE_CORRUPT naming `file`. */
async function rejectsCorrupt(promise: Promise<unknown>, file: string, detail?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TaskerError, `expected a TaskerError, got ${String(error)}`);
    assert.equal(error.code, 'ERR_STORE_CORRUPT');
    assert.ok(error.message.includes(file), `"${error.message}" names ${file}`);
    if (detail !== undefined) assert.match(error.message, detail);
    return true;
  });
}

describe('JsonFileStore load', () => {
  test('a missing file loads as no tasks, creating the directory but no file', async (t) => {
    const dir = join(await tempDir(t), 'not', 'yet');
    const store = new JsonFileStore(dir);
    assert.deepEqual(await store.load(), []);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.deepEqual(await readdir(dir), []);
    await store.close();
  });
});

describe('JsonFileStore round trip', () => {
  test('put/logs/remove changes are read back by a new store instance, Dates and all', async (t) => {
    const dir = await tempDir(t);
    const { fresh, done, failed, aborted } = tasks();
    const store = new JsonFileStore(dir);
    assert.deepEqual(await store.load(), []);
    await store.commit([
      { type: 'put', task: fresh },
      { type: 'put', task: done },
      { type: 'logs', uuid: fresh.uuid, entries: logs1 },
      { type: 'put', task: aborted },
      { type: 'logs', uuid: aborted.uuid, entries: logs2 },
    ]);
    const updatedDone: TaskDoc = { ...done, priority: 12 };
    await store.commit([
      { type: 'put', task: failed },
      { type: 'logs', uuid: fresh.uuid, entries: logs2 },
      { type: 'remove', uuid: aborted.uuid },
      { type: 'put', task: updatedDone },
    ]);
    await store.close();

    const loaded = await new JsonFileStore(dir).load();
    assert.deepEqual(loaded.map((s) => s.task.uuid), [fresh.uuid, done.uuid, failed.uuid], 'file order is first-put order');
    const map = byUuid(loaded);
    assert.deepEqual(map.get(fresh.uuid), { task: fresh, logs: [...logs1, ...logs2] });
    assert.deepEqual(map.get(done.uuid), { task: updatedDone, logs: [] });
    assert.deepEqual(map.get(failed.uuid), { task: failed, logs: [] });
    assert.equal(map.has(aborted.uuid), false, 'removed with its logs');

    const back = map.get(fresh.uuid)!.task;
    assert.equal(back.priority, Infinity);
    assert.ok(back.createdAt instanceof Date);
    const data = back.data as Record<string, unknown>;
    assert.ok(data['when'] instanceof Date);
    assert.equal((data['when'] as Date).toISOString(), '2024-02-29T10:00:00.000Z');
    assert.ok(((data['dates'] as unknown[])[1] as { deep: unknown }).deep instanceof Date);
    assert.equal(data['$$date'], 5);
    assert.equal(data['$$$x'], 'three');
    assert.equal(data['$where'], 'this.a');
    assert.equal(data['a.b.c'], 'dotted');
    assert.equal(data['unicodé ключ 鍵'], 'värde 🎉');
    assert.equal((data['nested'] as Record<string, unknown>)['$$date'], '2020-01-01T00:00:00.000Z');
    assert.equal((data['big'] as string).length, BIG.length);
    assert.equal(data['big'], BIG);
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
    assert.equal(Object.hasOwn(data, '__proto__'), true);
    assert.deepEqual(Object.getOwnPropertyDescriptor(data, '__proto__')!.value, { polluted: true });
    assert.equal(data['polluted'], undefined);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype is not polluted');
    const condition = back.concurrency![0]!;
    assert.ok((condition.query['createdAt'] as { $gt: unknown }).$gt instanceof Date);
    assert.equal(map.get(done.uuid)!.task.startedAt instanceof Date, true);
    assert.equal(map.get(done.uuid)!.task.priority, 12);
    assert.ok(map.get(fresh.uuid)!.logs[1]!.timestamp instanceof Date);
    assert.ok((map.get(fresh.uuid)!.logs[1]!.data as { at: unknown }).at instanceof Date);
  });

  test('-Infinity priorities and every status survive; the file is plain, greppable JSON', async (t) => {
    const dir = await tempDir(t);
    const { fresh, done } = tasks();
    const store = new JsonFileStore(dir);
    await store.load();
    await store.commit([{ type: 'put', task: fresh }, { type: 'put', task: done }]);
    const raw = JSON.parse(await readFile(join(dir, STORE_FILE), 'utf8')) as { format: string; version: number; tasks: Array<Record<string, unknown>> };
    assert.equal(raw.format, 'tasker-store');
    assert.equal(raw.version, 1);
    assert.equal(raw.tasks[0]!['priority'], 'Infinity');
    assert.equal(raw.tasks[1]!['priority'], '-Infinity');
    assert.equal(raw.tasks[0]!['createdAt'], '2025-01-02T03:04:05.006Z');
    assert.deepEqual((raw.tasks[0]!['data'] as Record<string, unknown>)['when'], { $$date: '2024-02-29T10:00:00.000Z' });
    assert.equal((raw.tasks[0]!['data'] as Record<string, unknown>)['$$$date'], 5, 'user $$ keys are escaped on disk');
    const loaded = byUuid(await new JsonFileStore(dir).load());
    assert.equal(loaded.get(done.uuid)!.task.priority, -Infinity);
    assert.equal(loaded.get(fresh.uuid)!.task.priority, Infinity);
  });

  test('a store that loaded an existing file keeps its tasks and logs when it commits more', async (t) => {
    const dir = await tempDir(t);
    const { fresh, done, failed } = tasks();
    const first = new JsonFileStore(dir);
    await first.load();
    await first.commit([{ type: 'put', task: fresh }, { type: 'logs', uuid: fresh.uuid, entries: logs1 }, { type: 'put', task: done }]);

    const second = new JsonFileStore(dir);
    assert.equal((await second.load()).length, 2);
    await second.commit([{ type: 'put', task: failed }, { type: 'logs', uuid: fresh.uuid, entries: logs2 }, { type: 'remove', uuid: done.uuid }]);

    const third = byUuid(await new JsonFileStore(dir).load());
    assert.deepEqual([...third.keys()], [fresh.uuid, failed.uuid]);
    assert.deepEqual(third.get(fresh.uuid), { task: fresh, logs: [...logs1, ...logs2] });
  });

  test('tasks.json is written with mode 0o600 and no temp file is left behind', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, STORE_FILE);
    const store = new JsonFileStore(dir);
    await store.load();
    await store.commit([{ type: 'put', task: tasks().failed }]);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    await store.commit([{ type: 'remove', uuid: tasks().failed.uuid }]);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), [STORE_FILE]);
    assert.deepEqual(await new JsonFileStore(dir).load(), []);
  });
});

describe('JsonFileStore refuses corrupt files and leaves them untouched', () => {
  const header = { format: 'tasker-store', version: 1 };
  const okTask = { uuid: 'u1', operation: 'op', status: 'new', priority: 0, createdAt: '2025-01-01T00:00:00.000Z' };
  const cases: Array<[name: string, content: string, detail?: RegExp]> = [
    ['garbage', 'this is not json {', /not valid JSON/],
    ['an empty file', '', /not valid JSON/],
    ['a truncated file', JSON.stringify({ ...header, tasks: [okTask] }).slice(0, 40), /not valid JSON/],
    ['JSON null', 'null', /not a Tasker store file/],
    ['a JSON array', '[]', /not a Tasker store file/],
    ['a JSON string', '"tasks"', /not a Tasker store file/],
    ['a wrong format', JSON.stringify({ format: 'other-store', version: 1, tasks: [] }), /not a Tasker store file/],
    ['no format', JSON.stringify({ version: 1, tasks: [] }), /not a Tasker store file/],
    ['tasks not an array', JSON.stringify({ ...header, tasks: {} }), /not a Tasker store file/],
    ['a wrong version', JSON.stringify({ format: 'tasker-store', version: 2, tasks: [] }), /version 2/],
    ['no version', JSON.stringify({ format: 'tasker-store', tasks: [] }), /version undefined/],
    ['a null task', JSON.stringify({ ...header, tasks: [okTask, null] }), /tasks\[1\]/],
    ['a task without uuid', JSON.stringify({ ...header, tasks: [{ ...okTask, uuid: undefined }] }), /tasks\[0\]/],
    ['a numeric uuid', JSON.stringify({ ...header, tasks: [{ ...okTask, uuid: 7 }] }), /tasks\[0\]/],
    ['a task without operation', JSON.stringify({ ...header, tasks: [{ ...okTask, operation: undefined }] }), /tasks\[0\]/],
    ['an unknown status', JSON.stringify({ ...header, tasks: [{ ...okTask, status: 'paused' }] }), /tasks\[0\]/],
    ['logs that are not an array', JSON.stringify({ ...header, tasks: [{ ...okTask, logs: 'x' }] }), /tasks\[0\]/],
    ['a task that is an array', JSON.stringify({ ...header, tasks: [[1]] }), /tasks\[0\]/],
  ];

  for (const [name, content, detail] of cases) {
    test(name, async (t) => {
      const dir = await tempDir(t);
      const file = join(dir, STORE_FILE);
      await writeFile(file, content, { mode: 0o600 });
      const before = await readFile(file);
      await rejectsCorrupt(new JsonFileStore(dir).load(), file, detail);
      assert.deepEqual(await readFile(file), before, 'the file is untouched');
      assert.deepEqual(await readdir(dir), [STORE_FILE]);
    });
  }

  test('a status named after an Object.prototype member is refused', async (t) => {
    for (const status of ['constructor', 'toString', '__proto__']) {
      const dir = await tempDir(t);
      const file = join(dir, STORE_FILE);
      await writeFile(file, JSON.stringify({ ...header, tasks: [{ ...okTask, status }] }));
      await rejectsCorrupt(new JsonFileStore(dir).load(), file, /tasks\[0\]/);
    }
  });

  test('a task with a null log entry is refused as corrupt, not with a TypeError', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, STORE_FILE);
    await writeFile(file, JSON.stringify({ ...header, tasks: [{ ...okTask, logs: [null] }] }));
    const before = await readFile(file);
    await rejectsCorrupt(new JsonFileStore(dir).load(), file);
    assert.deepEqual(await readFile(file), before);
  });

  test('a valid hand-written file loads', async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, STORE_FILE), JSON.stringify({ ...header, tasks: [{ ...okTask, logs: [] }] }));
    const loaded = await new JsonFileStore(dir).load();
    assert.equal(loaded.length, 1);
    assert.equal(loaded[0]!.task.uuid, 'u1');
    assert.ok(loaded[0]!.task.createdAt instanceof Date);
    assert.deepEqual(loaded[0]!.logs, []);
  });
});
