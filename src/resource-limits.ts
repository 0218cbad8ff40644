/**
 * Memory limits of worker threads (`worker_threads` resourceLimits). piscina
 * applies them per pool, so the engine keeps one pool per distinct profile.
 */
import type { ResourceLimits as WorkerResourceLimits } from 'node:worker_threads';
import { ErrorCodes, TaskerError } from './errors.js';

/** Memory limits of worker threads, in MB: `maxOldGenerationSizeMb`, `maxYoungGenerationSizeMb`, `codeRangeSizeMb`, `stackSizeMb`. */
export type ResourceLimits = WorkerResourceLimits;

const KEYS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const;

/** Validates limits given by the caller; `label` names them in errors. */
export function validateResourceLimits(value: unknown, label: string, code: 'option' | 'runner'): ResourceLimits {
  const fail = (message: string): Error => {
    if (code === 'runner') return new TaskerError(ErrorCodes.INVALID_RUNNER, message);
    const error = new TypeError(message);
    (error as TypeError & { code: string }).code = ErrorCodes.INVALID_OPTION;
    return error;
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(`${label} must be an object`);
  const limits: ResourceLimits = {};
  for (const [key, limit] of Object.entries(value)) {
    if (!(KEYS as readonly string[]).includes(key)) throw fail(`${label}.${key} is not a resource limit (${KEYS.join(', ')})`);
    if (typeof limit !== 'number' || !Number.isFinite(limit) || limit <= 0) throw fail(`${label}.${key} must be a positive number of MB`);
    limits[key as (typeof KEYS)[number]] = limit;
  }
  return limits;
}

/** A stable key for a profile: runners with equal limits share a pool. */
export function profileKey(limits: ResourceLimits | null): string {
  if (limits === null) return 'default';
  return JSON.stringify(KEYS.filter((key) => limits[key] !== undefined).map((key) => [key, limits[key]]));
}
