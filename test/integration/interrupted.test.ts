/**
 * `onInterrupted`: what start-up does with a task found `running` in the store
 * (its process died while it ran). `'abort'` (the default) ends it aborted with
 * ERR_TASK_INTERRUPTED; `'requeue'` puts it back to `new`, the interrupted run
 * recorded in `attempts`, within a budget of runs (its retry policy's
 * `attempts`, else 3 runs in all). Precedence: the task's own field, then its
 * runner's default (only if assigned before the store has loaded), then the
 * tasker option.
 *
 * Stores are crafted on disk with writeStoreFiles (tasks left `running`, some
 * with an `attempts` history encoded as the store encodes it: nested Dates as
 * {"$$date": ISO}); one test gets its `running` task from a real SIGKILL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AbortCodes, type InterruptedPolicy, type SerializedError, type Task, type Tasker } from 'tasker';
import { nextEvent, recordEvents } from '../helpers/events.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { runner } from '../helpers/fixtures.js';
import { readStoreFiles, writeStoreFiles, type Json } from '../helpers/store-files.js';
import { createTasker, tempDir } from '../helpers/tasker.js';

const T = { timeout: 20_000 };
const TASKER_URL = new URL('../../dist/src/index.js', import.meta.url).href;

const CREATED = '2025-06-01T10:00:00.000Z';
const STARTED = '2025-06-01T10:00:01.000Z';
const INTERRUPTED = AbortCodes.INTERRUPTED;

/** An encoded task document left `running` by a crash. */
function runningDoc(uuid: string, operation: string, extra: Json = {}): Json {
  return { uuid, operation, priority: 0, status: 'running', createdAt: CREATED, startedAt: STARTED, ...extra };
}

/** An encoded entry of `attempts` (nested field: Dates as {"$$date": ISO}). */
function storedAttempt(attempt: number, outcome: 'interrupted' | 'requeued' | 'failed' | 'aborted'): Json {
  const startedAt = new Date(Date.parse('2025-06-01T09:00:00.000Z') + attempt * 60_000);
  const error =
    outcome === 'failed'
      ? { name: 'Error', message: `run ${attempt} failed`, code: 'E_FLAKY' }
      : { name: 'AbortError', message: `run ${attempt}`, code: outcome === 'requeued' ? AbortCodes.TASKER_STOPPED : INTERRUPTED };
  return {
    attempt,
    startedAt: { $$date: startedAt.toISOString() },
    endedAt: { $$date: new Date(startedAt.getTime() + 1000).toISOString() },
    outcome,
    error,
  };
}

function attemptsOf(...outcomes: Array<'interrupted' | 'requeued' | 'failed' | 'aborted'>): Json[] {
  return outcomes.map((outcome, i) => storedAttempt(i + 1, outcome));
}

/** [attempt, outcome, error code] of each run. */
function runs(task: Task): Array<[number, string, string | undefined]> {
  return (task.attempts ?? []).map((a) => [a.attempt, a.outcome, (a.error as { code?: string } | undefined)?.code]);
}

function storedDoc(dir: string, uuid: string): Json {
  const doc = readStoreFiles(dir).tasks.get(uuid);
  assert.ok(doc !== undefined, `task ${uuid} is on disk`);
  return doc;
}

/** Waits until the store has loaded (every interrupted task handled in memory). */
async function loaded(tasker: Tasker): Promise<void> {
  await tasker.countTasks();
}

test("default 'abort': a task found running is aborted ERR_TASK_INTERRUPTED, never requeued", T, async (t) => {
  const dir = await tempDir(t);
  const uuid = randomUUID();
  writeStoreFiles(dir, [runningDoc(uuid, 'job', { retry: { attempts: 5 } })]);
  const tasker = createTasker(t, { persistDir: dir });
  const seen = recordEvents(tasker, ['task.requeued', 'task.aborted', `task.${uuid}.requeued`]);
  const [, reason] = await nextEvent(tasker, 'task.aborted');
  assert.equal(reason.code, INTERRUPTED);
  const task = await tasker.getTask(uuid);
  assert.equal(task.status, 'aborted');
  assert.equal(task.attempts, undefined, 'no history: the task ran once');
  assert.deepEqual(seen, [['task.aborted', uuid, reason]], 'aborted, not requeued, even with a retry budget left');
  await tasker.close();
  assert.equal(storedDoc(dir, uuid)['status'], 'aborted');
});

