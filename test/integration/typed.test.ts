/**
 * The typed API at run time: a `Tasker<Runners>` runs runner modules typed
 * with `defineRunner` (imported from the package inside the worker thread), and
 * the types it infers hold for what comes back. The compile-time checks are in
 * test/types/.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { Tasker, defineRunner, type Runner, type RunnerOf, type TaskId } from 'tasker';
import { runner } from '../helpers/fixtures.js';

type TypedSum = typeof import('../fixtures/runners/typed-sum.mjs');

type Runners = {
  /** The default export of typed-sum.mjs, typed by defineRunner. */
  total: RunnerOf<TypedSum>;
  /** A named export of the same module. */
  length: RunnerOf<TypedSum['length']>;
  /** sum.mjs is untyped JavaScript: its entry is declared here. */
  sum: Runner<number[], number>;
};

const T = { timeout: 20_000 };

test('a typed tasker runs runners typed with defineRunner, and returns what its types say', T, async (t) => {
  const tasker = new Tasker<Runners>({ maxThreads: 2, abortGraceMs: 200 });
  t.after(() => tasker.close());
  tasker.assignRunner('total', runner('typed-sum'));
  tasker.assignRunner('length', { module: runner('typed-sum'), export: 'length' });
  tasker.assignRunner('sum', runner('sum'));
  await tasker.start();

  const totalId = await tasker.addTask({ operation: 'total', data: { terms: [1, 2, 3] }, priority: 1 });
  const lengthId = await tasker.addTask({ operation: 'length', data: { text: 'tasker' } });
  const sumId = await tasker.addTask({ operation: 'sum', data: [4, 5] });
  // A TaskId is a plain string at run time.
  assert.equal(typeof totalId, 'string');
  assert.match(totalId, /^[0-9a-f-]{36}$/);

  const { total } = await tasker.waitForTaskOutputData(totalId);
  const length: number = await tasker.waitForTaskOutputData(lengthId);
  const sum: number = await tasker.waitForTaskOutputData(sumId);
  assert.equal(total, 6);
  assert.equal(length, 6);
  assert.equal(sum, 9);

  const task = await tasker.getTask(totalId, { withLogs: true });
  assert.equal(task.operation, 'total');
  assert.deepEqual(task.data?.terms, [1, 2, 3]);
  assert.deepEqual(task.result, { total: 6 });
  assert.deepEqual(
    task.logs?.map((log) => [log.level, log.message, log.data]),
    [['info', 'summing', { count: 3 }]],
  );

  // Read back without a TaskId: a union discriminated by `operation`.
  const results: Record<string, unknown> = {};
  for (const found of await tasker.findTasks({ status: 'done' }, { sort: { operation: 1 } })) {
    switch (found.operation) {
      case 'total':
        results[found.operation] = found.result?.total;
        break;
      case 'length':
      case 'sum':
        results[found.operation] = found.result;
        break;
    }
  }
  assert.deepEqual(results, { length: 6, sum: 9, total: 6 });

  // A stored uuid, cast to the TaskId it is.
  const again = await tasker.waitForTaskOutputData(String(sumId) as TaskId<'sum'>);
  assert.equal(again, 9);
});

test('defineRunner is the identity at run time, and the runner module exports what it returned', async () => {
  const fn = async (): Promise<number> => 1;
  assert.equal(defineRunner(fn), fn);
  const typedSum: TypedSum = await import('../fixtures/runners/typed-sum.mjs');
  assert.equal(typeof typedSum.default, 'function');
  assert.deepEqual(await typedSum.default({ data: { terms: [2, 3] }, logger: { info() {} } } as never), { total: 5 });
});

test('the Typed API example of the README is exactly the type-checked files of test/types/readme/', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
  for (const file of ['resize.ts', 'main.ts']) {
    const source = await readFile(new URL(`../types/readme/${file}`, import.meta.url), 'utf8');
    assert.ok(blocks.includes(source), `test/types/readme/${file} differs from its README block`);
  }
});
