// Runners for bench/abort-reuse.mjs, as named exports of one module so that a
// warm-up that runs `hold` on both threads has every runner loaded on both.
import { threadId } from 'node:worker_threads';
import { spin } from './cpu-spin-body.mjs';

/** A runaway `while (true)` loop: never yields, posts nothing. */
export function forever() {
  for (;;) {}
}

/** The trivial task run after the abort. */
export function addOne({ data }) {
  return data + 1;
}

/**
 * Keeps its thread busy for `data.ms` (two at once cannot share a thread).
 * Returns its thread and when it began, in epoch ms with sub-ms precision.
 */
export function hold({ data }) {
  const began = performance.timeOrigin + performance.now();
  spin(data.ms);
  return { threadId, began };
}
