/**
 * Type tests of a typed tasker, `new Tasker<Runners>()`: checked by
 * `npm run typecheck`, never run. Each `@ts-expect-error` line must fail to
 * compile; each `expectType` must hold.
 */
import { Tasker, defineRunner, type OperationOf, type Runner, type RunnerOf, type Task, type TaskId, type TaskOf, type TaskResultOf } from 'tasker';
import { expectType, type Assignable, type Equal } from './assert-type.js';

const sum = defineRunner<[number, number], number>(async ({ data }) => data[0] + data[1]);

type Runners = {
  sum: typeof sum;
  resize: Runner<{ file: string; width?: number }, { bytes: number }>;
  /** Data may be omitted; resolves with nothing, stored as `null`. */
  ping: Runner<{ at?: string } | undefined, void>;
  /** A runner module's default export, typed with defineRunner in JavaScript (test/fixtures/runners/typed-sum.mjs). */
  total: RunnerOf<typeof import('../fixtures/runners/typed-sum.mjs')>;
};

declare const tasker: Tasker<Runners>;
declare const someUuid: string;

export function operations(): void {
  expectType<Equal<OperationOf<Runners>, 'sum' | 'resize' | 'ping' | 'total'>>();
  tasker.assignRunner('sum', './sum.mjs');
  tasker.assignRunner('resize', { module: './resize.mjs', export: 'resize' });
  // @ts-expect-error: an operation the map does not name
  tasker.assignRunner('summ', './sum.mjs');
}

export async function addTask(): Promise<void> {
  const id = await tasker.addTask({ operation: 'sum', data: [1, 2], priority: 3 });
  expectType<Equal<typeof id, TaskId<'sum'>>>();
  expectType<Assignable<typeof id, string>>();
  await tasker.addTask({ operation: 'resize', data: { file: 'a.jpg' } });
  await tasker.addTask({ operation: 'resize', data: { file: 'a.jpg', width: 640 }, runTimeout: 1000 });
  await tasker.addTask({ operation: 'ping' });
  await tasker.addTask({ operation: 'total', data: { terms: [1, 2] } });

  // @ts-expect-error: a misspelt operation
  await tasker.addTask({ operation: 'summ', data: [1, 2] });
  // @ts-expect-error: data of the wrong shape
  await tasker.addTask({ operation: 'sum', data: ['1', 2] });
  // @ts-expect-error: data of another operation
  await tasker.addTask({ operation: 'sum', data: { file: 'a.jpg' } });
  // @ts-expect-error: data is required when the runner's data cannot be undefined
  await tasker.addTask({ operation: 'resize' });
  // @ts-expect-error: a property the runner's data does not have
  await tasker.addTask({ operation: 'resize', data: { file: 'a.jpg', height: 480 } });
  // @ts-expect-error: a misspelt task field
  await tasker.addTask({ operation: 'ping', priorty: 1 });

  // An operation known only as a union: data must fit every one of them.
  const operation = Math.random() > 0.5 ? ('sum' as const) : ('resize' as const);
  // @ts-expect-error: [1, 2] is not the data of 'resize'
  await tasker.addTask({ operation, data: [1, 2] });
}

export async function results(): Promise<void> {
  const sumId = await tasker.addTask({ operation: 'sum', data: [1, 2] });
  const resizeId = await tasker.addTask({ operation: 'resize', data: { file: 'a.jpg' } });
  const pingId = await tasker.addTask({ operation: 'ping' });
  const totalId = await tasker.addTask({ operation: 'total', data: { terms: [1] } });

  const n = await tasker.waitForTaskOutputData(sumId);
  expectType<Equal<typeof n, number>>();
  const bytes = await tasker.waitForTaskOutputData(resizeId);
  expectType<Equal<typeof bytes, { bytes: number }>>();
  const nothing = await tasker.waitForTaskOutputData(pingId);
  expectType<Equal<typeof nothing, null>>();
  const total = await tasker.waitForTaskOutputData(totalId);
  expectType<Equal<typeof total, { total: number }>>();
  // @ts-expect-error: the result of 'sum' is a number, not a string
  const wrong: string = await tasker.waitForTaskOutputData(sumId);
  void wrong;

  // A plain string: the union of the map's results, or the type argument.
  const any = await tasker.waitForTaskOutputData(someUuid);
  expectType<Equal<typeof any, number | { bytes: number } | null | { total: number }>>();
  expectType<Equal<typeof any, TaskResultOf<Runners>>>();
  const asked = await tasker.waitForTaskOutputData<{ bytes: number }>(someUuid);
  expectType<Equal<typeof asked, { bytes: number }>>();

  // A stored uuid whose operation you know: cast it.
  const known = await tasker.waitForTaskOutputData(someUuid as TaskId<'resize'>);
  expectType<Equal<typeof known, { bytes: number }>>();
  // An id of either of two operations: either result.
  const either = await tasker.waitForTaskOutputData(someUuid as TaskId<'sum' | 'ping'>);
  expectType<Equal<typeof either, number | null>>();
}

