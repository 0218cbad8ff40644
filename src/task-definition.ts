/**
 * Validation of `addTask` definitions at the public boundary. A malformed
 * definition rejects with `ERR_INVALID_TASK` naming the field (and the path
 * inside `data`/`id`); nothing reaches the registry or the store.
 */
import { describeValue } from './describe.js';
import { ErrorCodes, TaskerError } from './errors.js';
import { copyJsonValue, JsonValueError, type JsonValue } from './json-value.js';
import { MAX_TIMER_MS } from './options.js';
import { compileQuery } from './query.js';
import { RetryPolicyError, validateRetryPolicy, type StoredRetryPolicy } from './retry.js';
import { validateDedupe, type ValidDedupe } from './dedupe-options.js';
import { validateTaskRetention, type TaskRetention } from './retention-options.js';
import type { AddTaskDef, ConcurrencyCondition, InterruptedPolicy, StopPolicy } from './types.js';

export interface ValidTaskDef {
  operation: string;
  data?: JsonValue;
  id?: JsonValue;
  priority: number;
  concurrency?: ConcurrencyCondition[];
  runTimeout?: number;
  abortGraceMs?: number;
  maxLogs?: number;
  abortSignal?: AbortSignal;
  retry?: StoredRetryPolicy;
  queueTimeout?: number;
  onTaskerStop?: StopPolicy;
  onInterrupted?: InterruptedPolicy;
  retention?: TaskRetention;
  dedupe?: ValidDedupe;
}

/** A validated `updateTask` patch: the stored fields it sets. */
export type ValidTaskPatch = Partial<Omit<ValidTaskDef, 'operation' | 'abortSignal' | 'retention' | 'dedupe'>>;

/** The fields `updateTask` may change: those stored with a task that only matter before it runs or when it runs. */
export const PATCHABLE_FIELDS = [
  'data', 'id', 'priority', 'concurrency', 'runTimeout', 'abortGraceMs', 'maxLogs', 'retry', 'queueTimeout', 'onTaskerStop', 'onInterrupted',
] as const;

const KNOWN = new Set<string>(['operation', 'abortSignal', 'retention', 'dedupe', ...PATCHABLE_FIELDS]);
const PATCHABLE = new Set<string>(PATCHABLE_FIELDS);

function invalid(message: string, cause?: unknown): TaskerError {
  return new TaskerError(ErrorCodes.INVALID_TASK, message, cause === undefined ? undefined : { cause });
}

export function validateTaskDef(def: unknown): ValidTaskDef {
  if (typeof def !== 'object' || def === null || Array.isArray(def)) throw invalid('The task definition must be an object');
  const d = def as AddTaskDef;
  for (const key of Object.keys(d)) {
    if (!KNOWN.has(key)) throw invalid(`${key} is not a task field`);
  }
  if (typeof d.operation !== 'string' || d.operation.length === 0) throw invalid('operation must be a non-empty string');
  const valid: ValidTaskDef = { operation: d.operation, priority: priority(d.priority), ...validateFields(d) };
  if (d.retention !== undefined) valid.retention = validateTaskRetention(d.retention);
  if (d.dedupe !== undefined) valid.dedupe = validateDedupe(d.dedupe);
  if (d.abortSignal !== undefined) {
    if (!(d.abortSignal instanceof AbortSignal)) throw invalid('abortSignal must be an AbortSignal');
    valid.abortSignal = d.abortSignal;
  }
  return valid;
}

/** Validates an `updateTask` patch: an object of patchable fields. */
export function validateTaskPatch(patch: unknown): ValidTaskPatch {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw invalid('The patch must be an object');
  const keys = Object.keys(patch);
  for (const key of keys) {
    if (!PATCHABLE.has(key)) throw invalid(`${key} cannot be changed by updateTask; it may change ${PATCHABLE_FIELDS.join(', ')}`);
  }
  if (keys.length === 0) throw invalid('The patch is empty');
  const valid: ValidTaskPatch = validateFields(patch as AddTaskDef);
  if ((patch as AddTaskDef).priority !== undefined) valid.priority = priority((patch as AddTaskDef).priority);
  if (Object.keys(valid).length === 0) throw invalid('The patch sets no field (undefined values are ignored)');
  // In the caller's order, which `task.updated` reports.
  return Object.fromEntries(keys.filter((key) => key in valid).map((key) => [key, valid[key as keyof ValidTaskPatch]])) as ValidTaskPatch;
}