test("'requeue': the task goes back to new (task.requeued, an 'interrupted' attempt, stored), then runs again with ctx.attempt 2", T, async (t) => {
  const dir = await tempDir(t);
  const uuid = randomUUID();
  const beforeCrash = { level: 'info', message: 'before the crash', timestamp: STARTED };
  writeStoreFiles(dir, [runningDoc(uuid, 'flaky', { data: { succeedAt: 1 } })], { [uuid]: [beforeCrash] });
  const clock = new FakeClock();
  const tasker = createTasker(t, { persistDir: dir, clock, onInterrupted: 'requeue' });
  const seen = recordEvents(tasker, [
    'task.requeued',
    `task.${uuid}.requeued`,
    'task.aborted',
    'task.ended',
    'task.run',
    `task.${uuid}.done`,
  ]);
  const [reason] = await nextEvent(tasker, `task.${uuid}.requeued`);
  const now = new Date(clock.now());

  assert.equal(reason.name, 'AbortError');
  assert.equal(reason.code, INTERRUPTED);
  assert.deepEqual(seen, [
    ['task.requeued', uuid, reason],
    [`task.${uuid}.requeued`, reason],
  ]);
  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.equal(task.status, 'new');
  assert.equal(task.startedAt, undefined, 'a requeued task carries no trace of the run but its attempt');
  assert.equal(task.endedAt, undefined);
  assert.equal(task.abortReason, undefined);
  assert.deepEqual(task.queuedAt, now, 'it re-entered the queue at start-up');
  assert.deepEqual(task.attempts, [
    { attempt: 1, startedAt: new Date(STARTED), endedAt: now, outcome: 'interrupted', error: reason },
  ]);
  assert.deepEqual(task.logs?.map((log) => log.message), ['before the crash'], 'its logs are kept');

  // On disk, as the store encodes it.
  const doc = storedDoc(dir, uuid);
  assert.equal(doc['status'], 'new');
  assert.equal('startedAt' in doc, false);
  assert.equal(doc['queuedAt'], now.toISOString());
  assert.deepEqual(doc['attempts'], [
    {
      attempt: 1,
      startedAt: { $$date: STARTED },
      endedAt: { $$date: now.toISOString() },
      outcome: 'interrupted',
      error: JSON.parse(JSON.stringify(reason)) as Json,
    },
  ]);

  // Not run before start(); then it runs again, as its second attempt.
  tasker.assignRunner('flaky', runner('flaky'));
  assert.equal((await tasker.getTask(uuid)).status, 'new');
  await tasker.start();
  assert.deepEqual(await tasker.waitForTaskOutputData(uuid), { attempt: 2 });
  const done = await tasker.getTask(uuid, { withLogs: true });
  assert.equal(done.status, 'done');
  assert.deepEqual(runs(done), [
    [1, 'interrupted', INTERRUPTED],
    [2, 'done', undefined],
  ]);
  assert.deepEqual(done.logs?.map((log) => log.message), ['before the crash', 'attempt 2'], 'one log across both runs');
  assert.deepEqual(
    seen.slice(2).map(([name, id]) => [name, typeof id === 'string' ? id : undefined]),
    [
      ['task.run', uuid],
      [`task.${uuid}.done`, undefined],
      ['task.ended', uuid],
    ],
    'never aborted',
  );
  await tasker.stop();
  const after = storedDoc(dir, uuid);
  assert.equal(after['status'], 'done');
  assert.deepEqual(after['result'], { attempt: 2 });
  assert.deepEqual((after['attempts'] as Json[]).map((a) => a['outcome']), ['interrupted', 'done']);
});

