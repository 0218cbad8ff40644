/**
 * Reads and writes the JournalStore's files directly (independently of its own
 * loader), so that tests can check what is on disk and craft crashed stores.
 * Layout: snapshot.json (header line, then {"task","logs"} lines) and
 * journal-<G>.jsonl ({"put"} | {"logs","entries"} | {"remove"} lines).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Json = Record<string, unknown>;

export interface StoredState {
  /** Encoded task documents by uuid (dates as ISO strings), as on disk. */
  tasks: Map<string, Json>;
  /** Encoded log entries by task uuid. */
  logs: Map<string, Json[]>;
}

/** Snapshot + journals replayed in order, as a crash-free load would see them. */
export function readStoreFiles(dir: string): StoredState {
  const state: StoredState = { tasks: new Map(), logs: new Map() };
  let generation = 0;
  const files = readdirSync(dir);
  if (files.includes('snapshot.json')) {
    const lines = readFileSync(join(dir, 'snapshot.json'), 'utf8').split('\n').filter((line) => line !== '');
    generation = (JSON.parse(lines[0]!) as { generation: number }).generation;
    for (const line of lines.slice(1)) {
      const { task, logs } = JSON.parse(line) as { task: Json; logs: Json[] };
      state.tasks.set(task['uuid'] as string, task);
      state.logs.set(task['uuid'] as string, logs);
    }
  }
  const journals = files
    .map((name) => /^journal-(\d+)\.jsonl$/.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]))
    .filter((g) => g >= generation)
    .sort((a, b) => a - b);
  for (const g of journals) {
    for (const line of readFileSync(join(dir, `journal-${g}.jsonl`), 'utf8').split('\n')) {
      if (line === '') continue;
      const record = JSON.parse(line) as Json;
      if ('put' in record) {
        const task = record['put'] as Json;
        state.tasks.set(task['uuid'] as string, task);
        if (!state.logs.has(task['uuid'] as string)) state.logs.set(task['uuid'] as string, []);
      } else if ('logs' in record) {
        state.logs.get(record['logs'] as string)?.push(...(record['entries'] as Json[]));
      } else if ('remove' in record) {
        state.tasks.delete(record['remove'] as string);
        state.logs.delete(record['remove'] as string);
      }
    }
  }
  return state;
}

/** Writes a store whose journal holds these encoded tasks (e.g. one left 'running' by a crash). */
export function writeStoreFiles(dir: string, tasks: Json[], logs: Record<string, Json[]> = {}): void {
  const lines = tasks.map((task) => JSON.stringify({ put: task }));
  for (const [uuid, entries] of Object.entries(logs)) lines.push(JSON.stringify({ logs: uuid, entries }));
  writeFileSync(join(dir, 'journal-0.jsonl'), lines.join('\n') + '\n', { mode: 0o600 });
}

/** The store's data files (snapshot and journals), without the lock. */
export function storeFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name === 'snapshot.json' || /^journal-\d+\.jsonl$/.test(name)).sort();
}
