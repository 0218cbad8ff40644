/**
 * The default store under `persistDir`: a snapshot plus an append-only
 * journal, both JSON lines a person can open and grep.
 *
 *   snapshot.json          {"format":"tasker-snapshot","version":1,"generation":G}
 *                          then one {"task":{…},"logs":[…]} per line
 *   journal-<G>.jsonl      the changes made after snapshot G, one per line:
 *                          {"put":{…task}} | {"logs":"<uuid>","entries":[…]} | {"remove":"<uuid>"}
 *   lock                   {"pid":…} of the process that owns the store
 *
 * A commit appends its whole batch to the journal with one write and, with
 * `durability: 'fsync'`, one fdatasync: a change costs O(its size), whatever
 * the number of stored tasks. The store keeps no copy of the tasks: it writes
 * snapshots from the engine's live state (`attachState`). When the journal
 * outgrows the snapshot, the store compacts: at the start of the next commit
 * (or in `compact()`) it starts journal G+1, writes snapshot G+1 (the state at
 * the switch) atomically, then deletes journal G. Loading reads the snapshot
 * and replays every journal from its generation on, so a crash at any step of
 * a compaction loses nothing.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { threadId } from 'node:worker_threads';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { ErrorCodes, TaskerError } from '../errors.js';
import type { EngineLogger, LogEntry } from '../types.js';
import { decodeLog, decodeTask, encodeLog, encodeTask } from './task-codec.js';
import type { LiveTask, StoreChange, StoreStateSource, StoredTask, TaskStore } from './task-store.js';
import { SNAPSHOT_FILE, SNAPSHOT_FORMAT, SNAPSHOT_VERSION as VERSION, journalFile, readStoreContents } from './store-reader.js';

export { SNAPSHOT_FILE, journalFile };
export const LOCK_FILE = 'lock';
const SNAPSHOT_TEMP = /^snapshot\.json\.\d+\.\d+\.tmp$/;

export type Durability = 'fsync' | 'none';

export interface JournalStoreOptions {
  /** `'fsync'`: a commit resolves once its lines are on disk. `'none'`: once written to the OS. */
  durability?: Durability;
  /** Compact when the journal is larger than this many bytes and than the snapshot. Default 8 MiB. */
  compactAfterBytes?: number;
  logger?: EngineLogger | null;
}

/** What a compaction captured at its switch: each live task and how many of its log entries journal G and earlier hold. */
interface Capture {
  tasks: LiveTask[];
  logCounts: number[];
}

export class JournalStore implements TaskStore {
  readonly #dir: string;
  readonly #durability: Durability;
  readonly #compactAfterBytes: number;
  readonly #logger: EngineLogger | null;
  /** The engine's live state, from which snapshots are written; without it the store never compacts. */
  #source: StoreStateSource | null = null;
  #generation = 0;
  #journal: FileHandle | null = null;
  #journalBytes = 0;
  #snapshotBytes = 0;
  /** The snapshot being written in the background, if any. */
  #compacting: Promise<void> | null = null;
  /** Serialises appends and journal switches: a switch never races a write to the journal it closes. */
  #serial: Promise<unknown> = Promise.resolve();
  #lockHeld = false;
  #closed = false;

  constructor(dir: string, options: JournalStoreOptions = {}) {
    this.#dir = resolve(dir);
    this.#durability = options.durability ?? 'fsync';
    this.#compactAfterBytes = options.compactAfterBytes ?? 8 * 1024 * 1024;
    this.#logger = options.logger ?? null;
  }

  get generation(): number {
    return this.#generation;
  }

