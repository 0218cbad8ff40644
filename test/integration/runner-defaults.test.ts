/**
 * Defaults for many tasks at once: the tasker's `concurrency` option
 * (conditions every task must meet, on top of its own) and the per-runner
 * task defaults of `assignRunner(operation, runner, options)` — concurrency
 * (added to the task's), runTimeout, abortGraceMs, maxLogs, retry,
 * queueTimeout (see queue-timeout.test.ts), onTaskerStop. A task's own value
 * wins over its runner's, which wins over the tasker's. Defaults apply when a
 * task runs and are not stored with it.
 *
 * Concurrency is observed with the `gate` runner (holds its thread until
 * released over a BroadcastChannel) and the order of task.run / task.ended.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import { AbortCodes, Tasker, type ConcurrencyCondition, type RunnerOptions, type SerializedError, type TaskerOptions } from 'tasker';
import { nextEvent, recordEvents } from '../helpers/events.js';
import { FakeClock, RecordingClock } from '../helpers/fake-clock.js';
import { runner } from '../helpers/fixtures.js';
import { createTasker } from '../helpers/tasker.js';

const T = { timeout: 20_000 };


/**
 * Gate tasks by name. `add(name, def)` adds one (before start(), so every
 * task.run is known); `trace` lists `run <name>` / `end <name>` in event order.
 */
class Gates {
  readonly channel = `gate-${randomUUID()}`;
  readonly trace: string[] = [];
  readonly #bc: BroadcastChannel;
  readonly #tasker: Tasker;
  readonly #names = new Map<string, string>();
  readonly #uuids = new Map<string, string>();
  readonly #started = new Set<string>();
  readonly #ended = new Set<string>();
  #watchers: Array<() => void> = [];

  constructor(t: TestContext, tasker: Tasker) {
    this.#tasker = tasker;
    this.#bc = new BroadcastChannel(this.channel);
    t.after(() => this.#bc.close());
    tasker.on('task.run', (uuid) => this.#note(uuid, 'run'));
    tasker.on('task.ended', (uuid) => {
      this.#note(uuid, 'end');
      const name = this.#names.get(uuid);
      if (name !== undefined) this.#ended.add(name);
      this.#notify();
    });
    tasker.on('task.log', (uuid, log) => {
      const name = this.#names.get(uuid);
      if (name === undefined || log.message !== 'started') return;
      this.#started.add(name);
      this.#notify();
    });
  }

  async add(name: string, def: { operation: string; concurrency?: ConcurrencyCondition[]; data?: Record<string, unknown> }): Promise<string> {
    const uuid = await this.#tasker.addTask({ ...def, data: { ...def.data, channel: this.channel, name } });
    this.#names.set(uuid, name);
    this.#uuids.set(name, uuid);
    return uuid;
  }

  uuid(name: string): string {
    return this.#uuids.get(name)!;
  }

  /** Waits until each named gate holds its thread (has logged 'started'). */
  started(...names: string[]): Promise<void> {
    return this.#until(() => names.every((name) => this.#started.has(name)));
  }

  /** Releases a gate that holds its thread, and waits for its end. */
  async release(name: string): Promise<void> {
    await this.started(name);
    this.#bc.postMessage(`release:${name}`);
    await this.#until(() => this.#ended.has(name));
  }

  async statuses(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [name, uuid] of this.#uuids) out[name] = (await this.#tasker.getTask(uuid)).status;
    return out;
  }

  #note(uuid: string, what: string): void {
    const name = this.#names.get(uuid);
    if (name !== undefined) this.trace.push(`${what} ${name}`);
  }

  #until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => {
      const watcher = (): void => {
        if (!check()) return;
        this.#watchers = this.#watchers.filter((w) => w !== watcher);
        resolve();
      };
      this.#watchers.push(watcher);
    });
  }

  #notify(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }
}

function setup(t: TestContext, options: TaskerOptions, runners: Record<string, RunnerOptions | undefined>): { tasker: Tasker; gates: Gates } {
  const tasker = createTasker(t, options);
  for (const [operation, runnerOptions] of Object.entries(runners)) tasker.assignRunner(operation, runner('gate'), runnerOptions);
  return { tasker, gates: new Gates(t, tasker) };
}

const ONE_A_AT_A_TIME: ConcurrencyCondition[] = [{ scope: 'running', query: { operation: 'a' }, limit: 1 }];

// ---- concurrency ---------------------------------------------------------------

