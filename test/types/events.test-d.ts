/**
 * Type tests of the typed events (src/events.ts): names and listener
 * arguments. Checked by `npm run typecheck`, never run.
 */
import { Tasker, type EndedTaskStatus, type JsonValue, type LogEntry, type Progress, type Runner, type SerializedError, type TaskerEventName } from 'tasker';
import { expectType, type Assignable, type Equal } from './assert-type.js';

const tasker = new Tasker<{ sum: Runner<[number, number], number> }>();
declare const uuid: string;

export async function events(): Promise<void> {
  tasker.on('task.done', (id, result) => {
    expectType<Equal<typeof id, string>>();
    expectType<Equal<typeof result, JsonValue>>();
  });
  tasker.once('task.ended', (_id, status, outcome) => {
    expectType<Equal<typeof status, EndedTaskStatus>>();
    expectType<Equal<typeof outcome, JsonValue | SerializedError>>();
  });
  tasker.on(`task.${uuid}.log`, (log) => expectType<Equal<typeof log, LogEntry>>());
  tasker.on('task.progress', (id, progress) => {
    expectType<Equal<typeof id, string>>();
    expectType<Equal<typeof progress, Progress>>();
  });
  tasker.on(`task.${uuid}.progress`, (progress) => expectType<Equal<typeof progress, Progress>>());
  const id = await tasker.addTask({ operation: 'sum', data: [1, 2] });
  tasker.on(`task.${id}.done`, (result) => expectType<Equal<typeof result, JsonValue>>());
  tasker.off('idle', () => {});
  expectType<Assignable<'task.added' | `task.${string}.aborted`, TaskerEventName>>();

  // @ts-expect-error: a misspelt event name
  tasker.on('task.doen', () => {});
  // @ts-expect-error: a misspelt event name
  tasker.once('stoped', () => {});
  // @ts-expect-error: a misspelt per-task event
  tasker.on(`task.${uuid}.dun`, () => {});
  // @ts-expect-error: 'task.added' passes a uuid, a string
  tasker.on('task.added', (added: number) => void added);
}
