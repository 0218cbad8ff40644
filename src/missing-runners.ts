/**
 * At `start()`, the operations whose `new` tasks wait for a runner that was
 * never assigned (tasks loaded from the store, or added with
 * `onMissingRunner: 'queue'`). Silent waiting is the usual cause of "my tasks
 * never run", so it is reported: a warning to the logger and an event.
 */
import type { Emit } from './engine.js';
import type { EngineLogger } from './types.js';

export function reportMissingRunners(waiting: ReadonlyMap<string, ReadonlySet<unknown>>, logger: EngineLogger | null, emit: Emit): void {
  const operations = [...waiting].filter(([, tasks]) => tasks.size > 0).map(([operation]) => operation).sort();
  if (operations.length === 0) return;
  logger?.warn(`tasker: new tasks wait for a runner that is not assigned, for operation(s) ${operations.map((op) => `'${op}'`).join(', ')}; call assignRunner`);
  emit('runners.missing', operations);
}
