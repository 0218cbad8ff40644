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
import { createTasker, tempDir } from '../helpers/tasker.js';

const T = { timeout: 12_000 };
const TASKER_URL = new URL('../../dist/src/index.js', import.meta.url).href;

interface StoreFile {
  format: string;
  version: number;
  tasks: Array<Record<string, unknown> & { uuid: string; status: string }>;
}

function readStore(dir: string): StoreFile {
  return JSON.parse(readFileSync(join(dir, 'tasks.json'), 'utf8')) as StoreFile;
}

function storedTask(dir: string, uuid: string): (Record<string, unknown> & { status: string }) | undefined {
  return readStore(dir).tasks.find((task) => task.uuid === uuid);
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
  const first = newTasker(t, dir);
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
  await first.stop();

  // The file itself: ±Infinity are not turned into null.
  const file = readStore(dir);
  assert.equal(file.tasks.length, all.length);
  assert.notEqual(file.tasks.find((task) => task.uuid === pInf)?.['priority'], null);
  assert.notEqual(file.tasks.find((task) => task.uuid === pMinusInf)?.['priority'], null);

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
  const first = newTasker(t, dir);
  const uuid = await first.addTask({ operation: 'echo', data: { greeting: 'hello', at: new Date(5) } });
  await first.stop();
  assert.equal(storedTask(dir, uuid)?.status, 'new');

  const second = newTasker(t, dir);
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

test("a task left 'running' in tasks.json is aborted with ERR_TASK_INTERRUPTED on restart, with events", T, async (t) => {
  const dir = await tempDir(t);
  const crashed = randomUUID();
  const queued = randomUUID();
  const createdAt = '2025-06-01T10:00:00.000Z';
  const startedAt = '2025-06-01T10:00:01.000Z';
  const store: StoreFile = {
    format: 'tasker-store',
    version: 1,
    tasks: [
      {
        uuid: crashed,
        operation: 'sum',
        priority: 0,
        status: 'running',
        createdAt,
        startedAt,
        data: [1, 2],
        logs: [{ level: 'info', message: 'before the crash', data: { at: { $$date: createdAt } }, timestamp: startedAt }],
      },
      { uuid: queued, operation: 'sum', priority: 0, status: 'new', createdAt, data: [3, 4] },
    ],
  };
  writeFileSync(join(dir, 'tasks.json'), JSON.stringify(store), { mode: 0o600 });

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

test('addTask, prioritizeTask and abortTask resolve only after the change is in tasks.json', T, async (t) => {
  const dir = await tempDir(t);
  const tasker = newTasker(t, dir);
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
  assert.equal(readStore(dir).tasks.length, 5);

  await tasker.prioritizeTask(uuids[0]!, -Infinity);
  assert.equal(Number(storedTask(dir, uuids[0]!)?.['priority']), -Infinity);
  await tasker.abortTask(uuids[1]!, 'gone');
  const aborted = storedTask(dir, uuids[1]!);
  assert.equal(aborted?.status, 'aborted');
  assert.equal((aborted?.['abortReason'] as { code?: string } | undefined)?.code, 'ERR_TASK_ABORT_REQUESTED');
});

test('tasks.json is written with mode 0o600 (and a created persistDir with 0o700)', T, async (t) => {
  const root = await tempDir(t);
  const dir = join(root, 'nested', 'store');
  const tasker = newTasker(t, dir);
  tasker.assignRunner('sum', runner('sum'));
  await tasker.start();
  const first = await tasker.addTask({ operation: 'sum', data: [1] });
  assert.equal(statSync(join(dir, 'tasks.json')).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  await tasker.waitForTaskOutputData(first);
  await tasker.stop();
  assert.equal(statSync(join(dir, 'tasks.json')).mode & 0o777, 0o600, 'still 0o600 after rewrites');
  assert.deepEqual(readdirSync(dir), ['tasks.json'], 'no temporary files are left behind');
});

test('a corrupt tasks.json makes start, addTask and getTask reject with ERR_STORE_CORRUPT and is left untouched', T, async (t) => {
  const corruptions: Record<string, string> = {
    'not JSON': '{"format": "tasker-store", "version": 1, "tasks": [',
    'empty file': '',
    'another format': JSON.stringify({ format: 'something-else', version: 1, tasks: [] }),
    'a future version': JSON.stringify({ format: 'tasker-store', version: 99, tasks: [] }),
    'a malformed task': JSON.stringify({ format: 'tasker-store', version: 1, tasks: [{ uuid: 1, status: 'new' }] }),
    'an unknown status': JSON.stringify({
      format: 'tasker-store',
      version: 1,
      tasks: [{ uuid: 'u', operation: 'o', status: 'paused', priority: 0, createdAt: '2025-01-01T00:00:00.000Z' }],
    }),
  };
  for (const [label, content] of Object.entries(corruptions)) {
    const dir = await tempDir(t);
    const file = join(dir, 'tasks.json');
    writeFileSync(file, content, { mode: 0o600 });
    const mtime = statSync(file).mtimeMs;
    const tasker = newTasker(t, dir);
    tasker.assignRunner('sum', runner('sum'));
    await assert.rejects(tasker.start(), { code: 'ERR_STORE_CORRUPT' }, `${label}: start`);
    await assert.rejects(tasker.addTask({ operation: 'sum', data: [1] }), { code: 'ERR_STORE_CORRUPT' }, `${label}: addTask`);
    await assert.rejects(tasker.getTask(randomUUID()), { code: 'ERR_STORE_CORRUPT' }, `${label}: getTask`);
    await assert.rejects(tasker.findTasks(), { code: 'ERR_STORE_CORRUPT' }, `${label}: findTasks`);
    await tasker.stop();
    assert.equal(readFileSync(file, 'utf8'), content, `${label}: the file is left untouched`);
    assert.equal(statSync(file).mtimeMs, mtime, `${label}: the file was not rewritten`);
    assert.deepEqual(readdirSync(dir), ['tasks.json'], `${label}: nothing else was written`);
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
