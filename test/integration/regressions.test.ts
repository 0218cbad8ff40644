/**
 * One regression test per bug of the original Tasker (docs/original-tasker.md
 * §8, bugs 1–14), showing that ours does not have it. Named 'bug N: …'.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ErrorCodes, AbortCodes, Tasker, type LogEntry, type TaskStore } from 'tasker';
import { nextEvent, recordEvents } from '../helpers/events.js';
import { runner } from '../helpers/fixtures.js';
import { createTasker, tempDir } from '../helpers/tasker.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const END_EVENTS = ['task.run', 'task.done', 'task.failed', 'task.aborted', 'task.ended'] as const;

type Coded = { code?: string; cause?: { code?: string; message?: string } };

/** Resolves with the uuid and entry of the next log entry of any task. */
function nextLog(tasker: Tasker): Promise<[string, LogEntry]> {
  return nextEvent(tasker, 'task.log');
}

async function drain<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Collects unhandled rejections while the test runs. */
function watchUnhandled(t: TestContext): unknown[] {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void seen.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.after(() => void process.off('unhandledRejection', onUnhandled));
  return seen;
}

/** Lets pending promise jobs and one macrotask turn run, so that unhandled rejections get reported. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

test('bug 1: aborting a new task ends it: waiters reject ERR_TASK_ABORTED, log streams end, task.aborted and task.ended are emitted', async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('echo', runner('echo'));
  const uuid = await tasker.addTask({ operation: 'echo', data: 1 }); // stopped: stays new
  const events = recordEvents(tasker, ['task.aborted', 'task.ended', `task.${uuid}.ended`]);
  const waiting = tasker.waitForTaskOutputData(uuid);
  const stream = drain(tasker.listenTaskLogs(uuid));
  await tasker.abortTask(uuid, 'no longer needed');
  await assert.rejects(waiting, (error: Coded) => {
    assert.equal(error.code, ErrorCodes.TASK_ABORTED);
    assert.equal(error.cause?.code, AbortCodes.REQUESTED);
    assert.equal(error.cause?.message, 'no longer needed');
    return true;
  });
  assert.deepEqual(await stream, []);
  assert.deepEqual(events.map(([name, first, second]) => [name, first, name === 'task.aborted' ? 'reason' : second]), [
    ['task.aborted', uuid, 'reason'],
    ['task.ended', uuid, 'aborted'],
    [`task.${uuid}.ended`, 'aborted', events[2]![2]],
  ]);
  assert.equal((events[0]![2] as { code?: string }).code, AbortCodes.REQUESTED);
  assert.equal((events[2]![2] as { code?: string }).code, AbortCodes.REQUESTED);
  // A wait started after the end settles at once too.
  await assert.rejects(tasker.waitForTaskOutputData(uuid), { code: ErrorCodes.TASK_ABORTED });
  assert.deepEqual(await drain(tasker.listenTaskLogs(uuid)), []);
});

test('bug 2: abortTask right after addTask never yields a task both done and aborted; an aborted new task never runs', async (t) => {
  const tasker = createTasker(t, { maxThreads: 2 });
  tasker.assignRunner('echo', runner('echo'));
  const events = recordEvents(tasker, END_EVENTS);
  await tasker.start();
  const uuids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const uuid = await tasker.addTask({ operation: 'echo', data: i });
    await tasker.abortTask(uuid);
    uuids.push(uuid);
  }
  for (const uuid of uuids) {
    const task = await tasker.getTask(uuid);
    const mine = events.filter(([, id]) => id === uuid).map(([name]) => name);
    const ends = events.filter(([name, id]) => name === 'task.ended' && id === uuid);
    assert.equal(ends.length, 1, 'exactly one task.ended');
    assert.equal(ends[0]![2], task.status, 'task.ended carries the stored status');
    if (task.status === 'aborted') {
      assert.equal('result' in task, false, 'an aborted task has no result');
      assert.equal(task.abortReason?.code, AbortCodes.REQUESTED);
      assert.equal(mine.includes('task.done'), false);
    } else {
      assert.equal(task.status, 'done');
      assert.equal('abortReason' in task, false, 'a done task has no abortReason');
      assert.equal(mine.includes('task.aborted'), false);
    }
  }

  // The other direction: a task aborted while new is never flipped back to running.
  const tasker1 = createTasker(t, { maxThreads: 1 });
  tasker1.assignRunner('echo', runner('echo'));
  tasker1.assignRunner('hold', runner('hang-until-abort'));
  const runs = recordEvents(tasker1, ['task.run']);
  await tasker1.start();
  const holding = nextLog(tasker1);
  const hold = await tasker1.addTask({ operation: 'hold' });
  await holding;
  const victim = await tasker1.addTask({ operation: 'echo', data: 'victim' });
  const next = await tasker1.addTask({ operation: 'echo', data: 'next' });
  await tasker1.abortTask(victim);
  await tasker1.abortTask(hold); // frees the only thread
  assert.equal(await tasker1.waitForTaskOutputData(next), 'next');
  const aborted = await tasker1.getTask(victim);
  assert.equal(aborted.status, 'aborted');
  assert.equal(aborted.startedAt, undefined);
  assert.deepEqual(runs.map(([, uuid]) => uuid), [hold, next]);
});

test('bug 3: a concurrency condition that throws fails its task with ERR_CONDITION_FAILED and does not deadlock the scheduler', async (t) => {
  const tasker = createTasker(t, { maxThreads: 2 });
  tasker.assignRunner('echo', runner('echo'));
  tasker.assignRunner('hold', runner('hang-until-abort'));
  await tasker.start();
  const holding = nextLog(tasker);
  const hold = await tasker.addTask({ operation: 'hold', data: { book: 'b1' } });
  await holding;
  // Evaluated against the running 'hold' task, `$type: 'no-such-type'` throws.
  const bad = await tasker.addTask({
    operation: 'echo',
    concurrency: [{ scope: 'running', query: { 'data.book': { $type: 'no-such-type' } }, limit: 1 }],
  });
  await assert.rejects(tasker.waitForTaskOutputData(bad), (error: Coded) => {
    assert.equal(error.code, ErrorCodes.TASK_FAILED);
    assert.equal(error.cause?.code, ErrorCodes.CONDITION_FAILED);
    return true;
  });
  const good = await tasker.addTask({ operation: 'echo', data: 'still scheduling' });
  assert.equal(await tasker.waitForTaskOutputData(good), 'still scheduling');
  await tasker.abortTask(hold);
  const later = await tasker.addTask({ operation: 'echo', data: 'and later' });
  assert.equal(await tasker.waitForTaskOutputData(later), 'and later');
});

test('bug 4: findTasks and findTask with withLogs return the task logs, filtered by logsMaxLevel', async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('sum', runner('sum'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'sum', data: [5, 4] });
  assert.equal(await tasker.waitForTaskOutputData(uuid), 9);
  const [found] = await tasker.findTasks({ uuid }, { withLogs: true });
  assert.deepEqual(found?.logs?.map((log) => [log.level, log.message]), [['info', 'Sum'], ['debug', 'Ended']]);
  const one = await tasker.findTask({ operation: 'sum' }, { withLogs: true, logsMaxLevel: 'info' });
  assert.deepEqual(one?.logs?.map((log) => log.message), ['Sum']);
  assert.deepEqual((one?.logs?.[0]?.data as { data?: unknown }).data, [5, 4]);
  assert.equal('logs' in (await tasker.findTasks({ uuid }))[0]!, false, 'no logs unless asked');
});

test('bug 5: log streams lose nothing for a slow consumer, never hang on an ended task, honour an already-aborted signal, and yield no trailing undefined', async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('burst', runner('log-burst'));
  tasker.assignRunner('hold', runner('hang-until-abort'));
  const uuid = await tasker.addTask({ operation: 'burst', data: { count: 100 } });
  const stream = tasker.listenTaskLogs(uuid); // live only, taken before the task runs
  await tasker.start();
  assert.equal(await tasker.waitForTaskOutputData(uuid), 100);
  // The consumer starts only now, after the task ended: the slowest consumer possible.
  const entries = await drain(stream);
  assert.equal(entries.length, 100);
  assert.deepEqual(entries.map((entry) => entry.message), Array.from({ length: 100 }, (_, i) => `line ${i}`));
  assert.ok(entries.every((entry) => typeof entry === 'object' && entry !== null));

  // Taken while the task runs, iterated after it ended: yields the history and ends.
  const logged = nextLog(tasker);
  const held = await tasker.addTask({ operation: 'hold' });
  await logged;
  const late = tasker.listenTaskLogs(held, { fromBeginning: true });
  await tasker.abortTask(held);
  assert.deepEqual((await drain(late)).map((entry) => entry.message), ['waiting for abort']);
  assert.equal((await drain(tasker.listenTaskLogs(held))).length, 0, 'live stream on an ended task ends at once');

  // An already-aborted signal ends the stream at once, even on a running task.
  const logged2 = nextLog(tasker);
  const running = await tasker.addTask({ operation: 'hold' });
  await logged2;
  assert.deepEqual(await drain(tasker.listenTaskLogs(running, { fromBeginning: true, abortSignal: AbortSignal.abort() })), []);
  assert.equal((await tasker.getTask(running)).status, 'running');
  await tasker.abortTask(running);
});

test('bug 6: a runner that resolves after an abort ends aborted (not done); a runner that never settles is terminated on runTimeout', async (t) => {
  const tasker = createTasker(t, { maxThreads: 1, abortGraceMs: 100 });
  tasker.assignRunner('stubborn', runner('resolve-after-abort'));
  tasker.assignRunner('ignore', runner('ignore-abort'));
  tasker.assignRunner('echo', runner('echo'));
  const events = recordEvents(tasker, ['task.done', 'task.aborted']);
  await tasker.start();

  const logged = nextLog(tasker);
  const stubborn = await tasker.addTask({ operation: 'stubborn' });
  await logged;
  await tasker.abortTask(stubborn, 'stop it');
  const a = await tasker.getTask(stubborn);
  assert.equal(a.status, 'aborted');
  assert.equal('result' in a, false);
  assert.equal(a.abortReason?.code, AbortCodes.REQUESTED);
  assert.equal(a.terminated, undefined, 'it settled within the grace period');
  assert.deepEqual(events.map(([name, uuid]) => [name, uuid]), [['task.aborted', stubborn]]);

  const stuck = await tasker.addTask({ operation: 'ignore', runTimeout: 50 });
  await assert.rejects(tasker.waitForTaskOutputData(stuck), (error: Coded) => {
    assert.equal(error.code, ErrorCodes.TASK_ABORTED);
    assert.equal(error.cause?.code, AbortCodes.RUN_TIMEOUT);
    return true;
  });
  const s = await tasker.getTask(stuck, { withLogs: true });
  assert.equal(s.status, 'aborted');
  // The timeout counts from the thread beginning the task, module import included: on a loaded machine it can
  // fire before the runner is called, which then never is (nothing to terminate). Once called, it is terminated.
  const began = s.logs!.some((entry) => entry.message === 'ignoring aborts');
  assert.equal(s.terminated, began ? true : undefined);
  // The only thread was replaced: the next task runs.
  const next = await tasker.addTask({ operation: 'echo', data: 'after' });
  assert.equal(await tasker.waitForTaskOutputData(next), 'after');
});

test('bug 7: Infinity and -Infinity priorities survive a restart and keep their run order', async (t) => {
  const dir = await tempDir(t);
  const first = new Tasker({ onMissingRunner: 'queue', persistDir: dir });
  const uuids = new Map<number, string>();
  for (const priority of [0, -Infinity, Infinity, 5]) uuids.set(priority, await first.addTask({ operation: 'echo', priority, data: priority === Infinity ? 'inf' : priority === -Infinity ? '-inf' : priority }));
  // close() releases the store (stop() keeps its lock), so that a new Tasker may open it.
  await first.close();

  const second = createTasker(t, { onMissingRunner: 'queue', persistDir: dir, maxThreads: 1 });
  assert.equal((await second.getTask(uuids.get(Infinity)!)).priority, Infinity);
  assert.equal((await second.getTask(uuids.get(-Infinity)!)).priority, -Infinity);
  const order = [Infinity, 5, 0, -Infinity].map((priority) => uuids.get(priority));
  assert.deepEqual((await second.findTasks({ status: 'new' })).map((task) => task.uuid), order);
  const runs = recordEvents(second, ['task.run']);
  second.assignRunner('echo', runner('echo'));
  await second.start();
  assert.equal(await second.waitForTaskOutputData(uuids.get(-Infinity)!), '-inf'); // the last to run
  assert.deepEqual(runs.map(([, uuid]) => uuid), order);
});

test("order: 'idle' and onIdle() come after the last task's task.ended, once its end is stored (original order: task.ended > idle)", async (t) => {
  for (const persisted of [false, true]) {
    const tasker = createTasker(t, { maxThreads: 1, persistDir: persisted ? await tempDir(t) : null });
    tasker.assignRunner('echo', runner('echo'));
    const events = recordEvents(tasker, ['task.run', 'task.ended', 'idle']);
    await tasker.start();
    const uuid = await tasker.addTask({ operation: 'echo', data: 1 });
    await tasker.onIdle();
    events.push(['onIdle resolved']);
    assert.deepEqual(events.map(([name]) => name), ['task.run', 'task.ended', 'idle', 'onIdle resolved'], persisted ? 'persisted' : 'in memory');
    assert.equal(await tasker.waitForTaskOutputData(uuid), 1);
  }
});

test('bug 8: assignRunner schedules the tasks that were waiting for it, and their waiters resolve', async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'late', data: 'finally' });
  const waiting = tasker.waitForTaskOutputData(uuid);
  assert.equal((await tasker.getTask(uuid)).status, 'new');
  const ran = nextEvent(tasker, `task.${uuid}.run`);
  tasker.assignRunner('late', runner('echo'));
  await ran;
  assert.equal(await waiting, 'finally');
  // A task with no runner at all does not trap its waiter: aborting it settles the wait.
  const orphan = await tasker.addTask({ operation: 'never-assigned' });
  const orphanWait = tasker.waitForTaskOutputData(orphan);
  await tasker.abortTask(orphan);
  await assert.rejects(orphanWait, { code: ErrorCodes.TASK_ABORTED });
});

test('bug 9: stop() resolves only after running tasks settled, emits stopped last, and starts nothing once called', async (t) => {
  const tasker = createTasker(t, { maxThreads: 1 });
  tasker.assignRunner('hold', runner('hang-until-abort'));
  tasker.assignRunner('echo', runner('echo'));
  await tasker.start();
  const logged = nextLog(tasker);
  const hold = await tasker.addTask({ operation: 'hold' });
  await logged;
  const queued = await tasker.addTask({ operation: 'echo', data: 'queued' });
  const events = recordEvents(tasker, ['task.run', 'task.aborted', 'task.ended', 'stopped']);
  await tasker.stop();
  assert.deepEqual(events.map(([name, uuid]) => (name === 'stopped' ? [name] : [name, uuid])), [
    ['task.aborted', hold],
    ['task.ended', hold],
    ['stopped'],
  ]);
  const held = await tasker.getTask(hold);
  assert.equal(held.status, 'aborted');
  assert.equal(held.abortReason?.code, AbortCodes.TASKER_STOPPED);
  assert.equal((await tasker.getTask(queued)).status, 'new', 'the queued task was not started by stop()');
  await tasker.start();
  assert.equal(await tasker.waitForTaskOutputData(queued), 'queued');
});

test('bug 10: restart recovery of a task left running by a crash emits task.aborted/task.ended; stop()+start() never re-marks a live runner', async (t) => {
  const dir = await tempDir(t);
  const script = fileURLToPath(new URL('../fixtures/scripts/crash-while-running.mjs', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [script, dir], { cwd: ROOT, timeout: 30_000 });
  const { uuid } = JSON.parse(stdout) as { uuid: string };

  const tasker = createTasker(t, { persistDir: dir });
  const ended = nextEvent(tasker, `task.${uuid}.ended`);
  const aborted = nextEvent(tasker, 'task.aborted');
  const [status, reason] = await ended;
  assert.equal(status, 'aborted');
  assert.equal((reason as { code?: string }).code, AbortCodes.INTERRUPTED);
  assert.equal((await aborted)[0], uuid);
  const recovered = await tasker.getTask(uuid);
  assert.equal(recovered.status, 'aborted');
  assert.equal(recovered.abortReason?.code, AbortCodes.INTERRUPTED);
  tasker.assignRunner('hang', runner('ignore-abort'));
  tasker.assignRunner('echo', runner('echo'));
  const runs = recordEvents(tasker, ['task.run', 'task.ended']);
  await tasker.start();
  const fresh = await tasker.addTask({ operation: 'echo', data: 'fresh' });
  assert.equal(await tasker.waitForTaskOutputData(fresh), 'fresh');
  assert.deepEqual(runs.filter(([, id]) => id === uuid), [], 'the interrupted task is not run again');

  // In one process: stop() waits for (and if needed terminates) the runner, so a
  // following start() finds nothing live to re-mark.
  const live = createTasker(t, { maxThreads: 1, abortGraceMs: 50 });
  live.assignRunner('hang', runner('ignore-abort'));
  live.assignRunner('echo', runner('echo'));
  const ends = recordEvents(live, ['task.ended']);
  await live.start();
  const logged = nextLog(live);
  const stuck = await live.addTask({ operation: 'hang' });
  await logged;
  await live.stop();
  const stopped = await live.getTask(stuck);
  assert.equal(stopped.status, 'aborted');
  assert.equal(stopped.terminated, true);
  await live.start();
  const after = await live.addTask({ operation: 'echo', data: 'after restart' });
  assert.equal(await live.waitForTaskOutputData(after), 'after restart');
  assert.deepEqual(ends.map(([, id, s]) => [id, s]), [[stuck, 'aborted'], [after, 'done']]);
  assert.deepEqual(await live.getTask(stuck), stopped, 'the stopped task did not change');
});

test('bug 11: no listener leaks on the start() signal or on a per-task abortSignal', async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('echo', runner('echo'));
  const controller = new AbortController();
  await tasker.start(controller.signal);
  await tasker.start(controller.signal);
  await tasker.start(controller.signal);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1, 'one listener however many start() calls');
  await tasker.stop();
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'removed by stop()');

  await tasker.start();
  const done = new AbortController();
  const uuid = await tasker.addTask({ operation: 'echo', data: 1, abortSignal: done.signal });
  assert.equal(await tasker.waitForTaskOutputData(uuid), 1);
  assert.equal(getEventListeners(done.signal, 'abort').length, 0, 'removed when the task ended done');

  const failed = new AbortController();
  tasker.assignRunner('fail', runner('fail'));
  const failing = await tasker.addTask({ operation: 'fail', abortSignal: failed.signal });
  await assert.rejects(tasker.waitForTaskOutputData(failing), { code: ErrorCodes.TASK_FAILED });
  assert.equal(getEventListeners(failed.signal, 'abort').length, 0, 'removed when the task ended failed');
});

test('bug 12: an unreadable store or a failing write rejects the calls with a code: no hang, no unhandled rejection', async (t) => {
  const unhandled = watchUnhandled(t);
  const dir = await tempDir(t);
  await writeFile(join(dir, 'snapshot.json'), '{ this is not json');
  const corrupt = createTasker(t, { onMissingRunner: 'queue', persistDir: dir });
  corrupt.assignRunner('echo', runner('echo'));
  await assert.rejects(corrupt.addTask({ operation: 'echo' }), { code: ErrorCodes.STORE_CORRUPT });
  await assert.rejects(corrupt.getTask('whatever'), { code: ErrorCodes.STORE_CORRUPT });
  await assert.rejects(corrupt.findTasks(), { code: ErrorCodes.STORE_CORRUPT });
  await assert.rejects(corrupt.countTasks(), { code: ErrorCodes.STORE_CORRUPT });
  await assert.rejects(corrupt.start(), { code: ErrorCodes.STORE_CORRUPT });
  await corrupt.close();
  assert.equal(await readFile(join(dir, 'snapshot.json'), 'utf8'), '{ this is not json', 'left untouched, even by close()');
  assert.deepEqual(await readdir(dir), ['snapshot.json'], 'nothing else was written');

  const errors: unknown[] = [];
  const failingStore: TaskStore = {
    load: async () => [],
    commit: async () => {
      throw new Error('disk full');
    },
    close: async () => {},
  };
  const logger = { error: (...args: unknown[]) => void errors.push(args), warn: () => {}, info: () => {}, debug: () => {} };
  const failing = createTasker(t, { onMissingRunner: 'queue', store: failingStore, logger });
  await assert.rejects(failing.addTask({ operation: 'echo' }), (error: Coded) => {
    assert.equal(error.code, ErrorCodes.STORE_WRITE_FAILED);
    assert.equal(error.cause?.message, 'disk full');
    return true;
  });
  assert.ok(errors.length > 0, 'the failed write was reported to the logger');
  await turn();
  assert.deepEqual(unhandled, []);
});

test('bug 13: log entries carry only level, message, data and timestamp (no logger metadata leaks into them)', async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('sum', runner('sum'));
  const live: LogEntry[] = [];
  tasker.on('task.log', (_uuid, entry) => live.push(entry));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'sum', id: { who: 'me' }, data: [1, 2] });
  await tasker.waitForTaskOutputData(uuid);
  const stored = (await tasker.getTask(uuid, { withLogs: true })).logs!;
  for (const entries of [stored, live]) {
    assert.equal(entries.length, 2);
    assert.deepEqual(Object.keys(entries[0]!).sort(), ['data', 'level', 'message', 'timestamp']);
    assert.deepEqual(Object.keys(entries[1]!).sort(), ['level', 'message', 'timestamp']);
    assert.deepEqual(entries[0]!.data, { data: [1, 2] });
    assert.ok(entries.every((entry) => entry.timestamp instanceof Date));
  }
});

test('bug 14: every package imported by dist/src and dist/workers is declared in package.json dependencies', async () => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const declared = new Set(Object.keys(pkg.dependencies ?? {}));
  const builtins = new Set(builtinModules);
  const imported = new Map<string, string>();
  for (const folder of ['dist/src', 'dist/workers']) {
    const files = (await readdir(join(ROOT, folder), { recursive: true })).filter((file) => file.endsWith('.js'));
    assert.ok(files.length > 0, `${folder} is built`);
    for (const file of files) {
      // Comments may quote import statements; only code counts.
      const source = (await readFile(join(ROOT, folder, file), 'utf8')).replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
      const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)(['"])([^'"]+)\1/g;
      for (const match of source.matchAll(pattern)) {
        const specifier = match[2]!;
        if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:') || specifier.startsWith('file:')) continue;
        if (builtins.has(specifier) || builtins.has(specifier.split('/')[0]!)) continue;
        const parts = specifier.split('/');
        const name = specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
        imported.set(name, `${folder}/${file}`);
      }
    }
  }
  assert.ok(imported.size > 0, 'found the imports');
  for (const [name, file] of imported) assert.ok(declared.has(name), `${name} (imported by ${file}) is not in dependencies`);
  for (const name of ['piscina', 'sift', 'uuid']) assert.ok(imported.has(name), `${name} is imported`);
});