test('precedence: the task’s onInterrupted wins over its runner’s default, which wins over the tasker option', T, async (t) => {
  const taskerPolicies: Array<InterruptedPolicy | undefined> = [undefined, 'abort', 'requeue'];
  const runnerPolicies: Record<string, InterruptedPolicy | undefined> = { plain: undefined, 'r-abort': 'abort', 'r-requeue': 'requeue' };
  const ownPolicies: Array<InterruptedPolicy | undefined> = [undefined, 'abort', 'requeue'];
  for (const taskerPolicy of taskerPolicies) {
    const dir = await tempDir(t);
    const expected = new Map<string, { policy: InterruptedPolicy; label: string }>();
    const docs: Json[] = [];
    for (const [operation, runnerPolicy] of Object.entries(runnerPolicies)) {
      for (const own of ownPolicies) {
        const uuid = randomUUID();
        docs.push(runningDoc(uuid, operation, own === undefined ? {} : { onInterrupted: own }));
        expected.set(uuid, {
          policy: own ?? runnerPolicy ?? taskerPolicy ?? 'abort',
          label: `tasker ${taskerPolicy ?? '-'}, runner ${runnerPolicy ?? '-'}, task ${own ?? '-'}`,
        });
      }
    }
    writeStoreFiles(dir, docs);
    const tasker = createTasker(t, { persistDir: dir, ...(taskerPolicy === undefined ? {} : { onInterrupted: taskerPolicy }) });
    // Assigned before the store has loaded: the runners' defaults apply at start-up.
    for (const [operation, policy] of Object.entries(runnerPolicies)) {
      tasker.assignRunner(operation, runner('echo'), policy === undefined ? undefined : { onInterrupted: policy });
    }
    const seen = recordEvents(tasker, ['task.requeued', 'task.aborted']);
    await loaded(tasker);
    await tasker.close(); // every change stored and announced

    for (const [uuid, { policy, label }] of expected) {
      const doc = storedDoc(dir, uuid);
      const events = seen.filter(([, id]) => id === uuid).map(([name, , reason]) => [name, (reason as SerializedError).code]);
      if (policy === 'requeue') {
        assert.equal(doc['status'], 'new', label);
        assert.deepEqual((doc['attempts'] as Json[]).map((a) => a['outcome']), ['interrupted'], label);
        assert.deepEqual(events, [['task.requeued', INTERRUPTED]], label);
      } else {
        assert.equal(doc['status'], 'aborted', label);
        assert.equal((doc['abortReason'] as Json)['code'], INTERRUPTED, label);
        assert.equal(doc['attempts'], undefined, label);
        assert.deepEqual(events, [['task.aborted', INTERRUPTED]], label);
      }
    }
  }
});