export async function ids(): Promise<void> {
  const sumId = await tasker.addTask({ operation: 'sum', data: [1, 2] });
  // @ts-expect-error: the id of a 'sum' task is not the id of a 'resize' task
  const resizeId: TaskId<'resize'> = sumId;
  void resizeId;
  // @ts-expect-error: a plain string is not a TaskId
  const branded: TaskId<'sum'> = someUuid;
  void branded;
  const general: TaskId = sumId;
  const plain: string = sumId;
  void general;
  void plain;
  // Every method that takes a uuid takes a TaskId.
  await tasker.prioritizeTask(sumId, 5);
  await tasker.abortTask(sumId, 'no longer needed');
  await tasker.removeTask(sumId);
  for await (const log of tasker.listenTaskLogs(sumId)) void log;
}

export async function tasks(): Promise<void> {
  const sumId = await tasker.addTask({ operation: 'sum', data: [1, 2] });
  const task = await tasker.getTask(sumId, { withLogs: true });
  expectType<Equal<typeof task, Task<[number, number], number, 'sum'>>>();
  expectType<Equal<typeof task, TaskOf<Runners, 'sum'>>>();
  const pingTask = await tasker.getTask(await tasker.addTask({ operation: 'ping' }));
  expectType<Equal<typeof pingTask.data, { at?: string } | undefined>>();
  expectType<Equal<typeof pingTask.result, null | undefined>>();

  // A plain uuid: a union discriminated by `operation`.
  const found = await tasker.getTask(someUuid);
  expectType<Equal<typeof found, TaskOf<Runners>>>();
  if (found.operation === 'resize') expectType<Equal<typeof found.result, { bytes: number } | undefined>>();
  // @ts-expect-error: 'summ' is no operation of the map
  if (found.operation === 'summ') void found;
  const asked = await tasker.getTask<{ file: string }, { bytes: number }>(someUuid);
  expectType<Equal<typeof asked, Task<{ file: string }, { bytes: number }>>>();

  const all = await tasker.findTasks({ status: 'done' });
  expectType<Equal<typeof all, TaskOf<Runners>[]>>();
  const first = await tasker.findTask({ operation: 'sum' }, { sort: { createdAt: -1 } });
  expectType<Equal<typeof first, TaskOf<Runners> | undefined>>();
  const asFound = await tasker.findTasks<[number, number], number>({ operation: 'sum' });
  expectType<Equal<typeof asFound, Task<[number, number], number>[]>>();
}

/** An interface works as a map too, and a typed tasker passes where `Tasker<any>` is expected. */
interface InterfaceRunners {
  double: Runner<{ n: number }, number>;
}

export async function interfaces(): Promise<void> {
  const typed = new Tasker<InterfaceRunners>({ maxThreads: 1 });
  const result = await typed.waitForTaskOutputData(await typed.addTask({ operation: 'double', data: { n: 2 } }));
  expectType<Equal<typeof result, number>>();
  const anyTasker: Tasker<any> = typed;
  expectType<Equal<Awaited<ReturnType<typeof anyTasker.addTask>>, string>>();
  // @ts-expect-error: Tasker<{ n: string }> is not Tasker<InterfaceRunners>
  const other: Tasker<{ double: Runner<{ n: string }, number> }> = typed;
  void other;
}

// @ts-expect-error: a map whose values are not runners
export type NotAMap = Tasker<{ sum: number }>;


export async function updateTask(): Promise<void> {
  const id = await tasker.addTask({ operation: 'resize', data: { file: 'a.jpg' } });
  await tasker.updateTask(id, { data: { file: 'b.jpg', width: 320 }, priority: 2, retry: { attempts: 3 } });
  // @ts-expect-error: data of another operation, for a TaskId<'resize'>
  await tasker.updateTask(id, { data: [1, 2] });
  // @ts-expect-error: operation cannot change
  await tasker.updateTask(id, { operation: 'sum' });
  // A plain string: data of any operation of the map.
  await tasker.updateTask(someUuid, { data: [1, 2] });
  // @ts-expect-error: data of no operation of the map
  await tasker.updateTask(someUuid, { data: 'text' });
}
