import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Tasker, type JsonValue, type Task } from 'tasker';
import { nextEvent, recordEvents } from '../helpers/events.js';
import { runner } from '../helpers/fixtures.js';
import { readStoreFiles, storeFiles, writeStoreFiles, type Json } from '../helpers/store-files.js';
import { createTasker, tempDir } from '../helpers/tasker.js';

const T = { timeout: 12_000 };
const TASKER_URL = new URL('../../dist/src/index.js', import.meta.url).href;

/** The task as stored on disk: snapshot + journals replayed independently of the store. */
function storedTask(dir: string, uuid: string): (Json & { status: string }) | undefined {
  return readStoreFiles(dir).tasks.get(uuid) as (Json & { status: string }) | undefined;
}

/** Data that trips naive stores: query operators, a `__proto__` key, dotted keys, the Date tag, unicode, nested Dates. */
function trickyData(): Record<string, JsonValue> {
  const data = JSON.parse('{"__proto__": {"polluted": "yes"}}') as Record<string, JsonValue>;
  assert.ok(Object.hasOwn(data, '__proto__'));
  Object.assign(data, {
    $where: 'this.secret === 1',
    $gt: 5,
    'dotted.key': { 'a.b.c': 1, 'x.': [1, 2] },
    $$date: 'not a date',
    $$$x: 'three dollars',
    unicode: 'héllo wörld — 日本語 🚀 \u2028\u2029 \u0000 end',
    nested: { when: new Date('2020-02-29T12:34:56.789Z'), list: [new Date(0), { deeper: new Date(1e12) }] },
    empty: {},
    arr: [],
    nul: null,
    num: -12.5,
    big: 1e308,
    bool: false,
  });
  return data;
}

function assertTrickyData(value: unknown, label: string): void {
  const data = value as Record<string, unknown>;
  assert.deepEqual(data, trickyData(), `${label}: equal to what was added`);
  assert.equal(Object.getPrototypeOf(data), Object.prototype, `${label}: prototype untouched`);
  assert.ok(Object.hasOwn(data, '__proto__'), `${label}: __proto__ kept as an own key`);
  assert.deepEqual(Object.getOwnPropertyDescriptor(data, '__proto__')?.value, { polluted: 'yes' });
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined, `${label}: Object.prototype not polluted`);
  const nested = data['nested'] as { when: unknown; list: [unknown, { deeper: unknown }] };
  assert.ok(nested.when instanceof Date, `${label}: nested Date is a Date`);
  assert.ok(nested.list[0] instanceof Date);
  assert.ok(nested.list[1].deeper instanceof Date);
  assert.equal(data['$$date'], 'not a date');
  assert.equal(data['$$$x'], 'three dollars');
}

function assertDates(task: Task): void {
  assert.ok(task.createdAt instanceof Date, 'createdAt is a Date');
  if (task.status !== 'new' && !(task.status === 'aborted' && task.startedAt === undefined)) {
    assert.ok(task.startedAt instanceof Date, 'startedAt is a Date');
  }
  if (task.status !== 'new') assert.ok(task.endedAt instanceof Date, 'endedAt is a Date');
  for (const log of task.logs ?? []) assert.ok(log.timestamp instanceof Date, 'log timestamp is a Date');
}

function newTasker(t: TestContext, dir: string, maxThreads = 2): Tasker {
  return createTasker(t, { persistDir: dir, maxThreads });
}

