export { Tasker } from './tasker.js';
export { defineRunner } from './define-runner.js';
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
export type { RetryInfo, TaskerEvents, TaskerEventName } from './events.js';
export type { TaskerOptions } from './options.js';
export { DEFAULT_ABORT_GRACE_MS, DEFAULT_MAX_LOGS_PER_TASK } from './options.js';
export type { Clock } from './clock.js';
export type { ResourceLimits } from './resource-limits.js';
export type { RetentionOptions, TaskRetention } from './retention-options.js';
export type { DedupeMode, DedupeOptions } from './dedupe-options.js';
export type { RunnerOptions } from './runner-spec.js';
export type { HistogramSummary, TaskerStats } from './stats.js';
export type { LiveTask, StoreChange, StoreStateSource, StoredTask, TaskDoc, TaskStore } from './store/task-store.js';
export {
  LOG_LEVELS,
  type AddTaskDef,
  type Attempt,
  type AnyRunner,
  type ConcurrencyCondition,
  type EndedTaskStatus,
  type EngineLogger,
  type FindManyOptions,
  type FindOptions,
  type InterruptedPolicy,
  type JsonValue,
  type ListenLogsOptions,
  type ListenProgressOptions,
  type LogEntry,
  type LogLevel,
  type OperationOf,
  type OperationOfId,
  type Progress,
  type ProgressValue,
  type RetrieveOptions,
  type RetryBackoff,
  type RetryOutcome,
  type RetryPolicy,
  type RetryPredicate,
  type Runner,
  type RunnerContext,
  type RunnerData,
  type RunnerMapOf,
  type RunnerOf,
  type RunnerResult,
  type RunnerSpec,
  type StopOptions,
  type StopPolicy,
  type StoredRetryPolicy,
  type Task,
  type TaskPatch,
  type TaskDataOf,
  type TaskDefOf,
  type TaskId,
  type TaskIdOf,
  type TaskLogger,
  type TaskOf,
  type TaskProjection,
  type TaskQuery,
  type TaskResultOf,
  type TaskSort,
  type TaskStatus,
  type UntypedRunners,
} from './types.js';
