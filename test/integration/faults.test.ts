/**
 * The runner fault table: each case is a runner that misbehaves, run through
 * one helper (`runFault`) that checks, for every case,
 * - the task's final status and its error / abort code (and the case's extras),
 * - that `waitForTaskOutputData` settles (resolves, or rejects with
 *   ERR_TASK_FAILED / ERR_TASK_ABORTED),
 * - that the same tasker then runs a normal task (echo) to `done` — with one
 *   thread, so after a crash or a termination it runs on the replacement thread,
 * - that nothing reached the host: no unhandled rejection, no uncaught
 *   exception (recorded for the whole file), no `logger.error` call.
 *
 * Nothing here asserts a wall-clock window: every wait is on a promise or an
 * event. The time from the abort (or the start, for timeouts) to `aborted` is
 * only reported with `t.diagnostic`.
 *
 * Not covered: a runner that runs out of memory (ERR_WORKER_OUT_OF_MEMORY) —
 * filling a heap is too slow for this suite.
 */
import assert from 'node:assert/strict';
import { after, describe, test, type TestContext } from 'node:test';
import { performance } from 'node:perf_hooks';
import {
  AbortCodes,
  ErrorCodes,
  TaskAbortedError,
  TaskFailedError,
  type AddTaskDef,
  type LogEntry,
  type RunnerSpec,
  type Task,
  type Tasker,
  type TaskerOptions,
} from 'tasker';
import { runner } from '../helpers/fixtures.js';
import { createTasker } from '../helpers/tasker.js';

// ---- what reached the host ------------------------------------------------------

const unhandledRejections: unknown[] = [];
const uncaughtExceptions: unknown[] = [];
const onUnhandledRejection = (reason: unknown): void => void unhandledRejections.push(reason);
const onUncaughtException = (error: unknown): void => void uncaughtExceptions.push(error);
process.on('unhandledRejection', onUnhandledRejection);
process.on('uncaughtException', onUncaughtException);
after(() => {
  process.off('unhandledRejection', onUnhandledRejection);
  process.off('uncaughtException', onUncaughtException);
});

function assertHostClean(where: string): void {
  assert.deepEqual(unhandledRejections, [], `no unhandled rejection reached the host (${where})`);
  assert.deepEqual(uncaughtExceptions, [], `no uncaught exception reached the host (${where})`);
}

// ---- the table ------------------------------------------------------------------

const RUN_TIMEOUT = 200;
const GRACE = 100;

type Expectation =
  | { status: 'done'; result: unknown }
  /** `code`: the stored error's code; `thrown`: the stored error is exactly this thrown value. */
  | { status: 'failed'; code: string }
  | { status: 'failed'; thrown: unknown }
  | { status: 'aborted'; abortCode: string; terminated: boolean };

interface FaultCase {
  name: string;
  runner: RunnerSpec;
  task?: Omit<AddTaskDef, 'operation'>;
  options?: TaskerOptions;
  /**
   * What the test does to the running task (e.g. abort it), given its first log
   * entry; `markAbort()` notes the moment of the abort, for the diagnostic.
   */
  act?: (tasker: Tasker, uuid: string, firstLog: Promise<LogEntry>, markAbort: () => void) => Promise<void>;
  expect: Expectation;
  /** Extra checks on the ended task (read with its logs). */
  check?: (task: Task, t: TestContext) => void;
  /** Set when the case reveals a bug: the reason, precisely. */
  todo?: string;
}