  async load(): Promise<StoredTask[]> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await this.#lock();
    try {
      const contents = await readStoreContents(this.#dir);
      // Only once everything was read: a store found corrupt is left exactly as it was.
      // A snapshot write interrupted by a crash leaves its temp file: the snapshot it was to replace is intact.
      for (const name of contents.names) if (SNAPSHOT_TEMP.test(name)) await rm(join(this.#dir, name), { force: true });
      if (contents.torn !== null) {
        // A torn last line (a crash in the middle of a write): cut it off, so that the next append starts clean.
        const { file, line, keepBytes } = contents.torn;
        this.#logger?.warn(`tasker: ignoring the incomplete last line ${line} of ${file} (a write interrupted by a crash)`);
        await truncate(file, keepBytes);
      }
      for (const journal of contents.stale) await rm(join(this.#dir, journalFile(journal)), { force: true });
      this.#snapshotBytes = contents.snapshotBytes;
      this.#generation = contents.last;
      await this.#openJournal(contents.last);
      const loaded: StoredTask[] = [];
      for (const { task, logs } of contents.tasks.values()) {
        // Decoded in place: the parsed arrays and objects become the stored ones (start-up allocates less).
        for (const log of logs) decodeLog(log);
        loaded.push({ task: decodeTask(task), logs: logs as unknown as LogEntry[] });
      }
      return loaded;
    } catch (error) {
      await this.#unlock();
      throw error;
    }
  }

  /**
   * Snapshots are written from `source` (see `StoreStateSource` for what it
   * guarantees). Until a source is attached, the store does not compact.
   */
  attachState(source: StoreStateSource): void {
    this.#source = source;
  }

  commit(changes: readonly StoreChange[]): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#journal === null) throw new TaskerError(ErrorCodes.STORE_WRITE_FAILED, 'The store is closed');
      // A compaction made due by the previous commit switches now, before this batch is written: the
      // source reflects every batch of journal G by now (their commits resolved), not yet this one's.
      if (this.#compactionDue()) await this.#startCompaction();
      // Encoded in slices: a batch of thousands of documents (a burst of adds) would otherwise hold the main
      // thread for tens of ms, during which no worker thread that answered gets its next task.
      let text = '';
      let deadline = performance.now() + ENCODE_SLICE_MS;
      for (let i = 0; i < changes.length; i++) {
        text += journalLine(changes[i]!) + '\n';
        if ((i & 63) === 63 && performance.now() > deadline) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          deadline = performance.now() + ENCODE_SLICE_MS;
        }
      }
      const buffer = Buffer.from(text, 'utf8');
      try {
        // A write may be short (a full disk, a file size limit): write until all of it is written.
        for (let offset = 0; offset < buffer.length; ) {
          const { bytesWritten } = await this.#journal.write(buffer, offset, buffer.length - offset);
          if (bytesWritten === 0) throw new Error('the journal write made no progress');
          offset += bytesWritten;
        }
        if (this.#durability === 'fsync' && JOURNAL_SYNC_FLAG === 0) await this.#journal.datasync();
      } catch (error) {
        // Cut the journal back to its last complete batch, so that the next append does not follow a torn line.
        await this.#journal.truncate(this.#journalBytes).catch(() => {});
        throw error;
      }
      this.#journalBytes += buffer.length;
    });
  }

  /**
   * Compacts now (if the journal holds anything) and resolves once the
   * snapshot is written. The caller must have applied every resolved commit
   * to the source (the engine calls it after flushing its committer).
   */
  async compact(): Promise<void> {
    await this.#exclusive(async () => {
      if (this.#source !== null && this.#compacting === null && this.#journalBytes > 0 && this.#journal !== null) {
        await this.#startCompaction();
      }
    });
    await this.#compacting;
  }

