/**
 * Type tests of the promise coherence of Tasker's methods: every method of
 * its own returns a promise, except `assignRunner` (synchronous, throws) and
 * `listenTaskLogs` and `listenTaskProgress` (async iterators). A new method must be added to one of
 * the lists below, which makes its author decide. Checked by `npm run typecheck`.
 * The run-time side is test/integration/promise-coherence.test.ts.
 */
import type { EventEmitter } from 'node:events';
import type { LogEntry, Progress, Tasker, TaskerEvents } from 'tasker';
import { expectType, type Equal } from './assert-type.js';

type OwnMethods = Exclude<keyof Tasker, keyof EventEmitter<TaskerEvents>>;

export type AsyncMethods =
  | 'start'
  | 'stop'
  | 'close'
  | 'onIdle'
  | 'addTask'
  | 'abortTask'
  | 'updateTask'
  | 'postponeTask'
  | 'prioritizeTask'
  | 'removeTask'
  | 'removeTasks'
  | 'getTask'
  | 'hasTask'
  | 'countTasks'
  | 'findTask'
  | 'findTasks'
  | 'getStats'
  | 'waitForTaskOutputData';

expectType<Equal<OwnMethods, AsyncMethods | 'assignRunner' | 'listenTaskLogs' | 'listenTaskProgress'>>();
expectType<Equal<{ [K in AsyncMethods]: ReturnType<Tasker[K]> extends Promise<unknown> ? true : false }[AsyncMethods], true>>();
expectType<Equal<ReturnType<Tasker['assignRunner']>, void>>();
expectType<Equal<ReturnType<Tasker['listenTaskLogs']>, AsyncIterableIterator<LogEntry>>>();
expectType<Equal<ReturnType<Tasker['listenTaskProgress']>, AsyncIterableIterator<Progress>>>();