const cases: FaultCase[] = [
  {
    name: 'a `while (true) {}` runner with a runTimeout is aborted (ERR_TASK_RUN_TIMEOUT) and its thread terminated',
    runner: runner('busy-loop'),
    task: { runTimeout: RUN_TIMEOUT },
    expect: { status: 'aborted', abortCode: AbortCodes.RUN_TIMEOUT, terminated: true },
  },
  {
    name: 'a runner that ignores its abort signal and awaits forever is terminated after abortGraceMs on abortTask',
    runner: runner('ignore-abort'),
    act: async (tasker, uuid, firstLog, markAbort) => {
      await firstLog; // the runner has begun: the abort goes down the whole ladder
      markAbort();
      await tasker.abortTask(uuid, 'stop ignoring me');
    },
    expect: { status: 'aborted', abortCode: AbortCodes.REQUESTED, terminated: true },
    check: (task) => assert.equal(task.abortReason?.message, 'stop ignoring me'),
  },
  {
    name: 'a runner that calls process.exit(3) fails with ERR_WORKER_EXITED and exitCode 3',
    runner: runner('exit'),
    task: { data: { code: 3 } },
    expect: { status: 'failed', code: ErrorCodes.WORKER_EXITED },
    check: (task) => assert.equal((task.error as { exitCode?: unknown }).exitCode, 3),
  },
  {
    name: 'a runner that throws from a setTimeout callback fails with ERR_WORKER_CRASHED, cause = the original error',
    runner: runner('throw-in-timer'),
    task: { data: { message: 'boom from a timer' } },
    expect: { status: 'failed', code: ErrorCodes.WORKER_CRASHED },
    check: (task) => {
      const cause = (task.error as { cause?: { message?: unknown } }).cause;
      assert.equal(cause?.message, 'boom from a timer');
    },
  },
  {
    name: 'a runner that leaves an unhandled rejection, then awaits forever, fails with ERR_WORKER_CRASHED',
    runner: runner('unhandled-rejection'),
    task: { data: { message: 'nobody awaited me' } },
    expect: { status: 'failed', code: ErrorCodes.WORKER_CRASHED },
    check: (task) => {
      const cause = (task.error as { cause?: { message?: unknown } }).cause;
      assert.equal(cause?.message, 'nobody awaited me');
    },
  },
  ...(['function', 'symbol', 'class', 'cycle'] as const).map(
    (kind): FaultCase => ({
      name: `a runner that returns a ${kind === 'class' ? 'class instance' : kind === 'cycle' ? 'cyclic object' : kind} fails with ERR_RESULT_NOT_SERIALIZABLE`,
      runner: runner('return-value'),
      task: { data: { kind } },
      expect: { status: 'failed', code: ErrorCodes.RESULT_NOT_SERIALIZABLE },
    }),
  ),
  {
    name: 'a runner that returns undefined ends done with result null',
    runner: runner('return-value'),
    task: { data: { kind: 'undefined' } },
    expect: { status: 'done', result: null },
    check: (task) => assert.equal(task.result, null),
  },
  ...([
    ['a string', 'a thrown string'],
    ['null', null],
    ['a plain object', { reason: 'a thrown plain object', n: 1, nested: { ok: false } }],
  ] as const).map(
    ([label, value]): FaultCase => ({
      name: `a runner that throws ${label} fails with the thrown value as its error`,
      runner: runner('throw-value'),
      task: { data: { value } },
      expect: { status: 'failed', thrown: value },
    }),
  ),
  {
    name: 'a runner blocked in Atomics.wait forever, with a runTimeout, is aborted (ERR_TASK_RUN_TIMEOUT) and terminated',
    runner: runner('atomics-wait'),
    task: { runTimeout: RUN_TIMEOUT },
    expect: { status: 'aborted', abortCode: AbortCodes.RUN_TIMEOUT, terminated: true },
  },
  {
    name: 'a runner that logs 1,000,000 lines as fast as it can keeps maxLogsPerTask (1000) and counts the rest dropped',
    runner: runner('log-burst'),
    options: { maxLogsPerTask: 1000 },
    task: { data: { count: 1_000_000 } },
    expect: { status: 'done', result: 1_000_000 },
    check: (task) => {
      assert.equal(task.logs?.length, 1000, 'the first 1000 entries are kept');
      assert.equal(task.logsDropped, 999_000);
      assert.equal(task.logs?.[0]?.message, 'line 0');
      assert.equal(task.logs?.[999]?.message, 'line 999', 'the kept entries are the first ones, in order');
    },
  },
  {
    name: 'a runner module that imports a module that does not exist fails with ERR_RUNNER_LOAD_FAILED',
    runner: runner('import-missing'),
    expect: { status: 'failed', code: ErrorCodes.RUNNER_LOAD_FAILED },
    check: (task) => assert.match(String((task.error as { message?: unknown }).message), /no-such-module-for-tasker-tests/),
  },
  {
    name: 'a runner module without the assigned export ({ module, export: "nope" }) fails with ERR_RUNNER_LOAD_FAILED',
    runner: { module: runner('echo'), export: 'nope' },
    task: { data: 'unused' },
    expect: { status: 'failed', code: ErrorCodes.RUNNER_LOAD_FAILED },
    check: (task) => assert.match(String((task.error as { message?: unknown }).message), /'nope'/),
  },
  {
    name: 'a runner module that throws at top level when imported fails with ERR_RUNNER_LOAD_FAILED',
    runner: runner('throw-at-import'),
    expect: { status: 'failed', code: ErrorCodes.RUNNER_LOAD_FAILED },
    check: (task) => assert.match(String((task.error as { message?: unknown }).message), /thrown while the runner module was imported/),
  },
];

// ---- the helper -------------------------------------------------------------------

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

function settle(promise: Promise<unknown>): Promise<Settled> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

function errorCode(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as { code?: unknown }).code : undefined;
}

/** Checks how `waitForTaskOutputData` settled against the expectation. */
function assertSettled(settled: Settled, expected: Expectation, where: string): void {
  if (expected.status === 'done') {
    assert.ok(settled.ok, `${where}: resolves (got ${settled.ok ? '' : String(settled.error)})`);
    assert.deepEqual(settled.value, expected.result, `${where}: resolves with the result`);
    return;
  }
  assert.ok(!settled.ok, `${where}: rejects`);
  const error = settled.error;
  if (expected.status === 'aborted') {
    assert.ok(error instanceof TaskAbortedError, `${where}: rejects with a TaskAbortedError`);
    assert.equal(error.code, ErrorCodes.TASK_ABORTED);
    assert.equal(errorCode(error.cause), expected.abortCode, `${where}: cause carries the abort code`);
    return;
  }
  assert.ok(error instanceof TaskFailedError, `${where}: rejects with a TaskFailedError`);
  assert.equal(error.code, ErrorCodes.TASK_FAILED);
  if ('thrown' in expected) assert.deepEqual(error.cause, expected.thrown, `${where}: cause is the thrown value itself`);
  else {
    assert.ok(error.cause instanceof Error, `${where}: cause is the stored error rebuilt as an Error`);
    assert.equal(errorCode(error.cause), expected.code, `${where}: cause carries the error code`);
  }
}

