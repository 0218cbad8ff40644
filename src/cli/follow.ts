/**
 * Tails one task's changes in a live store by polling the journal files'
 * sizes (fs.watch is unreliable across platforms and file systems).
 *
 * It reads the newest journal from where the last read stopped, complete
 * lines only (an incomplete last line is a write in progress: read again next
 * time). A compaction starts journal G+1 (journal G is then final), rewrites
 * the snapshot and deletes journal G: the tailer finishes G if it still can
 * and moves on to G+1; if G vanished first, or anything looks odd (a file
 * shorter than what was read, a line that does not parse), it re-reads the
 * whole store and goes on from there, emitting only the entries it had not.
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeLog, decodeTask } from '../store/task-codec.js';
import { JOURNAL_NAME, journalFile, parseJournalLine } from '../store/store-reader.js';
import type { LogEntry, TaskStatus } from '../types.js';
import { readStore, storeError, type StoredTaskView } from './reader.js';

export const POLL_MS = 200;

export type FollowEnd = 'ended' | 'removed' | 'interrupted';

export interface FollowOptions {
  dir: string;
  uuid: string;
  /** The task as first read, and where that read stopped. */
  task: StoredTaskView;
  position: { generation: number; bytes: number };
  onLogs: (entries: LogEntry[]) => void;
  signal: AbortSignal;
}

const ENDED = new Set<TaskStatus>(['done', 'failed', 'aborted']);

export async function followTask(options: FollowOptions): Promise<FollowEnd> {
  const { dir, uuid, onLogs, signal } = options;
  let status = options.task.status;
  let emitted = options.task.logs.length;
  let { generation, bytes } = options.position;

  /** Applies complete journal lines; false if one is not a valid change (then resync). */
  const apply = (text: string): { ok: boolean; removed: boolean } => {
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const record = parseJournalLine(line);
      if (record === null) return { ok: false, removed: false };
      switch (record.type) {
        case 'put':
          if (record.task['uuid'] === uuid) status = decodeTask(record.task).status;
          break;
        case 'logs':
          if (record.uuid === uuid && record.entries.length > 0) {
            emitted += record.entries.length;
            onLogs(record.entries.map(decodeLog));
          }
          break;
        case 'remove':
          if (record.uuid === uuid) return { ok: true, removed: true };
      }
    }
    return { ok: true, removed: false };
  };

  /** Re-reads the whole store (which reports corruption with file and line). */
  const resync = async (): Promise<FollowEnd | null> => {
    const view = await readStore(dir);
    const task = view.tasks.find((candidate) => candidate.uuid === uuid);
    if (task === undefined) return 'removed';
    if (task.logs.length > emitted) onLogs(task.logs.slice(emitted));
    emitted = Math.max(emitted, task.logs.length);
    status = task.status;
    ({ generation, bytes } = view.position);
    return ENDED.has(status) ? 'ended' : null;
  };

  while (!signal.aborted) {
    const step = await poll();
    if (step === 'resync') {
      const end = await resync();
      if (end !== null) return end;
    } else if (step === 'removed') {
      return 'removed';
    }
    if (ENDED.has(status)) return 'ended';
    if (step === 'idle') await sleep(POLL_MS, undefined, { signal }).catch(() => {});
  }
  return 'interrupted';

  /** One look at the files: 'moved' when something was read (look again at once), 'idle' when nothing new. */
  async function poll(): Promise<'idle' | 'moved' | 'resync' | 'removed'> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      throw storeError(dir, error);
    }
    const journals = names
      .map((name) => JOURNAL_NAME.exec(name))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => Number(match[1]))
      .sort((a, b) => a - b);
    if (!journals.includes(generation)) return 'resync';
    // A newer journal exists: this one is final (the store switches journals between writes).
    const next = journals.find((journal) => journal > generation);
    const chunk = await readFrom(join(dir, journalFile(generation)), bytes);
    if (chunk === null) return 'resync';
    const end = chunk.lastIndexOf(0x0a);
    if (end !== -1) {
      const { ok, removed } = apply(chunk.toString('utf8', 0, end + 1));
      if (!ok) return 'resync';
      if (removed) return 'removed';
      bytes += end + 1;
    }
    if (next !== undefined) {
      generation = next;
      bytes = 0;
      return 'moved';
    }
    return end === -1 ? 'idle' : 'moved';
  }
}

/** The bytes of `file` from `offset` to its current end; null if it vanished or shrank. */
async function readFrom(file: string, offset: number): Promise<Buffer | null> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size < offset) return null;
    const buffer = Buffer.alloc(size - offset);
    let read = 0;
    while (read < buffer.length) {
      const { bytesRead } = await handle.read(buffer, read, buffer.length - read, offset + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return buffer.subarray(0, read);
  } finally {
    await handle.close();
  }
}