test('tasks of every status survive a restart: equal documents, Dates, ±Infinity priorities, odd keys, logs', T, async (t) => {
  const dir = await tempDir(t);
  const first = createTasker(t, { persistDir: dir, onMissingRunner: 'queue' });
  first.assignRunner('echo', runner('echo'));
  first.assignRunner('odd', runner('log-odd-data'));
  first.assignRunner('sum', runner('sum'));
  first.assignRunner('fail', runner('fail'));
  first.assignRunner('hang', runner('hang-until-abort'));
  await first.start();

  const done = await first.addTask({ operation: 'echo', id: { $in: ['x'], 'k.k': 'v' }, data: trickyData() });
  const logged = await first.addTask({ operation: 'odd' });
  const summed = await first.addTask({ operation: 'sum', data: [1, 2, 3] });
  const failed = await first.addTask({ operation: 'fail', data: { message: 'nope', code: 'E_NOPE' } });
  const hang = await first.addTask({ operation: 'hang', runTimeout: 60_000, abortGraceMs: 50 });
  const hangLogged = nextEvent(first, `task.${hang}.log`);
  await Promise.all([first.waitForTaskOutputData(done), first.waitForTaskOutputData(logged), first.waitForTaskOutputData(summed)]);
  await assert.rejects(first.waitForTaskOutputData(failed), { code: 'ERR_TASK_FAILED' });
  await hangLogged;
  await first.abortTask(hang, 'aborted while running');
  const abortedNew = await first.addTask({ operation: 'nobody', data: { why: 'aborted while new' } });
  await first.abortTask(abortedNew);
  const pInf = await first.addTask({ operation: 'later', id: 'inf', priority: Infinity, data: trickyData() });
  const pMinusInf = await first.addTask({ operation: 'later', id: '-inf', priority: -Infinity });
  const pZero = await first.addTask({ operation: 'later', id: 'zero' });
  const pFive = await first.addTask({ operation: 'later', id: 'five', priority: 5 });

  const all = [done, logged, summed, failed, hang, abortedNew, pInf, pMinusInf, pZero, pFive];
  const before = new Map<string, Task>();
  for (const uuid of all) before.set(uuid, await first.getTask(uuid, { withLogs: true }));
  assert.deepEqual(
    all.map((uuid) => before.get(uuid)!.status),
    ['done', 'done', 'done', 'failed', 'aborted', 'aborted', 'new', 'new', 'new', 'new'],
  );
  const orderBefore = (await first.findTasks()).map((task) => task.uuid);
  // close(), not stop(): a stopped tasker keeps the store's lock.
  await first.close();

  // The files themselves: ±Infinity are not turned into null.
  const stored = readStoreFiles(dir);
  assert.equal(stored.tasks.size, all.length);
  assert.notEqual(stored.tasks.get(pInf)?.['priority'], null);
  assert.notEqual(stored.tasks.get(pMinusInf)?.['priority'], null);
  assert.deepEqual(
    stored.logs.get(logged)?.map((log) => log['message']),
    ['function', 'map', 'instance', 'plain'],
    'the logs are on disk',
  );

  const second = newTasker(t, dir, 1);
  for (const uuid of all) {
    const after = await second.getTask(uuid, { withLogs: true });
    assert.deepEqual(after, before.get(uuid), `task ${before.get(uuid)!.status} ${uuid} is unchanged`);
    assertDates(after);
  }
  const doneTask = await second.getTask(done);
  assertTrickyData(doneTask.data, 'data');
  assertTrickyData(doneTask.result, 'result');
  assert.deepEqual(doneTask.id, { $in: ['x'], 'k.k': 'v' });
  assertTrickyData((await second.getTask(pInf)).data, 'new task data');
  const oddLogs = (await second.getTask(logged, { withLogs: true })).logs!;
  assert.deepEqual(oddLogs.map((log) => log.message), ['function', 'map', 'instance', 'plain']);
  assert.deepEqual(oddLogs[3]!.data, { ok: true, at: new Date(0) });
  assert.ok((oddLogs[3]!.data as { at: unknown }).at instanceof Date);
  const sumLogs = (await second.getTask(summed, { withLogs: true, logsMaxLevel: 'info' })).logs!;
  assert.deepEqual(sumLogs.map((log) => log.message), ['Sum']);
  assert.equal((await second.getTask(failed)).error !== undefined, true);
  assert.equal((await second.getTask(hang)).abortReason?.code, 'ERR_TASK_ABORT_REQUESTED');
  assert.equal((await second.getTask(abortedNew)).abortReason?.code, 'ERR_TASK_ABORT_REQUESTED');
  assert.equal((await second.getTask(pInf)).priority, Infinity);
  assert.equal((await second.getTask(pMinusInf)).priority, -Infinity);

  // ±Infinity still sort as the highest and the lowest priority (original bug 7).
  assert.deepEqual((await second.findTasks()).map((task) => task.uuid), orderBefore);
  assert.deepEqual((await second.findTasks({ status: 'new' })).map((task) => task.id), ['inf', 'five', 'zero', '-inf']);
  assert.deepEqual((await second.findTasks({ operation: 'later' }, { sort: { priority: 1 } })).map((task) => task.id), ['-inf', 'zero', 'five', 'inf']);
  assert.equal(await second.countTasks({ priority: Infinity }), 1);
  assert.equal(await second.countTasks({ priority: { $lt: -1e308 } }), 1);
  assert.equal(await second.countTasks({ 'data.$where': 'this.secret === 1' }), 2);

  // And they run in that order once a runner is assigned.
  const runs = recordEvents(second, ['task.run']);
  second.assignRunner('later', runner('echo'));
  await second.start();
  for (const uuid of [pInf, pFive, pZero, pMinusInf]) await second.waitForTaskOutputData(uuid);
  assert.deepEqual(runs, [['task.run', pInf], ['task.run', pFive], ['task.run', pZero], ['task.run', pMinusInf]]);
  assertTrickyData(await second.waitForTaskOutputData(pInf), 'result of a task run after the restart');
});

