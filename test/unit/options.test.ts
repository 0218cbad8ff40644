import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { Tasker, type TaskStore, type TaskerOptions } from 'tasker';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tasker.js';

/** Asserts `new Tasker(options)` throws `Kind` with code ERR_INVALID_OPTION and `name` in the message. */
function rejectsOption(options: unknown, Kind: typeof TypeError | typeof RangeError, name: string): void {
  assert.throws(
    () => new Tasker(options as TaskerOptions),
    (error: unknown) => {
      assert.ok(error instanceof Kind, `expected a ${Kind.name}, got ${String(error)}`);
      assert.equal(error.constructor, Kind, `expected exactly a ${Kind.name}, got ${(error as Error).constructor.name}`);
      assert.equal((error as Error & { code?: unknown }).code, 'ERR_INVALID_OPTION');
      assert.ok((error as Error).message.includes(name), `"${(error as Error).message}" names ${name}`);
      return true;
    },
    `options ${show(options)}`,
  );
}

/** Prints an option value for assertion messages. */
function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' || (typeof v === 'number' && !Number.isFinite(v)) ? String(v) : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

const noop = (): void => {};
const fakeStore = (): TaskStore => ({ load: async () => [], commit: async () => {}, close: async () => {} });

/** A valid Tasker, stopped when the test ends. */
function valid(t: TestContext, options?: TaskerOptions): Tasker {
  const tasker = options === undefined ? new Tasker() : new Tasker(options);
  t.after(() => tasker.stop());
  assert.ok(tasker instanceof Tasker);
  return tasker;
}

describe('new Tasker(options) refuses malformed options', () => {
  test('an unknown option', () => {
    rejectsOption({ maxThread: 2 }, TypeError, 'maxThread');
    rejectsOption({ persistdir: '/tmp/x' }, TypeError, 'persistdir');
    rejectsOption({ maxThreads: 2, timeout: 5 }, TypeError, 'timeout');
  });

  test('maxThreads: not an integer >= 1', () => {
    rejectsOption({ maxThreads: 0 }, RangeError, 'maxThreads');
    rejectsOption({ maxThreads: -1 }, RangeError, 'maxThreads');
    rejectsOption({ maxThreads: 1.5 }, RangeError, 'maxThreads');
    rejectsOption({ maxThreads: NaN }, RangeError, 'maxThreads');
    rejectsOption({ maxThreads: Infinity }, RangeError, 'maxThreads');
    rejectsOption({ maxThreads: '2' }, TypeError, 'maxThreads');
    rejectsOption({ maxThreads: null }, TypeError, 'maxThreads');
    rejectsOption({ maxThreads: 2n }, TypeError, 'maxThreads');
  });

  test('abortGraceMs: not a finite number of ms >= 0 that a timer can hold', () => {
    rejectsOption({ abortGraceMs: -1 }, RangeError, 'abortGraceMs');
    rejectsOption({ abortGraceMs: NaN }, TypeError, 'abortGraceMs');
    rejectsOption({ abortGraceMs: Infinity }, RangeError, 'abortGraceMs');
    rejectsOption({ abortGraceMs: -Infinity }, RangeError, 'abortGraceMs');
    rejectsOption({ abortGraceMs: 2 ** 31 }, RangeError, 'abortGraceMs');
    rejectsOption({ abortGraceMs: '100' }, TypeError, 'abortGraceMs');
  });

  test('maxLogsPerTask: not an integer >= 0', () => {
    rejectsOption({ maxLogsPerTask: -1 }, RangeError, 'maxLogsPerTask');
    rejectsOption({ maxLogsPerTask: 2.5 }, RangeError, 'maxLogsPerTask');
    rejectsOption({ maxLogsPerTask: '10' }, TypeError, 'maxLogsPerTask');
  });

  test('persistDir: empty or not a string', () => {
    rejectsOption({ persistDir: '' }, TypeError, 'persistDir');
    rejectsOption({ persistDir: 5 }, TypeError, 'persistDir');
    rejectsOption({ persistDir: false }, TypeError, 'persistDir');
    rejectsOption({ persistDir: { path: '/tmp' } }, TypeError, 'persistDir');
    rejectsOption({ persistDir: new URL('file:///tmp/x') }, TypeError, 'persistDir');
  });

  test('logger: not console-compatible', () => {
    rejectsOption({ logger: {} }, TypeError, 'logger');
    rejectsOption({ logger: { error: noop, warn: noop, info: noop } }, TypeError, 'logger.debug');
    rejectsOption({ logger: { error: noop, info: noop, debug: noop } }, TypeError, 'logger.warn');
    rejectsOption({ logger: { error: noop, warn: 'yes', info: noop, debug: noop } }, TypeError, 'logger.warn');
    rejectsOption({ logger: 'console' }, TypeError, 'logger');
    rejectsOption({ logger: 5 }, TypeError, 'logger');
  });

  test('clock: missing methods', () => {
    rejectsOption({ clock: {} }, TypeError, 'clock.now');
    rejectsOption({ clock: { now: () => 0, setTimeout: noop } }, TypeError, 'clock.clearTimeout');
    rejectsOption({ clock: { now: () => 0, clearTimeout: noop } }, TypeError, 'clock.setTimeout');
    rejectsOption({ clock: { now: 5, setTimeout: noop, clearTimeout: noop } }, TypeError, 'clock.now');
    rejectsOption({ clock: null }, TypeError, 'clock');
    rejectsOption({ clock: Date }, TypeError, 'clock');
  });

  test('store: missing methods', () => {
    rejectsOption({ store: {} }, TypeError, 'store.load');
    rejectsOption({ store: { load: noop, commit: noop } }, TypeError, 'store.close');
    rejectsOption({ store: 'memory' }, TypeError, 'store');
  });

  test('options that are not an object', () => {
    rejectsOption(null, TypeError, 'options');
    rejectsOption(5, TypeError, 'options');
    rejectsOption('fast', TypeError, 'options');
    rejectsOption([], TypeError, 'options');
  });

  test('non-object options are at least refused with a TypeError', () => {
    for (const options of [null, 5, 'fast', [], true]) {
      assert.throws(() => new Tasker(options as TaskerOptions), TypeError);
    }
  });
});