test("the tasker's concurrency applies to every task: two 'a' tasks never run together, though a thread is free", T, async (t) => {
  const { tasker, gates } = setup(t, { maxThreads: 2, concurrency: ONE_A_AT_A_TIME }, { a: undefined, b: undefined });
  await gates.add('a1', { operation: 'a' });
  await gates.add('a2', { operation: 'a' });
  await gates.add('b1', { operation: 'b' });
  await tasker.start();
  await gates.started('a1');
  // Every task must meet the tasker's condition, a 'b' task too: none starts while an 'a' runs.
  assert.deepEqual(await gates.statuses(), { a1: 'running', a2: 'new', b1: 'new' });
  assert.equal((await tasker.getTask(gates.uuid('a2'))).concurrency, undefined, 'the condition is not stored with the task');

  await gates.release('a1');
  await gates.started('a2');
  assert.deepEqual(await gates.statuses(), { a1: 'done', a2: 'running', b1: 'new' });
  await gates.release('a2');
  await gates.started('b1');
  await gates.release('b1');
  assert.deepEqual(gates.trace, ['run a1', 'end a1', 'run a2', 'end a2', 'run b1', 'end b1']);

  // With no 'a' running, other tasks run side by side.
  await gates.add('b2', { operation: 'b' });
  await gates.add('b3', { operation: 'b' });
  await gates.started('b2', 'b3');
  assert.deepEqual((await gates.statuses()), { a1: 'done', a2: 'done', b1: 'done', b2: 'running', b3: 'running' });
  await gates.release('b2');
  await gates.release('b3');
});

test('without the tasker condition the same two tasks run together (control)', T, async (t) => {
  const { tasker, gates } = setup(t, { maxThreads: 2 }, { a: undefined });
  await gates.add('a1', { operation: 'a' });
  await gates.add('a2', { operation: 'a' });
  await tasker.start();
  await gates.started('a1', 'a2');
  assert.deepEqual(await gates.statuses(), { a1: 'running', a2: 'running' });
  await gates.release('a1');
  await gates.release('a2');
});

for (const where of ['tasker', 'runner'] as const) {
  test(`the ${where}'s conditions add to the task's own: both must hold`, T, async (t) => {
    const twoAs: ConcurrencyCondition[] = [{ scope: 'running', query: { operation: 'a' }, limit: 2 }];
    const { tasker, gates } =
      where === 'tasker'
        ? setup(t, { maxThreads: 4, concurrency: twoAs }, { a: undefined })
        : setup(t, { maxThreads: 4 }, { a: { concurrency: twoAs } });
    const oneOnBookX: ConcurrencyCondition[] = [{ scope: 'running', query: { 'data.book': 'x' }, limit: 1 }];
    await gates.add('x1', { operation: 'a', data: { book: 'x' } });
    await gates.add('x2', { operation: 'a', data: { book: 'x' }, concurrency: oneOnBookX });
    await gates.add('y', { operation: 'a', data: { book: 'y' } });
    // z's own condition allows it: only the tasker's/runner's holds it back.
    await gates.add('z', { operation: 'a', data: { book: 'z' }, concurrency: [{ scope: 'running', query: { 'data.book': 'z' }, limit: 1 }] });
    await tasker.start();
    await gates.started('x1', 'y');
    // x2 is held by its own condition, z by the tasker's/runner's (2 'a' running), with 2 threads free.
    assert.deepEqual(await gates.statuses(), { x1: 'running', x2: 'new', y: 'running', z: 'new' });
    await gates.release('x1');
    await gates.started('x2');
    assert.deepEqual(await gates.statuses(), { x1: 'done', x2: 'running', y: 'running', z: 'new' });
    await gates.release('y');
    await gates.started('z');
    await gates.release('x2');
    await gates.release('z');
    assert.deepEqual(gates.trace, ['run x1', 'run y', 'end x1', 'run x2', 'end y', 'run z', 'end x2', 'end z']);
  });
}

test("a runner's concurrency applies only to its operation, and to tasks added before it was assigned", T, async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue', maxThreads: 4 });
  const gates = new Gates(t, tasker);
  await gates.add('a1', { operation: 'a' });
  await gates.add('a2', { operation: 'a' });
  await gates.add('b1', { operation: 'b' });
  await gates.add('b2', { operation: 'b' });
  tasker.assignRunner('a', runner('gate'), { concurrency: ONE_A_AT_A_TIME });
  tasker.assignRunner('b', runner('gate'), { concurrency: [{ scope: 'running', query: { operation: 'a' }, limit: 5 }] });
  await tasker.start();
  await gates.started('a1', 'b1', 'b2');
  assert.deepEqual(await gates.statuses(), { a1: 'running', a2: 'new', b1: 'running', b2: 'running' });
  await gates.release('a1');
  await gates.started('a2');
  for (const name of ['a2', 'b1', 'b2']) await gates.release(name);
  assert.deepEqual(gates.trace.filter((entry) => entry.endsWith('a1') || entry.endsWith('a2')), ['run a1', 'end a1', 'run a2', 'end a2']);
});

