/**
 * A follower of the tasks' lifecycle, called by the engine at a few points so
 * that features keeping their own indexes (retention, dedupe) stay out of the
 * engine: each keeps its index in step from these calls alone.
 */
import type { TaskRecord } from './registry.js';

export interface TaskObserver {
  /** The task entered the registry: its add is stored, or it was loaded from the store. */
  added(record: TaskRecord): void;
  /** The task's end is stored and announced, or it was loaded already ended. */
  ended(record: TaskRecord): void;
  /** The task left the registry (removeTask(s), retention). */
  removed(record: TaskRecord): void;
}
