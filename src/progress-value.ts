/**
 * Validates what a runner passes to `ctx.progress(value, message?)` and
 * normalises it to the wire shape. Pure, so that the runner host (worker
 * side) can use it: an invalid value throws a TypeError in the runner, where
 * the mistake is.
 */
import type { WireProgress } from './protocol.js';

/** The progress without its time (the caller stamps it when it sends it). */
export function normaliseProgress(value: unknown, message: unknown): Omit<WireProgress, 'at'> {
  if (message !== undefined && typeof message !== 'string') {
    throw new TypeError(`ctx.progress(value, message): message must be a string or undefined, got ${typeof message}`);
  }
  let progress: Omit<WireProgress, 'at'>;
  if (typeof value === 'number') {
    if (!(value >= 0 && value <= 1)) throw new TypeError(`ctx.progress(value): a number must be between 0 and 1, got ${value}`);
    progress = { ratio: value };
  } else if (typeof value === 'object' && value !== null) {
    const { done, total } = value as { done?: unknown; total?: unknown };
    if (typeof done !== 'number' || !Number.isFinite(done) || done < 0) {
      throw new TypeError(`ctx.progress({ done, total }): done must be a finite number >= 0, got ${String(done)}`);
    }
    if (typeof total !== 'number' || !Number.isFinite(total) || total <= 0) {
      throw new TypeError(`ctx.progress({ done, total }): total must be a finite number > 0, got ${String(total)}`);
    }
    if (done > total) throw new TypeError(`ctx.progress({ done, total }): done (${done}) must not exceed total (${total})`);
    progress = { ratio: done / total, done, total };
  } else {
    throw new TypeError(`ctx.progress(value): value must be a number between 0 and 1 or { done, total }, got ${value === null ? 'null' : typeof value}`);
  }
  if (message !== undefined) progress.message = message;
  return progress;
}