describe('new Tasker(options) accepts valid options', () => {
  test('no options, empty options, undefined options', async (t) => {
    const a = valid(t);
    const b = valid(t, {});
    const c = new Tasker(undefined);
    t.after(() => c.stop());
    for (const tasker of [a, b, c]) assert.equal(await tasker.countTasks(), 0);
  });

  test('every option at a boundary value', async (t) => {
    const logged: unknown[] = [];
    const logger = { error: (...a: unknown[]) => logged.push(a), warn: noop, info: noop, debug: noop };
    const tasker = valid(t, {
      persistDir: null,
      maxThreads: 1,
      abortGraceMs: 0,
      maxLogsPerTask: 0,
      logger,
      clock: new FakeClock(),
    });
    assert.equal(await tasker.countTasks(), 0);
    valid(t, { abortGraceMs: 2 ** 31 - 1, maxThreads: 64, maxLogsPerTask: 1_000_000 });
    assert.deepEqual(logged, []);
  });

  test('null/undefined for optional options mean the default', async (t) => {
    const tasker = valid(t, { persistDir: undefined, maxThreads: undefined, abortGraceMs: undefined, logger: undefined, clock: undefined } as unknown as TaskerOptions);
    valid(t, { logger: null } as unknown as TaskerOptions);
    valid(t, { store: null } as unknown as TaskerOptions);
    assert.equal(await tasker.countTasks(), 0);
  });

  test('console is a valid logger; a custom store is used', async (t) => {
    valid(t, { logger: console });
    let loads = 0;
    const store = { ...fakeStore(), load: async () => (loads++, []) };
    const tasker = valid(t, { store });
    assert.equal(await tasker.countTasks(), 0);
    assert.equal(loads, 1);
  });

  test('a persistDir that does not exist yet is created on load', async (t) => {
    const dir = join(await tempDir(t), 'nested', 'store');
    const tasker = valid(t, { persistDir: dir });
    assert.equal(await tasker.countTasks(), 0);
    assert.ok((await stat(dir)).isDirectory());
  });

  test('stop() on a never-started tasker resolves', async () => {
    const tasker = new Tasker({ maxThreads: 1 });
    await tasker.stop();
    await tasker.stop();
  });
});
