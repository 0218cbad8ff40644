/**
 * The events of a Tasker, typed. Names follow the original Tasker: a general
 * event carrying the uuid (`task.done`) and a per-task one (`task.<uuid>.done`).
 * For one transition the specific event (`task.done`, `task.<uuid>.done`) comes
 * before `task.ended` and `task.<uuid>.ended`, and all of them are emitted after
 * the change is stored.
 */
import type { SerializedError } from './errors.js';
import type { AddTaskDef, EndedTaskStatus, JsonValue, LogEntry } from './types.js';

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
  [prioritized: `task.${string}.prioritized`]: [priority: number];
  [run: `task.${string}.run`]: [];
  [log: `task.${string}.log`]: [log: LogEntry];
  [done: `task.${string}.done`]: [result: JsonValue];
  [failed: `task.${string}.failed`]: [error: SerializedError | JsonValue];
  [aborted: `task.${string}.aborted`]: [reason: SerializedError];
  [ended: `task.${string}.ended`]: [status: EndedTaskStatus, outcome: JsonValue | SerializedError];
}

export type TaskerEventName = keyof TaskerEvents;
