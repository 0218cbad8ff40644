/**
 * The default store under `persistDir`: one JSON file, `tasks.json`, rewritten
 * atomically (temp file, fsync, rename, fsync of the directory) by
 * write-file-atomic. The committer in front of it batches every change made
 * while a write is in flight into the next write, so a burst of changes costs
 * one write. Each write costs O(stored tasks); see the README's persistence
 * section for what that means at scale.
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { ErrorCodes, TaskerError } from '../errors.js';
import { TRANSITIONS } from '../state-machine.js';
import type { LogEntry } from '../types.js';
import { decodeLog, decodeTask, encodeLog, encodeTask } from './task-codec.js';
import type { StoreChange, StoredTask, TaskStore } from './task-store.js';

export const STORE_FILE = 'tasks.json';
const FORMAT = 'tasker-store';
const VERSION = 1;

type Json = Record<string, unknown>;

function isTaskShape(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const json = raw as Json;
  if (typeof json['uuid'] !== 'string' || typeof json['operation'] !== 'string') return false;
  if (typeof json['status'] !== 'string' || !Object.hasOwn(TRANSITIONS, json['status'])) return false;
  if (typeof json['createdAt'] !== 'string') return false;
  const logs = json['logs'];
  if (logs === undefined) return true;
  return Array.isArray(logs) && logs.every((entry: unknown) => {
    const log = entry as Json;
    return typeof entry === 'object' && entry !== null && typeof log['level'] === 'string' &&
      typeof log['message'] === 'string' && typeof log['timestamp'] === 'string';
  });
}

export class JsonFileStore implements TaskStore {
  readonly #dir: string;
  readonly #file: string;
  /** Encoded documents and logs: the file's content, kept to rewrite it. */
  readonly #tasks = new Map<string, Json>();
  readonly #logs = new Map<string, Json[]>();

  constructor(dir: string) {
    this.#dir = dir;
    this.#file = join(dir, STORE_FILE);
  }

  async load(): Promise<StoredTask[]> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw this.#corrupt(`is not valid JSON (${(error as Error).message})`, error);
    }
    const root = parsed as { format?: unknown; version?: unknown; tasks?: unknown };
    if (typeof parsed !== 'object' || parsed === null || root.format !== FORMAT || !Array.isArray(root.tasks)) {
      throw this.#corrupt('is not a Tasker store file');
    }
    if (root.version !== VERSION) throw this.#corrupt(`has version ${String(root.version)}; this Tasker reads ${VERSION}`);
    const loaded: StoredTask[] = [];
    root.tasks.forEach((raw: unknown, index: number) => {
      const json = raw as Json & { logs?: unknown };
      if (!isTaskShape(raw)) throw this.#corrupt(`has a malformed task at tasks[${index}]`);
      const { logs = [], ...doc } = json;
      const encodedLogs = logs as Json[];
      this.#tasks.set(doc['uuid'] as string, doc);
      this.#logs.set(doc['uuid'] as string, encodedLogs);
      loaded.push({ task: decodeTask(doc), logs: encodedLogs.map(decodeLog) });
    });
    return loaded;
  }

  async commit(changes: readonly StoreChange[]): Promise<void> {
    for (const change of changes) {
      switch (change.type) {
        case 'put':
          this.#tasks.set(change.task.uuid, encodeTask(change.task));
          break;
        case 'logs':
          this.#appendLogs(change.uuid, change.entries);
          break;
        case 'remove':
          this.#tasks.delete(change.uuid);
          this.#logs.delete(change.uuid);
          break;
      }
    }
    const tasks: Json[] = [];
    for (const [uuid, doc] of this.#tasks) {
      const logs = this.#logs.get(uuid);
      tasks.push(logs !== undefined && logs.length > 0 ? { ...doc, logs } : doc);
    }
    await writeFileAtomic(this.#file, JSON.stringify({ format: FORMAT, version: VERSION, tasks }), { mode: 0o600 });
    await this.#syncDirectory();
  }

  async close(): Promise<void> {}

  #appendLogs(uuid: string, entries: LogEntry[]): void {
    let logs = this.#logs.get(uuid);
    if (logs === undefined) this.#logs.set(uuid, (logs = []));
    for (const entry of entries) logs.push(encodeLog(entry));
  }

  /** Makes the rename itself durable; write-file-atomic fsyncs the file, not its directory. */
  async #syncDirectory(): Promise<void> {
    const handle = await open(this.#dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  #corrupt(problem: string, cause?: unknown): TaskerError {
    return new TaskerError(ErrorCodes.STORE_CORRUPT, `Store file ${this.#file} ${problem}. It was left untouched; ` +
      'move it aside to start with an empty store, or restore it from a backup.', { cause });
  }
}