// ---- runTimeout, abortGraceMs ---------------------------------------------------------

test("a runner's runTimeout aborts its tasks (ERR_TASK_RUN_TIMEOUT); a task's own runTimeout, longer or shorter, wins", T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { onMissingRunner: 'queue', clock, maxThreads: 4 });
  tasker.assignRunner('hang', runner('hang-until-abort'), { runTimeout: 100 });
  tasker.assignRunner('other', runner('hang-until-abort'));
  await tasker.start();
  const logged = new Set<string>();
  const allLogged = new Promise<void>((resolve) =>
    tasker.on('task.log', (uuid) => {
      logged.add(uuid);
      if (logged.size === 4) resolve();
    }),
  );
  const byDefault = await tasker.addTask({ operation: 'hang' });
  const longer = await tasker.addTask({ operation: 'hang', runTimeout: 1_000 });
  const shorter = await tasker.addTask({ operation: 'hang', runTimeout: 50 });
  const other = await tasker.addTask({ operation: 'other' });
  await allLogged; // every thread has begun its task: the run timeouts are armed
  assert.equal((await tasker.getTask(byDefault)).runTimeout, undefined, "the runner's default is not stored with the task");

  const ended = (uuid: string) => nextEvent(tasker, `task.${uuid}.ended`);
  const reasonOf = async (uuid: string): Promise<SerializedError> => (await tasker.getTask(uuid)).abortReason!;

  let end = ended(shorter);
  clock.advance(50);
  await end;
  assert.equal((await reasonOf(shorter)).code, AbortCodes.RUN_TIMEOUT);
  assert.match((await reasonOf(shorter)).message, /\b50 ms\b/);
  assert.equal((await tasker.getTask(byDefault)).status, 'running');

  end = ended(byDefault);
  clock.advance(50);
  await end;
  assert.equal((await reasonOf(byDefault)).code, AbortCodes.RUN_TIMEOUT);
  assert.match((await reasonOf(byDefault)).message, /\b100 ms\b/);
  assert.equal((await tasker.getTask(longer)).status, 'running', 'its own 1000 ms wins over the runner’s 100 ms');

  end = ended(longer);
  clock.advance(899);
  assert.equal((await tasker.getTask(longer)).status, 'running');
  clock.advance(1);
  await end;
  assert.equal((await reasonOf(longer)).code, AbortCodes.RUN_TIMEOUT);
  assert.match((await reasonOf(longer)).message, /\b1000 ms\b/);

  clock.advance(60_000);
  assert.equal((await tasker.getTask(other)).status, 'running', 'another operation has no runTimeout');
  await tasker.abortTask(other);
});

test("a runner's abortGraceMs sets the grace before termination; a task's own wins; the tasker's applies otherwise", T, async (t) => {
  const clock = new RecordingClock();
  const tasker = new Tasker({ onMissingRunner: 'queue', clock, maxThreads: 3, abortGraceMs: 60_000 });
  // Runners that ignore their abort end only by termination: let the grace periods of close() pass.
  t.after(async () => {
    const closing = tasker.close();
    clock.advance(60_000);
    await closing;
  });
  tasker.assignRunner('ignore', runner('ignore-abort'), { abortGraceMs: 100 });
  tasker.assignRunner('plain', runner('ignore-abort'));
  await tasker.start();

  const cases: Array<[string, Parameters<Tasker['addTask']>[0], number]> = [
    ['runner default', { operation: 'ignore' }, 100],
    ['own', { operation: 'ignore', abortGraceMs: 30 }, 30],
    ['tasker default', { operation: 'plain' }, 60_000],
  ];
  for (const [label, def, grace] of cases) {
    const logged = nextEvent(tasker, 'task.log');
    const uuid = await tasker.addTask(def);
    assert.equal((await logged)[0], uuid);
    const timer = clock.nextTimer();
    const aborting = tasker.abortTask(uuid);
    assert.equal(await timer, grace, label);
    clock.advance(grace - 1);
    assert.equal((await tasker.getTask(uuid)).status, 'running', `${label}: still in its grace period`);
    clock.advance(1);
    await aborting;
    const task = await tasker.getTask(uuid);
    assert.equal(task.status, 'aborted', label);
    assert.equal(task.terminated, true, label);
  }
});