test('a task added while stopped runs after a restart once its runner is assigned', T, async (t) => {
  const dir = await tempDir(t);
  const first = createTasker(t, { persistDir: dir, onMissingRunner: 'queue' });
  const uuid = await first.addTask({ operation: 'echo', data: { greeting: 'hello', at: new Date(5) } });
  await first.close();
  assert.equal(storedTask(dir, uuid)?.status, 'new');

  const second = createTasker(t, { persistDir: dir, onMissingRunner: 'queue' });
  assert.equal((await second.getTask(uuid)).status, 'new');
  const ran = recordEvents(second, [`task.${uuid}.run`, `task.${uuid}.done`]);
  second.assignRunner('echo', runner('echo'));
  await second.start();
  assert.deepEqual(await second.waitForTaskOutputData(uuid), { greeting: 'hello', at: new Date(5) });
  assert.deepEqual(ran, [[`task.${uuid}.run`], [`task.${uuid}.done`, { greeting: 'hello', at: new Date(5) }]]);
  const task = await second.getTask(uuid);
  assert.equal(task.status, 'done');
  await second.stop();
  assert.equal(storedTask(dir, uuid)?.status, 'done');
});

test("a task left 'running' in the store is aborted with ERR_TASK_INTERRUPTED on restart, with events", T, async (t) => {
  const dir = await tempDir(t);
  const crashed = randomUUID();
  const queued = randomUUID();
  const createdAt = '2025-06-01T10:00:00.000Z';
  const startedAt = '2025-06-01T10:00:01.000Z';
  writeStoreFiles(
    dir,
    [
      { uuid: crashed, operation: 'sum', priority: 0, status: 'running', createdAt, startedAt, data: [1, 2] },
      { uuid: queued, operation: 'sum', priority: 0, status: 'new', createdAt, data: [3, 4] },
    ],
    { [crashed]: [{ level: 'info', message: 'before the crash', data: { at: { $$date: createdAt } }, timestamp: startedAt }] },
  );

  const tasker = newTasker(t, dir);
  const seen = recordEvents(tasker, [
    'task.run',
    'task.aborted',
    'task.ended',
    `task.${crashed}.aborted`,
    `task.${crashed}.ended`,
  ]);
  await assert.rejects(tasker.waitForTaskOutputData(crashed), { code: 'ERR_TASK_ABORTED' });
  const task = await tasker.getTask(crashed, { withLogs: true });
  assert.equal(task.status, 'aborted');
  assert.equal(task.abortReason?.name, 'AbortError');
  assert.equal(task.abortReason?.code, 'ERR_TASK_INTERRUPTED');
  assert.deepEqual(task.startedAt, new Date(startedAt));
  assert.ok(task.endedAt instanceof Date);
  assert.ok(task.endedAt.getTime() >= task.startedAt!.getTime());
  assert.deepEqual(task.logs, [
    { level: 'info', message: 'before the crash', data: { at: new Date(createdAt) }, timestamp: new Date(startedAt) },
  ]);
  const reason = task.abortReason!;
  assert.deepEqual(seen, [
    ['task.aborted', crashed, reason],
    [`task.${crashed}.aborted`, reason],
    ['task.ended', crashed, 'aborted', reason],
    [`task.${crashed}.ended`, 'aborted', reason],
  ]);
  assert.equal(storedTask(dir, crashed)?.status, 'aborted', 'the recovery is stored');

  // The new task was not touched and runs.
  assert.equal((await tasker.getTask(queued)).status, 'new');
  tasker.assignRunner('sum', runner('sum'));
  await tasker.start();
  assert.equal(await tasker.waitForTaskOutputData(queued), 7);
  assert.equal((await tasker.getTask(crashed)).status, 'aborted', 'an interrupted task is not resumed');
});