/** The optional stored fields shared by a definition and a patch (priority aside). */
export function validateFields(d: Partial<AddTaskDef>): ValidTaskPatch {
  const valid: ValidTaskPatch = {};
  if (d.data !== undefined) valid.data = json(d.data, 'data');
  if (d.id !== undefined) valid.id = json(d.id, 'id');
  if (d.concurrency !== undefined) valid.concurrency = concurrency(d.concurrency);
  if (d.runTimeout !== undefined) valid.runTimeout = duration(d.runTimeout, 'runTimeout', false);
  if (d.abortGraceMs !== undefined) valid.abortGraceMs = duration(d.abortGraceMs, 'abortGraceMs', true);
  if (d.maxLogs !== undefined) {
    if (typeof d.maxLogs !== 'number' || !Number.isInteger(d.maxLogs) || d.maxLogs < 0) {
      throw invalid(`maxLogs must be an integer >= 0, got ${describeValue(d.maxLogs)}`);
    }
    valid.maxLogs = d.maxLogs;
  }
  if (d.retry !== undefined) {
    try {
      valid.retry = validateRetryPolicy(d.retry, 'retry', false) as StoredRetryPolicy;
    } catch (error) {
      if (error instanceof RetryPolicyError) throw invalid(error.message);
      throw error;
    }
  }
  if (d.queueTimeout !== undefined) valid.queueTimeout = duration(d.queueTimeout, 'queueTimeout', false);
  if (d.onTaskerStop !== undefined) valid.onTaskerStop = stopPolicy(d.onTaskerStop, 'onTaskerStop');
  if (d.onInterrupted !== undefined) valid.onInterrupted = interruptedPolicy(d.onInterrupted, 'onInterrupted', invalid);
  return valid;
}

function stopPolicy(value: unknown, path: string): StopPolicy {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${path} must be an object { running?, queued? }`);
  const policy: StopPolicy = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'running') {
      if (v !== 'abort' && v !== 'wait' && v !== 'requeue') throw invalid(`${path}.running must be 'abort', 'wait' or 'requeue', got ${describeValue(v)}`);
      policy.running = v;
    } else if (key === 'queued') {
      if (v !== 'keep' && v !== 'abort') throw invalid(`${path}.queued must be 'keep' or 'abort', got ${describeValue(v)}`);
      policy.queued = v;
    } else {
      throw invalid(`${path}.${key} is not a stop policy field`);
    }
  }
  return policy;
}

export function interruptedPolicy(value: unknown, path: string, fail: (message: string) => Error): InterruptedPolicy {
  if (value !== 'abort' && value !== 'requeue') throw fail(`${path} must be 'abort' or 'requeue', got ${describeValue(value)}`);
  return value;
}

export function priority(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || Number.isNaN(value)) throw invalid(`priority must be a number (Infinity allowed), got ${describeValue(value)}`);
  return value;
}

function json(value: unknown, path: string): JsonValue {
  try {
    return copyJsonValue(value, path);
  } catch (error) {
    if (error instanceof JsonValueError) throw invalid(`${error.message}; task fields must be JSON-compatible`, error);
    throw error;
  }
}

function duration(value: unknown, name: string, zeroAllowed: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0) || value > MAX_TIMER_MS) {
    throw invalid(`${name} must be a ${zeroAllowed ? 'non-negative' : 'positive'} number of ms up to ${MAX_TIMER_MS}, got ${describeValue(value)}`);
  }
  return value;
}

export function concurrency(value: unknown): ConcurrencyCondition[] {
  if (!Array.isArray(value)) throw invalid('concurrency must be an array of { scope, query, limit }');
  // Array.from visits holes too (as undefined), where map would skip them.
  return Array.from(value as unknown[], (raw: unknown, index) => {
    const path = `concurrency[${index}]`;
    const c = raw as Partial<ConcurrencyCondition>;
    if (typeof raw !== 'object' || raw === null) throw invalid(`${path} must be an object { scope, query, limit }`);
    for (const key of Object.keys(c)) {
      if (key !== 'scope' && key !== 'query' && key !== 'limit') throw invalid(`${path}.${key} is not a condition field`);
    }
    if (c.scope !== 'running' && c.scope !== 'before-queued') throw invalid(`${path}.scope must be 'running' or 'before-queued'`);
    if (typeof c.limit !== 'number' || !Number.isInteger(c.limit) || c.limit < 1) {
      throw invalid(`${path}.limit must be an integer >= 1, got ${describeValue(c.limit)}`);
    }
    const query = json(c.query, `${path}.query`);
    try {
      compileQuery(query, `${path}.query`);
    } catch (error) {
      throw invalid((error as Error).message, error);
    }
    return { scope: c.scope, query: query as Record<string, unknown>, limit: c.limit };
  });
}
