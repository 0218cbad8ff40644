/** Validation of `stop(options)`. */
import { describeValue } from './describe.js';
import { ErrorCodes, TaskerError } from './errors.js';
import { MAX_TIMER_MS } from './options.js';
import type { StopOptions } from './types.js';

export function validateStopOptions(options: unknown): StopOptions {
  if (options === undefined) return {};
  const fail = (message: string): never => {
    throw new TaskerError(ErrorCodes.INVALID_OPTION, `stop(options): ${message}`);
  };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) fail('options must be an object { running?, timeout? }');
  const valid: StopOptions = {};
  for (const [key, value] of Object.entries(options as object)) {
    if (key === 'running') {
      if (value !== 'abort' && value !== 'wait' && value !== 'requeue') fail(`running must be 'abort', 'wait' or 'requeue', got ${describeValue(value)}`);
      valid.running = value as StopOptions['running'] & string;
    } else if (key === 'timeout') {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
        fail(`timeout must be a number of ms from 0 to ${MAX_TIMER_MS}, got ${describeValue(value)}`);
      }
      valid.timeout = value as number;
    } else {
      fail(`${key} is not a stop option`);
    }
  }
  return valid;
}