// ---- maxLogs ----------------------------------------------------------------------

test("a runner's maxLogs caps its tasks' logs (logsDropped); a task's own wins; the tasker's maxLogsPerTask applies otherwise", T, async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue', maxLogsPerTask: 5 });
  tasker.assignRunner('burst', runner('log-burst'), { maxLogs: 3 });
  tasker.assignRunner('plain', runner('log-burst'));
  await tasker.start();
  const cases: Array<[string, Parameters<Tasker['addTask']>[0], number]> = [
    ['runner default', { operation: 'burst', data: { count: 10 } }, 3],
    ['own, above the runner’s', { operation: 'burst', data: { count: 10 }, maxLogs: 7 }, 7],
    ['own zero', { operation: 'burst', data: { count: 10 }, maxLogs: 0 }, 0],
    ['tasker default', { operation: 'plain', data: { count: 10 } }, 5],
  ];
  for (const [label, def, kept] of cases) {
    const uuid = await tasker.addTask(def);
    assert.equal(await tasker.waitForTaskOutputData(uuid), 10, label);
    const task = await tasker.getTask(uuid, { withLogs: true });
    assert.deepEqual(task.logs?.map((log) => log.message), Array.from({ length: kept }, (_, i) => `line ${i}`), label);
    assert.equal(task.logsDropped, 10 - kept, label);
  }
});

// ---- retry ------------------------------------------------------------------------

test("a runner's retry policy retries its tasks without their own (a predicate allowed); a task's own policy wins", T, async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue', maxThreads: 1 });
  const asked: Array<[string | undefined, number]> = [];
  tasker.assignRunner('flaky', runner('flaky'), { retry: { attempts: 3 } });
  tasker.assignRunner('picky', runner('flaky'), {
    retry: {
      attempts: 5,
      retryOn: (error, attempt) => {
        asked.push([(error as { code?: string }).code, attempt]);
        return attempt < 2;
      },
    },
  });
  await tasker.start();

  const retried = await tasker.addTask({ operation: 'flaky', data: { succeedAt: 3 } });
  assert.deepEqual(await tasker.waitForTaskOutputData(retried), { attempt: 3 });
  const task = await tasker.getTask(retried);
  assert.deepEqual(task.attempts?.map((a) => a.outcome), ['failed', 'failed', 'done']);
  assert.equal(task.retry, undefined, "the runner's policy is not stored with the task");

  const own = await tasker.addTask({ operation: 'flaky', data: { succeedAt: 3 }, retry: { attempts: 1 } });
  await assert.rejects(tasker.waitForTaskOutputData(own), { code: 'ERR_TASK_FAILED' });
  assert.equal((await tasker.getTask(own)).attempts, undefined, 'its own policy (1 run) wins: no retry');

  const picky = await tasker.addTask({ operation: 'picky' });
  await assert.rejects(tasker.waitForTaskOutputData(picky), { code: 'ERR_TASK_FAILED' });
  assert.deepEqual((await tasker.getTask(picky)).attempts?.map((a) => a.outcome), ['failed', 'failed']);
  assert.deepEqual(asked, [['E_FLAKY', 1], ['E_FLAKY', 2]]);
});

// ---- onTaskerStop -----------------------------------------------------------------------

test("a runner's onTaskerStop applies to its tasks, key by key under the task's own, and over stop()'s options", T, async (t) => {
  const { tasker, gates } = setup(t, { maxThreads: 3 }, { g: { onTaskerStop: { running: 'requeue', queued: 'abort' } }, p: undefined });
  await gates.add('requeued', { operation: 'g' });
  const ownAbort = await tasker.addTask({ operation: 'g', data: { channel: gates.channel, name: 'own' }, onTaskerStop: { running: 'abort' } });
  await gates.add('plain', { operation: 'p' });
  await gates.add('dropped', { operation: 'g' });
  const kept = await tasker.addTask({ operation: 'g', data: { channel: gates.channel, name: 'kept' }, onTaskerStop: { queued: 'keep' } });
  const plainQueued = await tasker.addTask({ operation: 'p', data: { channel: gates.channel, name: 'plain-queued' } });
  const ownLogged = nextEvent(tasker, `task.${ownAbort}.log`);
  await tasker.start();
  await gates.started('requeued', 'plain');
  await ownLogged;
  const seen = recordEvents(tasker, ['task.requeued', 'task.aborted']);

  await tasker.stop({ running: 'abort' });
  const status = async (uuid: string): Promise<[string, string | undefined]> => {
    const task = await tasker.getTask(uuid);
    return [task.status, task.abortReason?.code];
  };
  assert.deepEqual(await status(gates.uuid('requeued')), ['new', undefined], "the runner's running: 'requeue' wins over stop()'s 'abort'");
  assert.deepEqual((await tasker.getTask(gates.uuid('requeued'))).attempts?.map((a) => a.outcome), ['requeued']);
  assert.deepEqual(await status(ownAbort), ['aborted', AbortCodes.TASKER_STOPPED], "the task's own running: 'abort' wins");
  assert.deepEqual(await status(gates.uuid('plain')), ['aborted', AbortCodes.TASKER_STOPPED], "another operation: stop()'s option");
  assert.deepEqual(await status(gates.uuid('dropped')), ['aborted', AbortCodes.TASKER_STOPPED], "the runner's queued: 'abort'");
  assert.deepEqual(await status(kept), ['new', undefined], "the task's own queued: 'keep' wins");
  assert.deepEqual(await status(plainQueued), ['new', undefined], 'another operation keeps its queued tasks');
  assert.deepEqual(
    seen.map(([name, uuid]) => `${name} ${uuid as string}`).sort(),
    [
      `task.requeued ${gates.uuid('requeued')}`,
      `task.aborted ${ownAbort}`,
      `task.aborted ${gates.uuid('plain')}`,
      `task.aborted ${gates.uuid('dropped')}`,
    ].sort(),
  );
});

