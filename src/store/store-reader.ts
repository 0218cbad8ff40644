/**
 * Reads a JournalStore directory (see journal-store.ts for the layout) without
 * changing anything: no lock, no truncation, no clean-up. The store's `load()`
 * uses it and then does its own repairs (cuts a torn line, deletes stale
 * journals and temp snapshots); the `tasker` CLI uses it on a store that a
 * running Tasker may be writing.
 */
import { open, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, TaskerError } from '../errors.js';
import { TRANSITIONS } from '../state-machine.js';

export const SNAPSHOT_FILE = 'snapshot.json';
export const SNAPSHOT_FORMAT = 'tasker-snapshot';
export const SNAPSHOT_VERSION = 1;
export const JOURNAL_NAME = /^journal-(\d+)\.jsonl$/;

export const journalFile = (generation: number): string => `journal-${generation}.jsonl`;

export type Json = Record<string, unknown>;

/** A task as read: its encoded document and log entries (parsed JSON, not decoded). */
export interface ReadTask {
  task: Json;
  logs: Json[];
}

export interface StoreContents {
  /** The directory's entries when it was listed. */
  names: string[];
  /** The snapshot's generation, 0 without a snapshot. */
  generation: number;
  /** The snapshot's size in bytes (0 without). */
  snapshotBytes: number;
  /** Journals older than the snapshot (already in it), which were not read. */
  stale: number[];
  /** The newest journal replayed, else the snapshot's generation. */
  last: number;
  /** Bytes of complete lines read from the newest journal (where a reader tailing it goes on). */
  lastJournalBytes: number;
  /** The newest journal's incomplete last line (a write cut short, or one in progress), which was ignored. */
  torn: { file: string; line: number; keepBytes: number } | null;
  /** In store order: snapshot order, then first appearance in the journals. */
  tasks: Map<string, ReadTask>;
}

/**
 * Reads the snapshot and replays every journal from its generation on.
 * Rejects with `ERR_STORE_CORRUPT` (naming file and line) on anything
 * unreadable but an incomplete last line of the newest journal.
 */
export async function readStoreContents(dir: string): Promise<StoreContents> {
  const tasks = new Map<string, ReadTask>();
  const { generation, snapshotBytes } = await readSnapshot(dir, tasks);
  const names = await readdir(dir);
  const journals = names
    .map((name) => JOURNAL_NAME.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]))
    .sort((a, b) => a - b);
  let last = generation;
  let lastJournalBytes = 0;
  let torn: StoreContents['torn'] = null;
  const stale: number[] = [];
  for (const journal of journals) {
    // Journals older than the snapshot are already in it: a compaction stopped before deleting them.
    if (journal < generation) {
      stale.push(journal);
      continue;
    }
    const file = join(dir, journalFile(journal));
    const result = replayJournal(file, await readFile(file, 'utf8'), journal === journals[journals.length - 1], tasks);
    torn = result.torn;
    lastJournalBytes = result.bytes;
    last = journal;
  }
  return { names, generation, snapshotBytes, stale, last, lastJournalBytes, torn, tasks };
}

