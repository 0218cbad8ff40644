import type { EventEmitter } from 'node:events';
import type { Tasker, TaskerEvents } from 'tasker';

/** Resolves with the arguments of the next `name` event. */
export function nextEvent<K extends keyof TaskerEvents & string>(tasker: Tasker, name: K): Promise<TaskerEvents[K]> {
  return new Promise((resolve) => (tasker as unknown as EventEmitter).once(name, (...args: unknown[]) => resolve(args as TaskerEvents[K])));
}

/** Records the given events (name and arguments) in emission order. */
export function recordEvents(tasker: Tasker, names: readonly string[]): Array<[string, ...unknown[]]> {
  const seen: Array<[string, ...unknown[]]> = [];
  const emitter = tasker as unknown as EventEmitter;
  for (const name of names) emitter.on(name, (...args: unknown[]) => seen.push([name, ...args]));
  return seen;
}