test("addTask({ onInterrupted: 'requeue' }) is stored; after a real SIGKILL that task is requeued and rerun, the other aborted", T, async (t) => {
  const dir = await tempDir(t);
  const script = `
    import { Tasker } from ${JSON.stringify(TASKER_URL)};
    const tasker = new Tasker({ persistDir: ${JSON.stringify(dir)}, maxThreads: 2 });
    tasker.assignRunner('job', ${JSON.stringify(runner('hang-until-abort'))});
    tasker.on('task.log', (uuid) => process.stdout.write('running ' + uuid + '\\n'));
    await tasker.start();
    const requeued = await tasker.addTask({ operation: 'job', id: 'requeue-me', onInterrupted: 'requeue' });
    const plain = await tasker.addTask({ operation: 'job', id: 'plain' });
    process.stdout.write('added ' + requeued + ' ' + plain + '\\n');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = once(child, 'exit');
  let output = '';
  const [requeueMe, plain] = await new Promise<[string, string]>((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      const added = /added (\S+) (\S+)\n/.exec(output);
      if (added === null) return;
      const running = new Set([...output.matchAll(/running (\S+)\n/g)].map((match) => match[1]));
      if (running.has(added[1]!) && running.has(added[2]!)) resolve([added[1]!, added[2]!]);
    });
    child.on('exit', (code, signal) => reject(new Error(`child exited early (${code}, ${signal}): ${output}`)));
  });
  child.kill('SIGKILL');
  await exited;
  assert.equal(storedDoc(dir, requeueMe)['status'], 'running', 'the crash left it running on disk');
  assert.equal(storedDoc(dir, requeueMe)['onInterrupted'], 'requeue', 'the field is stored with the task');
  assert.equal('onInterrupted' in storedDoc(dir, plain), false);

  const tasker = createTasker(t, { persistDir: dir });
  const seen = recordEvents(tasker, ['task.requeued', 'task.aborted']);
  tasker.assignRunner('job', runner('requeue-once'));
  await loaded(tasker);
  const task = await tasker.getTask(requeueMe);
  assert.equal(task.status, 'new');
  assert.equal(task.onInterrupted, 'requeue');
  assert.deepEqual(runs(task), [[1, 'interrupted', INTERRUPTED]]);
  const other = await tasker.getTask(plain);
  assert.equal(other.status, 'aborted', 'without its own field the tasker default (abort) applies');
  assert.equal(other.abortReason?.code, INTERRUPTED);

  await tasker.start();
  assert.deepEqual(await tasker.waitForTaskOutputData(requeueMe), { attempt: 2 });
  assert.deepEqual(
    seen.map(([name, id]) => [name, id]).sort(),
    [['task.aborted', plain], ['task.requeued', requeueMe]].sort(),
  );
  await tasker.stop();
  assert.equal(storedDoc(dir, requeueMe)['status'], 'done');
  assert.equal(storedDoc(dir, plain)['status'], 'aborted');
});

test('addTask rejects a malformed onInterrupted (ERR_INVALID_TASK), the tasker option too (ERR_INVALID_OPTION)', T, async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  for (const value of ['Requeue', 'retry', '', 1, null, true]) {
    await assert.rejects(tasker.addTask({ operation: 'x', onInterrupted: value as never }), { code: 'ERR_INVALID_TASK' }, String(value));
    assert.throws(() => createTasker(t, { onInterrupted: value as never }), { code: 'ERR_INVALID_OPTION' }, String(value));
    assert.throws(() => tasker.assignRunner(`op-${String(value)}`, runner('echo'), { onInterrupted: value as never }), { code: 'ERR_INVALID_RUNNER' });
  }
  assert.equal(await tasker.countTasks(), 0);
  const uuid = await tasker.addTask({ operation: 'x', onInterrupted: 'requeue' });
  assert.equal((await tasker.getTask(uuid)).onInterrupted, 'requeue');
});

test('with retry { attempts: N }: requeued while the interrupted run leaves room, aborted once it was run N (requeued runs do not count)', T, async (t) => {
  const dir = await tempDir(t);
  const cases: Array<{ name: string; attempts: number; history: Json[]; requeue: boolean }> = [
    { name: 'first run of 3', attempts: 3, history: [], requeue: true },
    { name: 'second run of 3', attempts: 3, history: attemptsOf('interrupted'), requeue: true },
    { name: 'third run of 3 (N-1 counted before)', attempts: 3, history: attemptsOf('interrupted', 'failed'), requeue: false },
    { name: 'stop requeues do not count', attempts: 3, history: attemptsOf('requeued', 'requeued', 'interrupted', 'requeued'), requeue: true },
    { name: 'attempts 1: never requeued', attempts: 1, history: [], requeue: false },
    { name: 'fourth run of 5', attempts: 5, history: attemptsOf('interrupted', 'interrupted', 'failed'), requeue: true },
    { name: 'fifth run of 5', attempts: 5, history: attemptsOf('interrupted', 'interrupted', 'failed', 'interrupted'), requeue: false },
  ];
  const uuids = cases.map(() => randomUUID());
  writeStoreFiles(
    dir,
    cases.map((c, i) =>
      runningDoc(uuids[i]!, 'flaky', {
        data: { succeedAt: 1 },
        retry: { attempts: c.attempts },
        ...(c.history.length === 0 ? {} : { attempts: c.history }),
      }),
    ),
  );
  const tasker = createTasker(t, { persistDir: dir, onInterrupted: 'requeue', maxThreads: 1 });
  const seen = recordEvents(tasker, ['task.requeued', 'task.aborted']);
  await loaded(tasker);
  for (const [i, c] of cases.entries()) {
    const task = await tasker.getTask(uuids[i]!);
    const before = c.history.length;
    if (c.requeue) {
      assert.equal(task.status, 'new', c.name);
      assert.equal(task.attempts?.length, before + 1, c.name);
      assert.deepEqual(runs(task).at(-1), [before + 1, 'interrupted', INTERRUPTED], c.name);
    } else {
      assert.equal(task.status, 'aborted', c.name);
      assert.equal(task.abortReason?.code, INTERRUPTED, c.name);
      if (before === 0) {
        assert.equal(task.attempts, undefined, c.name);
      } else {
        // The history lists every run, the last one too.
        assert.deepEqual(runs(task).at(-1), [before + 1, 'aborted', INTERRUPTED], c.name);
        assert.ok(task.attempts![0]!.startedAt instanceof Date, `${c.name}: stored attempts decode to Dates`);
        assert.deepEqual(task.attempts![0]!.startedAt, new Date((c.history[0]!['startedAt'] as { $$date: string }).$$date));
      }
    }
  }
  await tasker.close();
  for (const [i, c] of cases.entries()) {
    const expected = c.requeue ? 'task.requeued' : 'task.aborted';
    assert.deepEqual(seen.filter(([, id]) => id === uuids[i]).map(([name]) => name), [expected], c.name);
    assert.equal(storedDoc(dir, uuids[i]!)['status'], c.requeue ? 'new' : 'aborted', c.name);
  }

  // A requeued task runs as its next attempt: ctx.attempt counts every run, requeued ones too.
  const second = createTasker(t, { persistDir: dir, maxThreads: 1 });
  second.assignRunner('flaky', runner('flaky'));
  await second.start();
  assert.deepEqual(await second.waitForTaskOutputData(uuids[1]!), { attempt: 3 });
  assert.deepEqual(await second.waitForTaskOutputData(uuids[3]!), { attempt: 6 });
  assert.deepEqual(runs(await second.getTask(uuids[1]!)).map(([, outcome]) => outcome), ['interrupted', 'interrupted', 'done']);
});

test('without a retry policy an interrupted task runs at most 3 times in all', T, async (t) => {
  const dir = await tempDir(t);
  const cases: Array<{ name: string; history: Json[]; requeue: boolean }> = [
    { name: 'second run', history: attemptsOf('interrupted'), requeue: true },
    { name: 'third run', history: attemptsOf('interrupted', 'interrupted'), requeue: false },
    { name: 'requeued runs only', history: attemptsOf('requeued', 'requeued', 'requeued'), requeue: true },
    { name: 'third counted run among requeued ones', history: attemptsOf('requeued', 'interrupted', 'requeued', 'interrupted'), requeue: false },
  ];
  const uuids = cases.map(() => randomUUID());
  writeStoreFiles(dir, cases.map((c, i) => runningDoc(uuids[i]!, 'job', { attempts: c.history })));
  const tasker = createTasker(t, { persistDir: dir, onInterrupted: 'requeue' });
  await loaded(tasker);
  for (const [i, c] of cases.entries()) {
    const task = await tasker.getTask(uuids[i]!);
    assert.equal(task.status, c.requeue ? 'new' : 'aborted', c.name);
    assert.deepEqual(runs(task).at(-1), [c.history.length + 1, c.requeue ? 'interrupted' : 'aborted', INTERRUPTED], c.name);
  }
});

test('a crash loop: requeued after the 1st and 2nd interrupted run (what the engine stored round-trips), aborted after the 3rd', T, async (t) => {
  const dir = await tempDir(t);
  const uuid = randomUUID();
  writeStoreFiles(dir, [runningDoc(uuid, 'job', { data: { n: 1 } })]);

  /** Rewrites the store as if the process died while the task ran again. */
  const crashWhileRunning = (startedAt: string): void => {
    const state = readStoreFiles(dir);
    const doc = { ...state.tasks.get(uuid)!, status: 'running', startedAt };
    for (const name of readdirSync(dir)) if (name !== 'lock') rmSync(join(dir, name));
    writeStoreFiles(dir, [doc]);
  };

  for (const round of [1, 2, 3]) {
    const tasker = createTasker(t, { persistDir: dir, onInterrupted: 'requeue' });
    const event = round < 3 ? nextEvent(tasker, `task.${uuid}.requeued`) : nextEvent(tasker, `task.${uuid}.aborted`);
    const [reason] = await event;
    assert.equal(reason.code, INTERRUPTED, `round ${round}`);
    await tasker.close();
    const doc = storedDoc(dir, uuid);
    const outcomes = (doc['attempts'] as Json[]).map((a) => a['outcome']);
    if (round < 3) {
      assert.equal(doc['status'], 'new', `round ${round}`);
      assert.deepEqual(outcomes, Array(round).fill('interrupted'), `round ${round}`);
      crashWhileRunning(`2025-06-0${round + 1}T10:00:00.000Z`);
    } else {
      assert.equal(doc['status'], 'aborted');
      assert.deepEqual(outcomes, ['interrupted', 'interrupted', 'aborted']);
      assert.deepEqual(
        (doc['attempts'] as Json[]).map((a) => (a['startedAt'] as { $$date: string }).$$date),
        [STARTED, '2025-06-02T10:00:00.000Z', '2025-06-03T10:00:00.000Z'],
        'each run keeps its own start',
      );
    }
  }
});

test("a runner's onInterrupted (and retry) default applies only when assignRunner is called before the store has loaded", T, async (t) => {
  // Assigned synchronously after `new Tasker`: the runner's default applies.
  const early = await tempDir(t);
  const earlyUuid = randomUUID();
  writeStoreFiles(early, [runningDoc(earlyUuid, 'job')]);
  const first = createTasker(t, { persistDir: early });
  first.assignRunner('job', runner('echo'), { onInterrupted: 'requeue' });
  await loaded(first);
  assert.equal((await first.getTask(earlyUuid)).status, 'new');

  // Assigned after the load: too late, the tasker option (abort) was applied.
  const late = await tempDir(t);
  const lateUuid = randomUUID();
  writeStoreFiles(late, [runningDoc(lateUuid, 'job')]);
  const second = createTasker(t, { persistDir: late });
  await loaded(second);
  second.assignRunner('job', runner('echo'), { onInterrupted: 'requeue' });
  const task = await second.getTask(lateUuid);
  assert.equal(task.status, 'aborted');
  assert.equal(task.abortReason?.code, INTERRUPTED);

  // The runner's retry policy sets the budget of a task without its own.
  const budget = await tempDir(t);
  const within = randomUUID();
  const spent = randomUUID();
  const own = randomUUID();
  writeStoreFiles(budget, [
    runningDoc(within, 'job'),
    runningDoc(spent, 'job', { attempts: attemptsOf('interrupted') }),
    runningDoc(own, 'job', { attempts: attemptsOf('interrupted'), retry: { attempts: 3 } }),
  ]);
  const third = createTasker(t, { persistDir: budget });
  third.assignRunner('job', runner('echo'), { onInterrupted: 'requeue', retry: { attempts: 2 } });
  await loaded(third);
  assert.equal((await third.getTask(within)).status, 'new', 'run 1 of 2: requeued');
  assert.equal((await third.getTask(spent)).status, 'aborted', 'run 2 of 2: aborted');
  assert.equal((await third.getTask(own)).status, 'new', "the task's own policy (3) wins over the runner's (2)");
});

test('requeued tasks keep FIFO order by queuedAt: behind the queued tasks, before and after a restart', T, async (t) => {
  const dir = await tempDir(t);
  // a1 and a2 are requeued at the same instant: among equal queuedAt the uuid (time-ordered, like uuidv7) decides.
  const [a1, a2] = [randomUUID(), randomUUID()].sort() as [string, string];
  const [b, c, d] = [randomUUID(), randomUUID(), randomUUID()] as [string, string, string];
  writeStoreFiles(dir, [
    // Interrupted long ago, created first of all: requeued, they go behind the queue.
    { ...runningDoc(a1, 'echo', { data: 'a1' }), createdAt: '2025-06-01T08:00:00.000Z' },
    { ...runningDoc(a2, 'echo', { data: 'a2' }), createdAt: '2025-06-01T08:30:00.000Z' },
    { uuid: b, operation: 'echo', priority: 0, status: 'new', createdAt: '2025-06-01T10:00:01.000Z', data: 'b' },
    // Created before b and d but queued again (a retry, a postpone) after them.
    { uuid: c, operation: 'echo', priority: 0, status: 'new', createdAt: '2025-06-01T10:00:00.000Z', queuedAt: '2025-06-01T10:00:05.000Z', data: 'c' },
    { uuid: d, operation: 'echo', priority: 0, status: 'new', createdAt: '2025-06-01T10:00:02.000Z', data: 'd' },
  ]);
  const clock = new FakeClock();
  const names = new Map<string, string>([[a1, 'a1'], [a2, 'a2'], [b, 'b'], [c, 'c'], [d, 'd']]);
  const order = async (tasker: Tasker): Promise<string[]> => (await tasker.findTasks({ status: 'new' })).map((task) => names.get(task.uuid)!);

  const first = createTasker(t, { persistDir: dir, clock, onInterrupted: 'requeue' });
  await loaded(first);
  assert.deepEqual(await order(first), ['b', 'd', 'c', 'a1', 'a2'], 'queue order at start-up');
  assert.deepEqual((await first.getTask(a1)).queuedAt, new Date(clock.now()));
  await first.close();

  clock.advance(60_000);
  const second = createTasker(t, { persistDir: dir, clock, maxThreads: 1 });
  await loaded(second);
  assert.deepEqual(await order(second), ['b', 'd', 'c', 'a1', 'a2'], 'the same order after a restart');
  second.assignRunner('echo', runner('echo'));
  const ran = recordEvents(second, ['task.run']);
  await second.start();
  await second.onIdle();
  assert.deepEqual(ran.map(([, uuid]) => names.get(uuid as string)), ['b', 'd', 'c', 'a1', 'a2'], 'run order (one thread)');
});

test(
  'two tasks requeued at the same instant keep their relative order across a restart',
  T,
  async (t) => {
    const dir = await tempDir(t);
    // x was created first (smaller uuid) but queued again later than y was created (a postpone, a retry):
    // its old place was behind y, yet once both are requeued at one instant only the uuid can decide, before and after a restart.
    const [x, y] = [randomUUID(), randomUUID()].sort() as [string, string];
    writeStoreFiles(dir, [
      { ...runningDoc(x, 'echo'), createdAt: '2025-06-01T08:00:00.000Z', queuedAt: '2025-06-01T09:00:00.000Z' },
      { ...runningDoc(y, 'echo'), createdAt: '2025-06-01T08:30:00.000Z' },
    ]);
    const clock = new FakeClock();
    const name = (task: Task): string => (task.uuid === x ? 'x' : 'y');
    const first = createTasker(t, { persistDir: dir, clock, onInterrupted: 'requeue' });
    await loaded(first);
    const before = (await first.findTasks({ status: 'new' })).map(name);
    // Requeued at one instant they share a queuedAt, so they are requeued in uuid order: the order any restart gives them.
    assert.deepEqual(before, ['x', 'y'], 'requeued in uuid order');
    await first.close();
    const second = createTasker(t, { persistDir: dir, clock });
    await loaded(second);
    assert.deepEqual((await second.findTasks({ status: 'new' })).map(name), before, 'the same queue order after a restart');
  },
);
