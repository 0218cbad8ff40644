/**
 * Type tests of `new Tasker()` without a type argument: as permissive as the
 * run time (any operation name, any data, checked when the task is added),
 * with JSON values out. Checked by `npm run typecheck`, never run.
 */
import { Tasker, type AddTaskDef, type JsonValue, type Task, type UntypedRunners } from 'tasker';
import { expectType, type Equal } from './assert-type.js';

const tasker = new Tasker({ maxThreads: 1 });
declare const operationName: string;

export async function untyped(): Promise<void> {
  expectType<Equal<typeof tasker, Tasker<UntypedRunners>>>();
  expectType<Equal<Tasker, Tasker<UntypedRunners>>>();
  tasker.assignRunner('anything', './runner.mjs');
  tasker.assignRunner(operationName, new URL('file:///runner.mjs'));

  // Any operation, any data: the run time refuses what is not JSON-compatible.
  let uuid = await tasker.addTask({ operation: 'resize', data: { file: 'a.jpg' } });
  expectType<Equal<typeof uuid, string>>();
  uuid = await tasker.addTask({ operation: operationName, data: { fn: () => 1 } });
  uuid = await tasker.addTask({ operation: 'none' });
  uuid = 'a uuid from somewhere else';
  const def: AddTaskDef = { operation: 'x', data: [1, 'two'], priority: 1 };
  await tasker.addTask(def);
  // @ts-expect-error: operation is still required
  await tasker.addTask({ data: 1 });
  // @ts-expect-error: a misspelt task field
  await tasker.addTask({ operation: 'x', priorty: 1 });

  const result = await tasker.waitForTaskOutputData(uuid);
  expectType<Equal<typeof result, JsonValue>>();
  const asked = await tasker.waitForTaskOutputData<{ at: Date }>(uuid);
  expectType<Equal<typeof asked, { at: Date }>>();
  const text = await tasker.waitForTaskOutputData<string>(uuid);
  expectType<Equal<typeof text, string>>();

  const task = await tasker.getTask(uuid);
  expectType<Equal<typeof task, Task<JsonValue, JsonValue>>>();
  expectType<Equal<Task, Task<JsonValue, JsonValue, string>>>();
  const typedTask = await tasker.getTask<{ file: string }, number>(uuid, { withLogs: true });
  expectType<Equal<typeof typedTask, Task<{ file: string }, number>>>();
  const tasks = await tasker.findTasks();
  expectType<Equal<typeof tasks, Task[]>>();
  const one = await tasker.findTask({ operation: 'resize' });
  expectType<Equal<typeof one, Task | undefined>>();
  const typedTasks = await tasker.findTasks<{ file: string }>({ operation: 'resize' });
  expectType<Equal<typeof typedTasks, Task<{ file: string }, JsonValue>[]>>();
}