test('a process killed with SIGKILL while a task runs: after a restart the task is aborted ERR_TASK_INTERRUPTED', T, async (t) => {
  const dir = await tempDir(t);
  const script = `
    import { Tasker } from ${JSON.stringify(TASKER_URL)};
    const tasker = new Tasker({ persistDir: ${JSON.stringify(dir)}, maxThreads: 1 });
    tasker.assignRunner('hang', ${JSON.stringify(runner('hang-until-abort'))});
    tasker.on('task.log', (uuid) => process.stdout.write('running ' + uuid + '\\n'));
    await tasker.start();
    await tasker.addTask({ operation: 'hang', id: 'victim' });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = once(child, 'exit');
  let output = '';
  const uuid = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      const match = /running (\S+)\n/.exec(output);
      if (match !== null) resolve(match[1]!);
    });
    child.on('exit', (code, signal) => reject(new Error(`child exited early (${code}, ${signal}): ${output}`)));
  });
  child.kill('SIGKILL');
  const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  assert.equal(signal, 'SIGKILL');
  assert.equal(storedTask(dir, uuid)?.status, 'running', 'the crash left the task running on disk');
  assert.equal(
    (JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as { pid?: unknown }).pid,
    child.pid,
    'the crash left its lock behind (taken over below, its process being gone)',
  );

  const tasker = newTasker(t, dir);
  const seen = recordEvents(tasker, ['task.aborted', 'task.ended']);
  await assert.rejects(tasker.waitForTaskOutputData(uuid), { code: 'ERR_TASK_ABORTED' });
  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.equal(task.status, 'aborted');
  assert.equal(task.id, 'victim');
  assert.equal(task.abortReason?.code, 'ERR_TASK_INTERRUPTED');
  assert.deepEqual(task.logs?.map((log) => log.message), ['waiting for abort']);
  assert.deepEqual(seen, [
    ['task.aborted', uuid, task.abortReason],
    ['task.ended', uuid, 'aborted', task.abortReason],
  ]);
  await tasker.stop();
  assert.equal(storedTask(dir, uuid)?.status, 'aborted');
});

test('addTask, prioritizeTask and abortTask resolve only after the change is on disk', T, async (t) => {
  const dir = await tempDir(t);
  const tasker = createTasker(t, { persistDir: dir, onMissingRunner: 'queue' });
  await tasker.start();
  const uuids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const uuid = await tasker.addTask({ operation: 'nobody', id: `task-${i}`, data: { i, at: new Date(i) } });
    const stored = storedTask(dir, uuid);
    assert.equal(stored?.status, 'new', `task ${i} is on disk when addTask resolves`);
    assert.equal(stored?.['id'], `task-${i}`);
    assert.deepEqual(stored?.['data'], { i, at: { $$date: new Date(i).toISOString() } });
    uuids.push(uuid);
  }
  assert.equal(readStoreFiles(dir).tasks.size, 5);

  await tasker.prioritizeTask(uuids[0]!, -Infinity);
  assert.equal(Number(storedTask(dir, uuids[0]!)?.['priority']), -Infinity);
  await tasker.abortTask(uuids[1]!, 'gone');
  const aborted = storedTask(dir, uuids[1]!);
  assert.equal(aborted?.status, 'aborted');
  assert.equal((aborted?.['abortReason'] as { code?: string } | undefined)?.code, 'ERR_TASK_ABORT_REQUESTED');
});

test('the store files (snapshot, journals, lock) are written with mode 0o600, a created persistDir with 0o700', T, async (t) => {
  const root = await tempDir(t);
  const dir = join(root, 'nested', 'store');
  const tasker = newTasker(t, dir);
  tasker.assignRunner('sum', runner('sum'));
  await tasker.start();
  const first = await tasker.addTask({ operation: 'sum', data: [1] });
  const modes = (names: string[]): Record<string, number> => Object.fromEntries(names.map((name) => [name, statSync(join(dir, name)).mode & 0o777]));
  assert.deepEqual(modes(['journal-0.jsonl', 'lock']), { 'journal-0.jsonl': 0o600, lock: 0o600 });
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(root, 'nested')).mode & 0o777, 0o700);
  await tasker.waitForTaskOutputData(first);
  // stop() compacts: a snapshot, and a new journal.
  await tasker.stop();
  const afterStop = readdirSync(dir);
  assert.ok(afterStop.includes('snapshot.json'), `a snapshot was written (${afterStop.join(', ')})`);
  for (const [name, mode] of Object.entries(modes(afterStop))) assert.equal(mode, 0o600, `${name} is 0o600 after compaction`);
  await tasker.close();
  const files = readdirSync(dir).sort();
  assert.deepEqual(files, storeFiles(dir), 'no temporary files (nor the lock) are left behind');
  assert.ok(files.includes('snapshot.json'));
  const generation = (JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8').split('\n')[0]!) as { generation: number }).generation;
  const journals = files.filter((name) => name.startsWith('journal-')).map((name) => Number(/\d+/.exec(name)![0]));
  assert.ok(journals.every((g) => g >= generation), `no journal older than snapshot ${generation} is left (${files.join(', ')})`);
  for (const [name, mode] of Object.entries(modes(files))) assert.equal(mode, 0o600, `${name} is still 0o600 after close()`);
  assert.equal(storedTask(dir, first)?.status, 'done');
});

test('a corrupt store makes start, addTask and getTask reject with ERR_STORE_CORRUPT and is left untouched', T, async (t) => {
  const header = (fields: Json = {}): string => JSON.stringify({ format: 'tasker-snapshot', version: 1, generation: 0, ...fields });
  const task = (fields: Json = {}): Json => ({ uuid: randomUUID(), operation: 'o', status: 'new', priority: 0, createdAt: '2025-01-01T00:00:00.000Z', ...fields });
  const line = (value: unknown): string => JSON.stringify(value) + '\n';
  const snapshot = (...records: unknown[]): string => header() + '\n' + records.map(line).join('');
  /** Each case: the files written, and the file and line the error must name. */
  const corruptions: Record<string, { files: Record<string, string>; names: [string, number] }> = {
    'snapshot: not JSON': { files: { 'snapshot.json': '{"format": "tasker-snapshot", "version": 1, "gen' }, names: ['snapshot.json', 1] },
    'snapshot: empty file': { files: { 'snapshot.json': '' }, names: ['snapshot.json', 1] },
    'snapshot: another format': { files: { 'snapshot.json': line({ format: 'something-else', version: 1, generation: 0 }) }, names: ['snapshot.json', 1] },
    'snapshot: the old tasks.json format': {
      files: { 'snapshot.json': JSON.stringify({ format: 'tasker-store', version: 1, tasks: [] }) },
      names: ['snapshot.json', 1],
    },
    'snapshot: a future version': { files: { 'snapshot.json': header({ version: 99 }) + '\n' }, names: ['snapshot.json', 1] },
    'snapshot: a malformed task': { files: { 'snapshot.json': snapshot({ task: { uuid: 1, status: 'new' }, logs: [] }) }, names: ['snapshot.json', 2] },
    'snapshot: an unknown status': {
      files: { 'snapshot.json': snapshot({ task: task(), logs: [] }, { task: task({ status: 'paused' }), logs: [] }) },
      names: ['snapshot.json', 3],
    },
    'snapshot: malformed logs': { files: { 'snapshot.json': snapshot({ task: task(), logs: [{ level: 'info' }] }) }, names: ['snapshot.json', 2] },
    'snapshot: a cut-off last line': {
      files: { 'snapshot.json': snapshot({ task: task(), logs: [] }) + line({ task: task(), logs: [] }).slice(0, 30) },
      names: ['snapshot.json', 3],
    },
    'journal: garbage in the middle': {
      files: { 'journal-0.jsonl': line({ put: task() }) + 'garbage\n' + line({ put: task() }) },
      names: ['journal-0.jsonl', 2],
    },
    'journal: a JSON line that is not a change': {
      files: { 'journal-0.jsonl': line({ put: task() }) + line({ put: task() }) + line({ patch: task() }) + line({ put: task() }) },
      names: ['journal-0.jsonl', 3],
    },
    'journal: a put of a malformed task': {
      files: { 'journal-0.jsonl': line({ put: task({ status: 'paused' }) }) + line({ put: task() }) },
      names: ['journal-0.jsonl', 1],
    },
    'journal: a cut-off line that is not in the newest journal': {
      files: {
        'snapshot.json': snapshot({ task: task(), logs: [] }),
        'journal-0.jsonl': line({ put: task() }) + line({ put: task() }).slice(0, 20),
        'journal-1.jsonl': line({ put: task() }),
      },
      names: ['journal-0.jsonl', 2],
    },
  };
  for (const [label, { files, names }] of Object.entries(corruptions)) {
    const dir = await tempDir(t);
    const mtimes = new Map<string, number>();
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(join(dir, name), content, { mode: 0o600 });
      mtimes.set(name, statSync(join(dir, name)).mtimeMs);
    }
    const tasker = newTasker(t, dir);
    tasker.assignRunner('sum', runner('sum'));
    await assert.rejects(
      tasker.start(),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_STORE_CORRUPT');
        assert.ok(error.message.includes(join(dir, names[0])), `${label}: the message names the file: ${error.message}`);
        assert.ok(error.message.includes(`(line ${names[1]})`), `${label}: the message names line ${names[1]}: ${error.message}`);
        return true;
      },
      `${label}: start`,
    );
    await assert.rejects(tasker.addTask({ operation: 'sum', data: [1] }), { code: 'ERR_STORE_CORRUPT' }, `${label}: addTask`);
    await assert.rejects(tasker.getTask(randomUUID()), { code: 'ERR_STORE_CORRUPT' }, `${label}: getTask`);
    await assert.rejects(tasker.findTasks(), { code: 'ERR_STORE_CORRUPT' }, `${label}: findTasks`);
    await tasker.stop();
    // close() compacts a healthy store: it must not rewrite a corrupt one.
    await tasker.close();
    for (const [name, content] of Object.entries(files)) {
      assert.equal(readFileSync(join(dir, name), 'utf8'), content, `${label}: ${name} is left untouched`);
      assert.equal(statSync(join(dir, name)).mtimeMs, mtimes.get(name), `${label}: ${name} was not rewritten`);
    }
    assert.deepEqual(readdirSync(dir).sort(), Object.keys(files).sort(), `${label}: nothing else was written (and the lock was released)`);
  }
});

test('without persistDir nothing is written anywhere, and tasks still run in memory', T, async (t) => {
  const cwd = await tempDir(t, 'tasker-cwd-');
  const home = await tempDir(t, 'tasker-home-');
  const tmp = await tempDir(t, 'tasker-tmp-');
  await mkdir(join(home, '.cache'));
  const script = `
    import { Tasker } from ${JSON.stringify(TASKER_URL)};
    const tasker = new Tasker({ maxThreads: 1 });
    tasker.assignRunner('sum', ${JSON.stringify(runner('sum'))});
    await tasker.start();
    const uuid = await tasker.addTask({ operation: 'sum', data: [1, 2, 3] });
    const result = await tasker.waitForTaskOutputData(uuid);
    const task = await tasker.getTask(uuid, { withLogs: true });
    await tasker.stop();
    process.stdout.write(JSON.stringify({ result, status: task.status, logs: task.logs.map((l) => l.message) }));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd,
    env: { ...process.env, HOME: home, TMPDIR: tmp, TMP: tmp, TEMP: tmp, XDG_CACHE_HOME: join(home, '.cache') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (output += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(output), { result: 6, status: 'done', logs: ['Sum', 'Ended'] });
  assert.deepEqual(readdirSync(cwd), [], 'nothing in the working directory');
  assert.deepEqual(readdirSync(tmp), [], 'nothing in the temporary directory');
  assert.deepEqual(readdirSync(home), ['.cache'], 'nothing in the home directory');
  assert.deepEqual(readdirSync(join(home, '.cache')), []);

  // In this process too: an in-memory tasker runs tasks and keeps them while it lives.
  const tasker = createTasker(t);
  tasker.assignRunner('sum', runner('sum'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'sum', data: [2, 2] });
  assert.equal(await tasker.waitForTaskOutputData(uuid), 4);
  assert.equal((await tasker.getTask(uuid)).status, 'done');
});
