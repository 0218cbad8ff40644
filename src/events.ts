/**
 * The events of a Tasker, typed. Names follow the original Tasker: a general
 * event carrying the uuid (`task.done`) and a per-task one (`task.<uuid>.done`).
 * For one transition the specific event (`task.done`, `task.<uuid>.done`) comes
 * before `task.ended` and `task.<uuid>.ended`, and all of them are emitted after
 * the change is stored.
 */
import type { SerializedError } from './errors.js';
import type { AddTaskDef, EndedTaskStatus, JsonValue, LogEntry, Progress } from './types.js';

/** What `task.retry` carries: the number of the coming run, when it may start, and the error of the failed one. */
export interface RetryInfo {
  attempt: number;
  runAfter: Date;
  error: SerializedError | JsonValue;
}

/** Every event of a Tasker, with its arguments: the map behind the typed `on`/`once`/`off`. */
export interface TaskerEvents {
  /** `start()` began dispatching. */
  started: [];
  /** `stop()` finished: running tasks settled, store flushed, threads closed. */
  stopped: [];
  /** Nothing is running and nothing runnable is queued (or the tasker is stopped). */
  idle: [];
  /** `addTask` accepted a definition (valid, not a duplicate); emitted before the task is stored. */
  'task.add': [def: AddTaskDef];
  /** The task is stored. */
  'task.added': [uuid: string];
  'task.prioritized': [uuid: string, priority: number];
  'task.run': [uuid: string];
  'task.log': [uuid: string, log: LogEntry];
  /**
   * A running task's progress arrived (at most one per ~100 ms per task, and
   * the last one before its end). Emitted after what was stored before it
   * (its earlier logs), before the task's end; the progress itself is stored
   * at most every second, or with the task's next change.
   */
  'task.progress': [uuid: string, progress: Progress];
  'task.done': [uuid: string, result: JsonValue];
  'task.failed': [uuid: string, error: SerializedError | JsonValue];
  'task.aborted': [uuid: string, reason: SerializedError];
  'task.ended': [uuid: string, status: EndedTaskStatus, outcome: JsonValue | SerializedError];
  /**
   * `start()` found `new` tasks whose operation has no runner (they wait for
   * `assignRunner`): their operations, sorted. Also reported to `logger.warn`.
   */
  'runners.missing': [operations: string[]];
  /** An ended task was removed (`removeTask`/`removeTasks`), with its logs. */
  'task.removed': [uuid: string];
  /** A failed (or timed-out) run will be retried: the task is `new` again, same uuid. */
  'task.retry': [uuid: string, retry: RetryInfo];
  /** A running task went back to `new` without failing: a stop's or `postponeTask`'s requeue, or an interrupted run requeued at start-up. */
  'task.requeued': [uuid: string, reason: SerializedError];
  /** `postponeTask` moved a `new` task behind the others of its priority. */
  'task.postponed': [uuid: string];
  /** `updateTask` changed these fields of a `new` task. */
  'task.updated': [uuid: string, fields: string[]];
  [prioritized: `task.${string}.prioritized`]: [priority: number];
  [run: `task.${string}.run`]: [];
  [log: `task.${string}.log`]: [log: LogEntry];
  [progress: `task.${string}.progress`]: [progress: Progress];
  [done: `task.${string}.done`]: [result: JsonValue];
  [failed: `task.${string}.failed`]: [error: SerializedError | JsonValue];
  [aborted: `task.${string}.aborted`]: [reason: SerializedError];
  [ended: `task.${string}.ended`]: [status: EndedTaskStatus, outcome: JsonValue | SerializedError];
  [retry: `task.${string}.retry`]: [retry: RetryInfo];
  [requeued: `task.${string}.requeued`]: [reason: SerializedError];
  [postponed: `task.${string}.postponed`]: [];
  [updated: `task.${string}.updated`]: [fields: string[]];
}

/** The name of any Tasker event, per-task names (`task.<uuid>.done`) included. */
export type TaskerEventName = keyof TaskerEvents;

/** The kinds of per-task events: `task.<uuid>.<kind>`. */
export type TaskEventKind = 'prioritized' | 'run' | 'log' | 'progress' | 'done' | 'failed' | 'aborted' | 'ended' | 'retry' | 'requeued' | 'postponed' | 'updated';

/** Whether `name` is a per-task event's (`task.<uuid>.<kind>`; a uuid has no dot, a general name has one). */
export function isTaskEventName(name: string | symbol): boolean {
  return typeof name === 'string' && name.startsWith('task.') && name.indexOf('.', 5) !== -1;
}
