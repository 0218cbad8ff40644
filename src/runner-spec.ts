/**
 * Resolves what `assignRunner` is given into a module URL and an export name.
 * A runner runs in another thread, so it must be a module the thread can
 * import; a function object cannot cross the thread boundary.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ErrorCodes, TaskerError } from './errors.js';
import { validateResourceLimits, type ResourceLimits } from './resource-limits.js';
import { RetryPolicyError, validateRetryPolicy, type RetryPolicy } from './retry.js';
import { validateFields, type ValidTaskPatch } from './task-definition.js';
import type { ConcurrencyCondition, InterruptedPolicy, RunnerSpec, StopPolicy } from './types.js';

export interface ResolvedRunner {
  moduleUrl: string;
  exportName: string;
  /** Its own memory limits, or null for the tasker's. */
  resourceLimits: ResourceLimits | null;
  /** Defaults for its tasks (a task's own value wins; conditions add up). */
  defaults: RunnerDefaults;
}

export type RunnerDefaults = Omit<ValidTaskPatch, 'data' | 'id' | 'priority' | 'retry'> & { retry?: RetryPolicy };

/**
 * What `assignRunner(operation, runner, options)` accepts as options: memory
 * limits, and defaults for the operation's tasks (the seed's "task template").
 * They apply when a task runs, so tasks added before the runner was assigned,
 * or loaded from the store, get them too.
 */
export interface RunnerOptions {
  /** Memory limits for the threads running this runner (its own pool of threads). */
  resourceLimits?: ResourceLimits;
  /** Conditions every task of this operation must also meet (added to the task's own). */
  concurrency?: ConcurrencyCondition[];
  runTimeout?: number;
  abortGraceMs?: number;
  maxLogs?: number;
  /** The retry policy of tasks without their own; `retryOn` may be a predicate here. */
  retry?: RetryPolicy;
  queueTimeout?: number;
  onTaskerStop?: StopPolicy;
  onInterrupted?: InterruptedPolicy;
}

const RUNNER_OPTIONS = new Set([
  'resourceLimits', 'concurrency', 'runTimeout', 'abortGraceMs', 'maxLogs', 'retry', 'queueTimeout', 'onTaskerStop', 'onInterrupted',
]);

function invalid(message: string): TaskerError {
  return new TaskerError(ErrorCodes.INVALID_RUNNER, message);
}

export function resolveRunner(operation: string, spec: RunnerSpec | unknown, options: unknown = {}): ResolvedRunner {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid(`The options of the runner of '${operation}' must be an object`);
  }
  for (const key of Object.keys(options)) {
    if (!RUNNER_OPTIONS.has(key)) throw invalid(`The runner of '${operation}': ${key} is not a runner option`);
  }
  const { resourceLimits: limits, retry, ...taskDefaults } = options as RunnerOptions;
  const resourceLimits = limits === undefined ? null : validateResourceLimits(limits, `The runner of '${operation}': resourceLimits`, 'runner');
  let defaults: RunnerDefaults;
  try {
    defaults = validateFields(taskDefaults);
    if (retry !== undefined) defaults.retry = validateRetryPolicy(retry, 'retry', true);
  } catch (error) {
    if (error instanceof TaskerError || error instanceof RetryPolicyError) throw invalid(`The runner of '${operation}': ${error.message}`);
    throw error;
  }
  if (typeof spec === 'function') {
    throw invalid(
      `The runner of '${operation}' is a function. Runners run in worker threads, and a function cannot be moved to ` +
        `another thread: put it in a module (export default async (ctx) => result) and pass the module's path or URL.`,
    );
  }
  let module: unknown = spec;
  let exportName = 'default';
  if (typeof spec === 'object' && spec !== null && !(spec instanceof URL)) {
    const { module: specModule, export: specExport, ...rest } = spec as { module?: unknown; export?: unknown };
    const extra = Object.keys(rest);
    if (extra.length > 0) throw invalid(`The runner of '${operation}' has an unknown field '${extra[0]}'`);
    if (specExport !== undefined) {
      if (typeof specExport !== 'string' || specExport.length === 0) {
        throw invalid(`The runner of '${operation}': export must be a non-empty string`);
      }
      exportName = specExport;
    }
    module = specModule;
  }
  const url = toFileUrl(operation, module);
  if (!existsSync(fileURLToPath(url))) throw invalid(`The runner module of '${operation}' does not exist: ${fileURLToPath(url)}`);
  return { moduleUrl: url.href, exportName, resourceLimits, defaults };
}

function toFileUrl(operation: string, module: unknown): URL {
  if (module instanceof URL) {
    if (module.protocol !== 'file:') throw invalid(`The runner of '${operation}' must be a file: URL, got ${module.protocol}`);
    return module;
  }
  if (typeof module !== 'string' || module.length === 0) {
    throw invalid(`The runner of '${operation}' must be a module path, a file: URL, or { module, export }`);
  }
  if (module.startsWith('file:')) return new URL(module);
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !isAbsolute(module)) {
    throw invalid(`The runner of '${operation}' must be a file: URL, got ${module}`);
  }
  return pathToFileURL(isAbsolute(module) ? module : resolve(module));
}