async function runFault(t: TestContext, c: FaultCase): Promise<void> {
  const hostBefore = [unhandledRejections.length, uncaughtExceptions.length];
  const loggedErrors: unknown[][] = [];
  const tasker = createTasker(t, {
    maxThreads: 1,
    abortGraceMs: GRACE,
    logger: { error: (...args: unknown[]) => void loggedErrors.push(args), warn() {}, info() {}, debug() {} },
    ...c.options,
  });
  tasker.assignRunner('fault', c.runner);
  tasker.assignRunner('echo', runner('echo'));
  await tasker.start();

  // Registered before the task exists: only the fault task runs until it ends.
  const times: Record<string, number> = {};
  const firstLog = new Promise<LogEntry>((resolve) =>
    tasker.once('task.log', (_uuid, entry) => {
      times['firstLog'] = performance.now();
      resolve(entry);
    }),
  );
  tasker.on('task.run', () => (times['run'] ??= performance.now()));
  tasker.on('task.aborted', () => (times['aborted'] ??= performance.now()));
  const ended = new Promise<string>((resolve) => tasker.once('task.ended', (_uuid, status) => resolve(status)));

  const uuid = await tasker.addTask({ operation: 'fault', ...c.task });
  // Asked while the task is new or running: this is the waiter path.
  const waiting = settle(tasker.waitForTaskOutputData(uuid));
  if (c.act !== undefined) await c.act(tasker, uuid, firstLog, () => (times['abort'] = performance.now()));

  const settled = await waiting;
  assert.equal(await ended, c.expect.status, 'task.ended reports the final status');
  assertSettled(settled, c.expect, 'waitForTaskOutputData while the task ran');
  // Asked again once the task has ended: it settles at once, the same way.
  assertSettled(await settle(tasker.waitForTaskOutputData(uuid)), c.expect, 'waitForTaskOutputData after the end');

  const task = await tasker.getTask(uuid, { withLogs: true });
  assert.equal(task.status, c.expect.status);
  switch (c.expect.status) {
    case 'done':
      assert.deepEqual(task.result, c.expect.result);
      assert.equal(task.error, undefined);
      break;
    case 'failed':
      if ('thrown' in c.expect) assert.deepEqual(task.error, c.expect.thrown, 'the stored error is the thrown value');
      else assert.equal(errorCode(task.error), c.expect.code, `stored error: ${JSON.stringify(task.error)}`);
      assert.equal(task.result, undefined);
      break;
    case 'aborted':
      assert.equal(task.abortReason?.name, 'AbortError');
      assert.equal(task.abortReason?.code, c.expect.abortCode);
      assert.equal(task.terminated, c.expect.terminated === true ? true : undefined);
      break;
  }
  c.check?.(task, t);

  const abortedAt = times['aborted'];
  if (abortedAt !== undefined) {
    // Reported, never asserted. The runner's first log line marks (closely) the moment its thread began it.
    const since = (label: string, at: number | undefined): string => (at === undefined ? '' : `${label} → aborted ${(abortedAt - at).toFixed(1)} ms; `);
    t.diagnostic(
      `${since('abortTask', times['abort'])}${since('first log', times['firstLog'])}${since('task.run', times['run'])}` +
        `(runTimeout ${c.task?.runTimeout ?? '-'}, abortGraceMs ${GRACE})`,
    );
  }

  // The same tasker still serves: a normal task runs to done (on the replacement thread, if one was needed).
  const echo = await tasker.addTask({ operation: 'echo', data: { after: c.name } });
  assert.deepEqual(await tasker.waitForTaskOutputData(echo), { after: c.name });
  assert.equal((await tasker.getTask(echo)).status, 'done');

  assert.deepEqual(loggedErrors, [], 'the engine reported no error to its logger');
  assert.deepEqual([unhandledRejections.length, uncaughtExceptions.length], hostBefore, 'this case sent nothing to the host');
  assertHostClean(c.name);
}

// ---- the suite ----------------------------------------------------------------------

describe('runner faults', () => {
  for (const c of cases) {
    // The timeout is a safety net only: a case that hangs fails instead of blocking the run.
    test(c.name, { timeout: 10_000, ...(c.todo !== undefined ? { todo: c.todo } : {}) }, (t) => runFault(t, c));
  }

  test('no unhandled rejection or uncaught exception reached the host during the whole file', async () => {
    // Let anything still pending from the last case surface first.
    await new Promise((resolve) => setImmediate(resolve));
    assertHostClean('whole file');
  });
});