// ---- malformed options ------------------------------------------------------------------

test('a malformed tasker concurrency throws ERR_INVALID_OPTION at construction', T, async () => {
  const malformed: unknown[] = [
    'x',
    {},
    [{ scope: 'everywhere', query: {}, limit: 1 }],
    [{ scope: 'running', query: {}, limit: 0 }],
    [{ scope: 'running', query: {}, limit: 1.5 }],
    [{ scope: 'running', query: { $where: 'true' }, limit: 1 }],
    [{ scope: 'running', query: {}, limit: 1, extra: true }],
    [null],
  ];
  for (const concurrency of malformed) {
    assert.throws(() => new Tasker({ onMissingRunner: 'queue', concurrency: concurrency as ConcurrencyCondition[] }), { code: 'ERR_INVALID_OPTION' }, JSON.stringify(concurrency));
  }
  // Valid: an empty list, and the two scopes.
  for (const concurrency of [[], [{ scope: 'before-queued', query: { operation: 'a' }, limit: 2 }], ONE_A_AT_A_TIME] as ConcurrencyCondition[][]) {
    await new Tasker({ onMissingRunner: 'queue', concurrency }).close();
  }
});

test('assignRunner with malformed options throws ERR_INVALID_RUNNER and assigns nothing', T, async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  const malformed: Array<[string, unknown]> = [
    ['runTimeout -1', { runTimeout: -1 }],
    ['runTimeout 0', { runTimeout: 0 }],
    ['runTimeout string', { runTimeout: '100' }],
    ['unknown key', { runTimeOut: 100 }],
    ['task field that is no default', { priority: 5 }],
    ['data', { data: { a: 1 } }],
    ['abortGraceMs -1', { abortGraceMs: -1 }],
    ['maxLogs -1', { maxLogs: -1 }],
    ['maxLogs 1.5', { maxLogs: 1.5 }],
    ['concurrency x', { concurrency: 'x' }],
    ['concurrency bad scope', { concurrency: [{ scope: 'all', query: {}, limit: 1 }] }],
    ['retry attempts 0', { retry: { attempts: 0 } }],
    ['retry unknown key', { retry: { attempts: 2, tries: 3 } }],
    ['queueTimeout 0', { queueTimeout: 0 }],
    ['onTaskerStop bad', { onTaskerStop: { running: 'explode' } }],
    ['onInterrupted bad', { onInterrupted: 'resume' }],
    ['not an object', 'fast'],
    ['an array', []],
  ];
  for (const [label, options] of malformed) {
    assert.throws(() => tasker.assignRunner('op', runner('echo'), options as RunnerOptions), { code: 'ERR_INVALID_RUNNER' }, label);
  }
  // Nothing was assigned: the operation takes a valid runner, whose defaults work.
  tasker.assignRunner('op', runner('echo'), { runTimeout: 5_000, abortGraceMs: 0, maxLogs: 0, retry: { attempts: 2 }, queueTimeout: 60_000, onTaskerStop: {}, concurrency: [] });
  assert.throws(() => tasker.assignRunner('op', runner('echo')), { code: 'ERR_RUNNER_ALREADY_ASSIGNED' });
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'op', data: 'ok' });
  assert.equal(await tasker.waitForTaskOutputData(uuid), 'ok');
});