/** The snapshot's generation as its header says now (0 without a snapshot): a cheap check that no compaction happened. */
export async function readSnapshotGeneration(dir: string): Promise<number> {
  let handle;
  try {
    handle = await open(join(dir, SNAPSHOT_FILE), 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  try {
    const buffer = Buffer.alloc(512);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.toString('utf8', 0, bytesRead);
    const header = parseLine(text.slice(0, text.indexOf('\n') === -1 ? text.length : text.indexOf('\n')));
    return typeof header?.['generation'] === 'number' ? header['generation'] : -1;
  } finally {
    await handle.close();
  }
}

async function readSnapshot(dir: string, tasks: Map<string, ReadTask>): Promise<{ generation: number; snapshotBytes: number }> {
  const file = join(dir, SNAPSHOT_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { generation: 0, snapshotBytes: 0 };
    throw error;
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const header = parseLine(lines[0] ?? '') as { format?: unknown; version?: unknown; generation?: unknown } | null;
  if (header === null || header.format !== SNAPSHOT_FORMAT || typeof header.generation !== 'number') {
    throw corruptStoreError(file, 1, 'is not a Tasker snapshot');
  }
  if (header.version !== SNAPSHOT_VERSION) {
    throw corruptStoreError(file, 1, `has version ${String(header.version)}; this Tasker reads ${SNAPSHOT_VERSION}`);
  }
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const record = parseLine(line) as { task?: unknown; logs?: unknown } | null;
    if (record === null || !isTaskShape(record.task) || !Array.isArray(record.logs) || !record.logs.every(isLogShape)) {
      throw corruptStoreError(file, i + 1, 'has a malformed task');
    }
    const task = record.task as Json;
    tasks.set(task['uuid'] as string, { task, logs: record.logs as Json[] });
  }
  return { generation: header.generation, snapshotBytes: Buffer.byteLength(text) };
}

/**
 * Replays a journal's text. An incomplete last line (no newline) of the newest
 * journal is reported in `torn`; anything else unreadable is corruption.
 * `bytes` is the length of the complete lines.
 */
function replayJournal(
  file: string,
  text: string,
  isLast: boolean,
  tasks: Map<string, ReadTask>,
): { bytes: number; torn: StoreContents['torn'] } {
  let start = 0;
  let lineNumber = 0;
  while (start < text.length) {
    const end = text.indexOf('\n', start);
    lineNumber++;
    if (end === -1) {
      // No newline: the last write was cut short (or is in progress).
      if (!isLast) throw corruptStoreError(file, lineNumber, 'ends with an incomplete line but is not the newest journal');
      const keepBytes = Buffer.byteLength(text.slice(0, start));
      return { bytes: keepBytes, torn: { file, line: lineNumber, keepBytes } };
    }
    const line = text.slice(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    const record = parseJournalLine(line);
    if (record === null) throw corruptStoreError(file, lineNumber, 'has a line that is not a valid change');
    applyChange(tasks, record);
  }
  return { bytes: Buffer.byteLength(text), torn: null };
}

/** A journal line, checked. */
export type JournalRecord =
  | { type: 'put'; task: Json }
  | { type: 'logs'; uuid: string; entries: Json[] }
  | { type: 'remove'; uuid: string };

/** Parses and checks one journal line; null if it is not a valid change. */
export function parseJournalLine(line: string): JournalRecord | null {
  const record = parseLine(line);
  if (record === null) return null;
  if ('put' in record) {
    const task = record['put'];
    return isTaskShape(task) ? { type: 'put', task: task as Json } : null;
  }
  if ('logs' in record) {
    const uuid = record['logs'];
    const entries = record['entries'];
    if (typeof uuid !== 'string' || !Array.isArray(entries) || !entries.every(isLogShape)) return null;
    return { type: 'logs', uuid, entries: entries as Json[] };
  }
  if ('remove' in record) {
    const uuid = record['remove'];
    return typeof uuid === 'string' ? { type: 'remove', uuid } : null;
  }
  return null;
}

function applyChange(tasks: Map<string, ReadTask>, record: JournalRecord): void {
  switch (record.type) {
    case 'put': {
      const uuid = record.task['uuid'] as string;
      const entry = tasks.get(uuid);
      if (entry === undefined) {
        tasks.set(uuid, { task: record.task, logs: [] });
      } else {
        entry.task = record.task;
      }
      return;
    }
    case 'logs': {
      const entry = tasks.get(record.uuid);
      if (entry === undefined) return;
      for (const log of record.entries) entry.logs.push(log);
      return;
    }
    case 'remove':
      tasks.delete(record.uuid);
  }
}

export function corruptStoreError(file: string, line: number, problem: string): TaskerError {
  return new TaskerError(
    ErrorCodes.STORE_CORRUPT,
    `Store file ${file} ${problem} (line ${line}). It was left untouched; see "Recovering a store" in the README.`,
  );
}

export function parseLine(line: string): Json | null {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null;
  } catch {
    return null;
  }
}

function isTaskShape(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const json = raw as Json;
  return (
    typeof json['uuid'] === 'string' &&
    typeof json['operation'] === 'string' &&
    typeof json['status'] === 'string' &&
    Object.hasOwn(TRANSITIONS, json['status']) &&
    typeof json['createdAt'] === 'string'
  );
}

function isLogShape(raw: unknown): boolean {
  const log = raw as Json;
  return (
    typeof raw === 'object' && raw !== null && typeof log['level'] === 'string' &&
    typeof log['message'] === 'string' && typeof log['timestamp'] === 'string'
  );
}
