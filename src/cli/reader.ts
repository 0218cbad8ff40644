/**
 * Reads a store for the CLI, read-only and while its owner may be writing it:
 * the store's own reader (store-reader.ts) and codec, plus what a live store
 * needs: a compaction that completes during the read (the snapshot's
 * generation changed, or a journal vanished) makes it read again.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ErrorCodes, TaskerError } from '../errors.js';
import { decodeLog, decodeTask } from '../store/task-codec.js';
import { JOURNAL_NAME, SNAPSHOT_FILE, readSnapshotGeneration, readStoreContents, type StoreContents } from '../store/store-reader.js';
import type { LogEntry, Task } from '../types.js';
import { CliError, ExitCodes } from './errors.js';

/** A task as the CLI shows it: the document with all its logs. */
export type StoredTaskView = Task & { logs: LogEntry[] };

export interface StoreView {
  dir: string;
  /** In store order. */
  tasks: StoredTaskView[];
  /** Where a reader tailing the newest journal goes on. */
  position: { generation: number; bytes: number };
}

const ATTEMPTS = 20;

export async function readStore(dirArgument: string): Promise<StoreView> {
  const dir = resolve(dirArgument);
  await checkDirectory(dir);
  for (let attempt = 1; ; attempt++) {
    let contents: StoreContents;
    try {
      contents = await readStoreContents(dir);
      // A compaction completed meanwhile: the journals read may not match the snapshot read.
      if ((await readSnapshotGeneration(dir)) !== contents.generation) throw Object.assign(new Error('changed'), { code: 'ECHANGED' });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOENT: a journal listed was deleted by a compaction before it was read.
      if ((code === 'ECHANGED' || code === 'ENOENT') && attempt < ATTEMPTS) continue;
      throw storeError(dir, error);
    }
    if (!contents.names.some((name) => name === SNAPSHOT_FILE || JOURNAL_NAME.test(name))) {
      throw new CliError(ExitCodes.STORE, `${dir} is not a Tasker store: it has no ${SNAPSHOT_FILE} and no journal-<G>.jsonl.`);
    }
    const tasks: StoredTaskView[] = [];
    for (const { task, logs } of contents.tasks.values()) {
      const view = decodeTask(task) as StoredTaskView;
      view.logs = logs.map(decodeLog);
      tasks.push(view);
    }
    return { dir, tasks, position: { generation: contents.last, bytes: contents.lastJournalBytes } };
  }
}

async function checkDirectory(dir: string): Promise<void> {
  let stats;
  try {
    stats = await stat(dir);
  } catch (error) {
    throw storeError(dir, error);
  }
  if (!stats.isDirectory()) throw new CliError(ExitCodes.STORE, `${dir} is not a directory.`);
}

/** Any failure to read the store, as exit code 3 with the library's message (ERR_STORE_CORRUPT names file and line). */
export function storeError(dir: string, error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof TaskerError && error.code === ErrorCodes.STORE_CORRUPT) {
    return new CliError(ExitCodes.STORE, `${error.code}: ${error.message}`, { cause: error });
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new CliError(ExitCodes.STORE, `${dir} does not exist.`, { cause: error });
  if (code === 'ECHANGED') return new CliError(ExitCodes.STORE, `${dir} kept changing while it was read; try again.`, { cause: error });
  return new CliError(ExitCodes.STORE, `Cannot read the store ${dir}: ${(error as Error).message}`, { cause: error });
}
