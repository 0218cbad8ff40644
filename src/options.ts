/**
 * Options of `new Tasker(options)`, their defaults, and their validation.
 * A malformed option throws at construction, naming the option.
 */
import { describeValue } from './describe.js';
import { availableParallelism } from 'node:os';
import { systemClock, type Clock } from './clock.js';
import { ErrorCodes } from './errors.js';
import type { ConcurrencyCondition, EngineLogger, InterruptedPolicy } from './types.js';
import { concurrency as validateConditions, interruptedPolicy } from './task-definition.js';
import type { TaskStore } from './store/task-store.js';
import { validateResourceLimits, type ResourceLimits } from './resource-limits.js';
import { validateRetentionOption, type RetentionOptions, type RetentionPolicy } from './retention-options.js';

/** What `new Tasker(options)` accepts; every option is optional. See README → `new Tasker(options?)`. */
export interface TaskerOptions {
  /** Directory of the JSON store. Omitted or `null`: tasks live in memory only. */
  persistDir?: string | null;
  /** Worker threads, and so the most tasks running at once. Default `os.availableParallelism()`. */
  maxThreads?: number;
  /**
   * Milliseconds a running task gets, after its abort signal fires, to settle
   * before its worker thread is terminated. Default 1000. Per task: `addTask({ abortGraceMs })`.
   */
  abortGraceMs?: number;
  /** Most log entries kept per task; more are counted in `logsDropped`. Default 10 000. */
  maxLogsPerTask?: number;
  /** Console-compatible logger for the engine's own diagnostics. Default: none. */
  logger?: EngineLogger;
  /** Time source, for tests. Default: the system clock. */
  clock?: Clock;
  /** A custom store (advanced; overrides `persistDir`). */
  store?: TaskStore;
  /**
   * With `persistDir`: `'fsync'` (default) acknowledges a change once it is on
   * disk; `'none'` once the OS has it (faster; a power loss can lose the last moments).
   */
  durability?: 'fsync' | 'none';
  /**
   * Memory limits of the worker threads (heap sizes, stack), for every runner
   * that does not set its own in `assignRunner`. A runner over its limit ends
   * `failed` with `ERR_WORKER_OUT_OF_MEMORY`. Default: Node's defaults.
   */
  resourceLimits?: ResourceLimits;
  /** Conditions every task must meet to start, in addition to its own and its runner's ("global runConditions"). */
  concurrency?: ConcurrencyCondition[];
  /**
   * At start-up, what happens to tasks that were running when the process
   * died: `'abort'` (default; `ERR_TASK_INTERRUPTED`) or `'requeue'` (run
   * again; the interrupted run counts as an attempt). Per task or runner: `onInterrupted`.
   */
  onInterrupted?: InterruptedPolicy;
  /**
   * Removal of ended tasks: older than `maxAge` ms (from `endedAt`), and/or
   * beyond the newest `maxCount` per status; swept every `interval` ms
   * (default 60 000) while started. Default: ended tasks are kept.
   */
  retention?: RetentionOptions;
  /**
   * `addTask` for an operation with no runner: `'reject'` (default) rejects with
   * ERR_RUNNER_NOT_ASSIGNED; `'queue'` stores the task, which waits for
   * `assignRunner`. Tasks loaded from the store always wait.
   */
  onMissingRunner?: 'reject' | 'queue';
}

export interface ResolvedOptions {
  persistDir: string | null;
  maxThreads: number;
  abortGraceMs: number;
  maxLogsPerTask: number;
  logger: EngineLogger | null;
  clock: Clock;
  store: TaskStore | null;
  durability: 'fsync' | 'none';
  resourceLimits: ResourceLimits | null;
  concurrency: ConcurrencyCondition[];
  onInterrupted: InterruptedPolicy;
  retention: RetentionPolicy | null;
  onMissingRunner: 'reject' | 'queue';
}

/** The default `abortGraceMs`: 1000 ms between an abort's signal and the thread's termination. */
export const DEFAULT_ABORT_GRACE_MS = 1000;
/** The default `maxLogsPerTask`: 10 000 entries kept per task. */
export const DEFAULT_MAX_LOGS_PER_TASK = 10_000;

const KNOWN = new Set([
  'persistDir', 'maxThreads', 'abortGraceMs', 'maxLogsPerTask', 'logger', 'clock', 'store', 'durability', 'resourceLimits', 'concurrency', 'onInterrupted',
  'retention', 'onMissingRunner',
]);