  /** The journal outgrew its threshold and the snapshot, and no compaction is under way. */
  #compactionDue(): boolean {
    return this.#source !== null && this.#compacting === null && this.#journalBytes > Math.max(this.#compactAfterBytes, this.#snapshotBytes);
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(work, work);
    this.#serial = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#exclusive(async () => {
      await this.#compacting;
      await this.#journal?.close();
      this.#journal = null;
      // Nothing reads the live state any more: let it go even if the store object stays referenced.
      this.#source = null;
    });
    await this.#unlock();
  }

  // ---- compaction -----------------------------------------------------------

  /**
   * Step 1 of a compaction, inside the serial section and before any batch is
   * written to journal G+1: new changes go to journal G+1 from now on, and the
   * live tasks are captured, each with its committed log count. Every change
   * of journal G is in the source by now (see `StoreStateSource`). Steps 2
   * and 3 run in the background while commits go on.
   */
  async #startCompaction(): Promise<void> {
    const source = this.#source!;
    const previous = this.#generation;
    const next = previous + 1;
    const oldJournal = this.#journal!;
    try {
      await this.#openJournal(next);
    } catch (error) {
      // Nothing changed: changes go on to journal G, and the next commit tries again.
      this.#logger?.error(`tasker: could not start journal ${next} for a compaction; the journal keeps growing`, error);
      return;
    }
    this.#generation = next;
    // Synchronously, before any change reaches journal G+1: the tasks, and how many log entries of each are in
    // journal G or earlier (the later ones will be in journal G+1). Documents are read later, when encoded.
    const capture: Capture = { tasks: [], logCounts: [] };
    for (const task of source.tasks()) {
      capture.tasks.push(task);
      capture.logCounts.push(source.committedLogs(task));
    }
    this.#compacting = this.#writeSnapshot(next, previous, capture, oldJournal)
      .catch((error: unknown) => this.#logger?.error('tasker: store compaction failed; the journal keeps growing', error))
      .finally(() => {
        this.#compacting = null;
      });
  }

  /**
   * Steps 2 and 3. Each task is encoded in one synchronous step, from its
   * document as it is then — maybe newer than at the switch, which is safe:
   * every change made since is a whole-document put in journal G+1, replayed
   * after the snapshot, so the last put wins — and from its captured log
   * count, so that entries appended since (in journal G+1) are not written
   * twice. A task removed since is still written; journal G+1 removes it.
   */
  async #writeSnapshot(generation: number, previous: number, capture: Capture, oldJournal: FileHandle): Promise<void> {
    await oldJournal.close();
    // 2. Snapshot `generation`, written atomically in slices (see writeAtomically).
    const header = JSON.stringify({ format: SNAPSHOT_FORMAT, version: VERSION, generation });
    const { tasks, logCounts } = capture;
    const bytes = await writeAtomically(join(this.#dir, SNAPSHOT_FILE), this.#durability === 'fsync', function* () {
      // One line per task, `{"task":…,"logs":[…]}`, cut into slices wherever they fall: a task with a
      // million log entries is a line of 80 MB, which must not be built in one go either.
      let chunk = header + '\n';
      for (let i = 0; i < tasks.length; i++) {
        const { doc, logs } = tasks[i]!;
        const count = Math.min(logCounts[i]!, logs.length);
        chunk += `{"task":${JSON.stringify(encodeTask(doc))},"logs":[`;
        for (let j = 0; j < count; j++) {
          chunk += (j === 0 ? '' : ',') + logJson(logs[j]!);
          if (chunk.length >= SNAPSHOT_CHUNK) {
            yield chunk;
            chunk = '';
          }
        }
        chunk += ']}\n';
        if (chunk.length >= SNAPSHOT_CHUNK) {
          yield chunk;
          chunk = '';
        }
      }
      yield chunk;
    });
    await this.#syncDirectory();
    this.#snapshotBytes = bytes;
    // 3. The old journal is in the snapshot now.
    await rm(join(this.#dir, journalFile(previous)), { force: true });
  }

  // ---- files ---------------------------------------------------------------

  /** Opens journal `generation` and makes it the one written to, only once all of that succeeded. */
  async #openJournal(generation: number): Promise<void> {
    const file = join(this.#dir, journalFile(generation));
    const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (this.#durability === 'fsync' ? JOURNAL_SYNC_FLAG : 0);
    const handle = await open(file, flags, 0o600);
    let bytes: number;
    try {
      bytes = (await handle.stat()).size;
      // The journal's directory entry must survive a crash too.
      await this.#syncDirectory();
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
    this.#journal = handle;
    this.#journalBytes = bytes;
  }

  // ---- the lock -------------------------------------------------------------

  /**
   * One writer per directory: the lock file is created exclusively and holds
   * the owner's pid. A lock whose process no longer runs is taken over.
   */
  async #lock(): Promise<void> {
    const file = join(this.#dir, LOCK_FILE);
    const content = JSON.stringify({ pid: process.pid, threadId, hostname: hostname(), since: new Date().toISOString() });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const handle = await open(file, 'wx', 0o600);
        await handle.writeFile(content);
        await handle.close();
        this.#lockHeld = true;
        heldLocks.add(this.#dir);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = await readLockOwner(file);
      if (owner !== null && this.#isLive(owner)) {
        throw new TaskerError(
          ErrorCodes.STORE_LOCKED,
          `The store ${this.#dir} is in use by process ${owner.pid}${owner.pid === process.pid ? ' (this process: another Tasker)' : ''}. ` +
            'Only one Tasker may open a persistDir at a time; close() the other one first.',
        );
      }
      await this.#takeOver(file, owner);
    }
    throw new TaskerError(ErrorCodes.STORE_LOCKED, `The store ${this.#dir} is locked by another process`);
  }

  /** A lock's owner is live if its process runs, unless it is this very thread and no store here holds the lock. */
  #isLive(owner: LockOwner): boolean {
    if (owner.pid === process.pid && owner.threadId === threadId) return heldLocks.has(this.#dir);
    return isAlive(owner.pid);
  }

  /**
   * Takes a stale lock over. The stale file is first renamed to a name of our
   * own, so that of two processes taking it over at once only one gets it; if
   * what we renamed turns out to be a live lock (taken over by another process
   * meanwhile), it is put back.
   */
  async #takeOver(file: string, owner: LockOwner | null): Promise<void> {
    const aside = `${file}.stale.${process.pid}.${threadId}`;
    try {
      await rename(file, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else moved it: try again
      throw error;
    }
    const moved = await readLockOwner(aside);
    if (moved !== null && (moved.pid !== owner?.pid || moved.threadId !== owner?.threadId) && this.#isLive(moved)) {
      await rename(aside, file).catch(() => {});
      return;
    }
    await rm(aside, { force: true });
    this.#logger?.warn(`tasker: took over the lock of ${this.#dir}, left by process ${owner?.pid ?? 'unknown'} which no longer runs`);
  }

  async #unlock(): Promise<void> {
    if (!this.#lockHeld) return;
    this.#lockHeld = false;
    heldLocks.delete(this.#dir);
    await unlink(join(this.#dir, LOCK_FILE)).catch(() => {});
  }

  async #syncDirectory(): Promise<void> {
    if (this.#durability !== 'fsync') return;
    const handle = await open(this.#dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/** A change as its journal line. */
function journalLine(change: StoreChange): string {
  switch (change.type) {
    case 'put':
      return `{"put":${JSON.stringify(encodeTask(change.task))}}`;
    case 'logs':
      return `{"logs":${JSON.stringify(change.uuid)},"entries":[${change.entries.map(logJson).join(',')}]}`;
    case 'remove':
      return `{"remove":${JSON.stringify(change.uuid)}}`;
  }
}

/** `JSON.stringify(encodeLog(entry))`, built directly when there is no data to encode (most entries, and a snapshot writes every one). */
function logJson(entry: LogEntry): string {
  if (entry.data !== undefined) return JSON.stringify(encodeLog(entry));
  return `{"level":${JSON.stringify(entry.level)},"message":${JSON.stringify(entry.message)},"timestamp":"${entry.timestamp.toISOString()}"}`;
}

/**
 * With `durability: 'fsync'` the journal is opened O_DSYNC where the platform
 * has it: each write returns once its data is on disk, one trip to the thread
 * pool per commit instead of two (a write, then an fdatasync), about 40 µs
 * less per commit on Linux. Elsewhere (Windows) a write is followed by an
 * fdatasync.
 */
const JOURNAL_SYNC_FLAG: number = constants.O_DSYNC ?? 0;

/** How long encoding a batch's journal lines may hold the thread before it yields a turn of the event loop. */
const ENCODE_SLICE_MS = 1;

/** Bytes of snapshot text built before each write: large enough for throughput, small enough not to stall. */
const SNAPSHOT_CHUNK = 1 << 18;

/**
 * Writes a file atomically: a temp file (named with pid and thread id), its
 * chunks written one by one with a turn of the event loop between them, fsync,
 * rename over the target. This is write-file-atomic's protocol; it is done
 * here because write-file-atomic takes the whole content as one string, and a
 * snapshot of 100,000 tasks is about 100 MB: building and converting that in
 * one go stalled the event loop for a third of a second.
 */
async function writeAtomically(file: string, fsync: boolean, chunks: () => Generator<string>): Promise<number> {
  const temp = `${file}.${process.pid}.${threadId}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  let bytes = 0;
  try {
    for (const chunk of chunks()) {
      const buffer = Buffer.from(chunk, 'utf8');
      await handle.write(buffer, 0, buffer.length);
      bytes += buffer.length;
    }
    if (fsync) await handle.sync();
    await handle.close();
    await rename(temp, file);
    return bytes;
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  }
}

async function truncate(file: string, length: number): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.truncate(length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Directories whose lock a store of this thread holds. */
const heldLocks = new Set<string>();

interface LockOwner {
  pid: number;
  threadId: number | null;
}

async function readLockOwner(file: string): Promise<LockOwner | null> {
  try {
    const { pid, threadId: owner } = JSON.parse(await readFile(file, 'utf8')) as { pid?: unknown; threadId?: unknown };
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return null;
    return { pid, threadId: typeof owner === 'number' ? owner : null };
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

