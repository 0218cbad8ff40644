export { Tasker } from './tasker.js';
export {
  AbortCodes,
  AbortError,
  DuplicateTaskError,
  ErrorCodes,
  TaskAbortedError,
  TaskFailedError,
  TaskerError,
  type AbortCode,
  type ErrorCode,
  type SerializedError,
} from './errors.js';
export type { TaskerEvents, TaskerEventName } from './events.js';
export type { TaskerOptions } from './options.js';
export { DEFAULT_ABORT_GRACE_MS, DEFAULT_MAX_LOGS_PER_TASK } from './options.js';
export type { Clock } from './clock.js';
export type { ResourceLimits } from './resource-limits.js';
export type { RetentionOptions, TaskRetention } from './retention-options.js';
export type { DedupeMode, DedupeOptions } from './dedupe-options.js';
export type { RunnerOptions } from './runner-spec.js';
export type { StoreChange, StoredTask, TaskDoc, TaskStore } from './store/task-store.js';
export {
  LOG_LEVELS,
  type AddTaskDef,
  type ConcurrencyCondition,
  type EndedTaskStatus,
  type EngineLogger,
  type FindManyOptions,
  type FindOptions,
  type JsonValue,
  type ListenLogsOptions,
  type LogEntry,
  type LogLevel,
  type RetrieveOptions,
  type Runner,
  type RunnerContext,
  type RunnerSpec,
  type Task,
  type TaskLogger,
  type TaskQuery,
  type TaskSort,
  type TaskStatus,
} from './types.js';