export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid(TypeError, 'Tasker options must be an object');
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw invalid(TypeError, `options.${key} is not a Tasker option`);
  }
  const persistDir = o['persistDir'] ?? null;
  if (persistDir !== null && (typeof persistDir !== 'string' || persistDir.length === 0)) {
    throw invalid(TypeError, 'options.persistDir must be a non-empty string or null');
  }
  return {
    persistDir: persistDir as string | null,
    maxThreads: positiveInteger(o['maxThreads'], 'maxThreads', availableParallelism()),
    abortGraceMs: nonNegativeMs(o['abortGraceMs'], 'options.abortGraceMs', DEFAULT_ABORT_GRACE_MS),
    maxLogsPerTask: nonNegativeInteger(o['maxLogsPerTask'], 'maxLogsPerTask', DEFAULT_MAX_LOGS_PER_TASK),
    logger: logger(o['logger']),
    clock: clock(o['clock']),
    store: store(o['store']),
    durability: durability(o['durability']),
    resourceLimits: o['resourceLimits'] === undefined ? null : validateResourceLimits(o['resourceLimits'], 'options.resourceLimits', 'option'),
    concurrency: globalConditions(o['concurrency']),
    onInterrupted: o['onInterrupted'] === undefined ? 'abort' : interruptedPolicy(o['onInterrupted'], 'options.onInterrupted', (m) => invalid(TypeError, m)),
    retention: o['retention'] === undefined ? null : validateRetentionOption(o['retention']),
    onMissingRunner: onMissingRunner(o['onMissingRunner']),
  };
}

function invalid<E extends TypeErrorConstructor | RangeErrorConstructor>(Kind: E, message: string): Error {
  const error = new Kind(message);
  (error as Error & { code: string }).code = ErrorCodes.INVALID_OPTION;
  return error;
}

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw invalid(TypeError, `options.${name} must be a number`);
  if (!Number.isInteger(value) || value < 1) throw invalid(RangeError, `options.${name} must be an integer >= 1, got ${value}`);
  return value;
}

function nonNegativeInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw invalid(TypeError, `options.${name} must be a number`);
  if (!Number.isInteger(value) || value < 0) throw invalid(RangeError, `options.${name} must be an integer >= 0, got ${value}`);
  return value;
}

/** A duration in ms: finite, >= 0, and small enough for setTimeout. */
export function nonNegativeMs(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) throw invalid(TypeError, `${name} must be a number`);
  if (!Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    throw invalid(RangeError, `${name} must be between 0 and ${MAX_TIMER_MS} ms, got ${value}`);
  }
  return value;
}

/** The largest delay `setTimeout` honours (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

function durability(value: unknown): 'fsync' | 'none' {
  if (value === undefined) return 'fsync';
  if (value !== 'fsync' && value !== 'none') throw invalid(TypeError, `options.durability must be 'fsync' or 'none', got ${describeValue(value)}`);
  return value;
}

function onMissingRunner(value: unknown): 'reject' | 'queue' {
  if (value === undefined) return 'reject';
  if (value !== 'reject' && value !== 'queue') throw invalid(TypeError, `options.onMissingRunner must be 'reject' or 'queue', got ${describeValue(value)}`);
  return value;
}

function logger(value: unknown): EngineLogger | null {
  if (value === undefined || value === null) return null;
  const candidate = value as Record<string, unknown>;
  for (const method of ['error', 'warn', 'info', 'debug']) {
    if (typeof candidate[method] !== 'function') {
      throw invalid(TypeError, `options.logger must be console-compatible: logger.${method} is not a function`);
    }
  }
  return value as EngineLogger;
}

function clock(value: unknown): Clock {
  if (value === undefined) return systemClock;
  const candidate = value as Record<string, unknown>;
  for (const method of ['now', 'setTimeout', 'clearTimeout']) {
    if (typeof candidate?.[method] !== 'function') throw invalid(TypeError, `options.clock.${method} must be a function`);
  }
  return value as Clock;
}

function store(value: unknown): TaskStore | null {
  if (value === undefined || value === null) return null;
  const candidate = value as Record<string, unknown>;
  for (const method of ['load', 'commit', 'close']) {
    if (typeof candidate?.[method] !== 'function') throw invalid(TypeError, `options.store.${method} must be a function`);
  }
  return value as TaskStore;
}


function globalConditions(value: unknown): ConcurrencyCondition[] {
  if (value === undefined) return [];
  try {
    return validateConditions(value);
  } catch (error) {
    throw invalid(TypeError, `options.${(error as Error).message}`);
  }
}
