import type { StoreChange, StoredTask, TaskStore } from './task-store.js';

/**
 * The store used without `persistDir`: the registry's memory is the only copy,
 * so there is nothing to write and nothing to load.
 */
export class MemoryStore implements TaskStore {
  async load(): Promise<StoredTask[]> {
    return [];
  }

  async commit(_changes: readonly StoreChange[]): Promise<void> {}

  async close(): Promise<void> {}
}
