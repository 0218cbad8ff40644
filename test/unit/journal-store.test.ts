import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test, type TestContext } from 'node:test';
import { JournalStore, LOCK_FILE, SNAPSHOT_FILE, journalFile } from '../../dist/src/store/journal-store.js';
import type { LiveTask, LogEntry, StoreChange, StoreStateSource, StoredTask, TaskDoc } from 'tasker';
import { readStoreFiles } from '../helpers/store-files.js';
import { tempDir } from '../helpers/tasker.js';

const quiet = { error() {}, warn() {}, info() {}, debug() {} };

function doc(uuid: string, fields: Partial<TaskDoc> = {}): TaskDoc {
  return { uuid, operation: 'op', priority: 0, status: 'new', createdAt: new Date('2026-01-01T00:00:00.000Z'), ...fields };
}

function log(message: string): LogEntry {
  return { level: 'info', message, timestamp: new Date('2026-01-02T00:00:00.000Z') };
}

function byUuid(loaded: StoredTask[]): Map<string, StoredTask> {
  return new Map(loaded.map((entry) => [entry.task.uuid, entry]));
}

async function open(dir: string, options: ConstructorParameters<typeof JournalStore>[1] = {}): Promise<[JournalStore, Map<string, StoredTask>]> {
  const store = new JournalStore(dir, { logger: quiet, ...options });
  return [store, byUuid(await store.load())];
}

const put = (task: TaskDoc): StoreChange => ({ type: 'put', task });

interface LiveRecord {
  doc: TaskDoc;
  logs: LogEntry[];
}

/**
 * The engine's side of a JournalStore, reduced to what the store reads: the
 * live tasks it snapshots from. Like the engine, it applies a change in
 * memory when it pushes it, except a new task, which exists once its commit
 * resolved; and it counts the log entries whose commit has not resolved.
 */
class Live implements StoreStateSource {
  readonly records = new Map<string, LiveRecord>();
  /** Tasks whose put is on its way. */
  readonly #adding = new Map<string, LiveRecord>();
  /** Keyed by record, not by uuid: reading `doc` is left to the store's encoder (see the hooked tests). */
  readonly #logsInFlight = new Map<LiveTask, number>();
  readonly #store: JournalStore;

  constructor(store: JournalStore) {
    this.#store = store;
    store.attachState(this);
  }

  static async open(dir: string, options: ConstructorParameters<typeof JournalStore>[1] = {}): Promise<Live> {
    const [store, loaded] = await open(dir, options);
    const live = new Live(store);
    for (const { task, logs } of loaded.values()) live.records.set(task.uuid, { doc: task, logs });
    return live;
  }

  get store(): JournalStore {
    return this.#store;
  }

  tasks(): Iterable<LiveTask> {
    return this.records.values();
  }

  committedLogs(task: LiveTask): number {
    return task.logs.length - (this.#logsInFlight.get(task) ?? 0);
  }

  /** Applies the changes and commits them (not waiting for earlier pushes); resolves once committed and applied. */
  push(changes: StoreChange[]): Promise<void> {
    const added: LiveRecord[] = [];
    const logged: Array<[LiveRecord, number]> = [];
    for (const change of changes) {
      if (change.type === 'put') {
        const record = this.records.get(change.task.uuid) ?? this.#adding.get(change.task.uuid);
        if (record !== undefined) {
          record.doc = structuredClone(change.task);
        } else {
          const fresh = { doc: structuredClone(change.task), logs: [] };
          this.#adding.set(change.task.uuid, fresh);
          added.push(fresh);
        }
      } else if (change.type === 'logs') {
        const record = this.records.get(change.uuid) ?? this.#adding.get(change.uuid);
        if (record === undefined) continue;
        record.logs.push(...change.entries);
        this.#logsInFlight.set(record, (this.#logsInFlight.get(record) ?? 0) + change.entries.length);
        logged.push([record, change.entries.length]);
      } else {
        this.records.delete(change.uuid);
      }
    }
    return this.#store.commit(changes).then(() => {
      for (const record of added) {
        this.#adding.delete(record.doc.uuid);
        this.records.set(record.doc.uuid, record);
      }
      for (const [record, count] of logged) {
        const left = this.#logsInFlight.get(record)! - count;
        if (left > 0) this.#logsInFlight.set(record, left);
        else this.#logsInFlight.delete(record);
      }
    });
  }
}

describe('JournalStore round trip', () => {
  test('puts, logs and removes survive a reopen, with Dates, ±Infinity, odd keys and large data', async (t) => {
    const dir = await tempDir(t);
    const [store] = await open(dir);
    const big = 'x'.repeat(2 * 1024 * 1024);
    const data = { when: new Date('2020-02-02T00:00:00.000Z'), $where: 'kept', ['__proto__']: { polluted: true }, 'a.b': 1, text: 'héllo ✓', big };
    Object.defineProperty(data, '__proto__', { value: { polluted: true }, enumerable: true, configurable: true, writable: true });
    await store.commit([put(doc('a', { priority: Infinity, data })), put(doc('b', { priority: -Infinity })), put(doc('c'))]);
    await store.commit([{ type: 'logs', uuid: 'a', entries: [log('one'), log('two')] }, { type: 'remove', uuid: 'c' }]);
    await store.commit([put(doc('b', { priority: -Infinity, status: 'running', startedAt: new Date('2026-01-03T00:00:00.000Z') }))]);
    await store.close();

    const [again, loaded] = await open(dir);
    t.after(() => again.close());
    assert.deepEqual([...loaded.keys()].sort(), ['a', 'b']);
    const a = loaded.get('a')!;
    assert.equal(a.task.priority, Infinity);
    assert.deepEqual(a.task.data, data);
    assert.ok((a.task.data as { when: Date }).when instanceof Date);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'no prototype was polluted');
    assert.deepEqual(a.logs.map((entry) => entry.message), ['one', 'two']);
    assert.ok(a.logs[0]!.timestamp instanceof Date);
    const b = loaded.get('b')!;
    assert.equal(b.task.priority, -Infinity);
    assert.equal(b.task.status, 'running');
    assert.deepEqual(b.task.startedAt, new Date('2026-01-03T00:00:00.000Z'));
  });

  test('files are owner-only, and the journal is one JSON line per change', async (t) => {
    const dir = join(await tempDir(t), 'store');
    const live = await Live.open(dir);
    const { store } = live;
    await live.push([put(doc('a')), { type: 'logs', uuid: 'a', entries: [log('hi')] }]);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    for (const name of [journalFile(0), LOCK_FILE]) assert.equal((await stat(join(dir, name))).mode & 0o777, 0o600, name);
    const lines = (await readFile(join(dir, journalFile(0)), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(lines.map((line) => Object.keys(line)[0]), ['put', 'logs']);
    await store.compact();
    await store.close();
    assert.deepEqual((await readdir(dir)).sort(), [journalFile(1), SNAPSHOT_FILE], 'compacted into a snapshot; close released the lock');
    assert.equal((await stat(join(dir, SNAPSHOT_FILE))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, journalFile(1)))).size, 0, 'the new journal is empty');
  });

  test("durability 'none' stores the same data", async (t) => {
    const dir = await tempDir(t);
    const [store] = await open(dir, { durability: 'none' });
    await store.commit([put(doc('a')), { type: 'logs', uuid: 'a', entries: [log('x')] }]);
    await store.close();
    const [again, loaded] = await open(dir);
    t.after(() => again.close());
    assert.deepEqual(loaded.get('a')?.logs.map((entry) => entry.message), ['x']);
  });
});

describe('JournalStore compaction', () => {
  test('without a live state attached, the store never compacts', async (t) => {
    const dir = await tempDir(t);
    const [store] = await open(dir, { compactAfterBytes: 1 });
    for (let i = 0; i < 5; i++) await store.commit([put(doc(`t${i}`))]);
    await store.compact();
    await store.close();
    assert.equal(store.generation, 0);
    assert.deepEqual((await readdir(dir)).sort(), [journalFile(0)]);
  });

  test('a journal that outgrows its threshold is compacted while commits go on, losing and duplicating nothing', async (t) => {
    const dir = await tempDir(t);
    const live = await Live.open(dir, { compactAfterBytes: 2_000 });
    const { store } = live;
    const expected = new Map<string, string[]>();
    for (let i = 0; i < 300; i++) {
      const uuid = `t${String(i).padStart(3, '0')}`;
      const changes: StoreChange[] = [put(doc(uuid, { data: { i } })), { type: 'logs', uuid, entries: [log(`${i}-a`), log(`${i}-b`)] }];
      expected.set(uuid, [`${i}-a`, `${i}-b`]);
      if (i % 7 === 0 && i > 0) {
        const gone = `t${String(i - 1).padStart(3, '0')}`;
        changes.push({ type: 'remove', uuid: gone });
        expected.delete(gone);
      }
      await live.push(changes);
    }
    assert.ok(store.generation > 0, 'at least one compaction happened');
    await store.close();
    const [again, loaded] = await open(dir);
    t.after(() => again.close());
    assert.deepEqual([...loaded.keys()].sort(), [...expected.keys()].sort());
    for (const [uuid, messages] of expected) assert.deepEqual(loaded.get(uuid)!.logs.map((entry) => entry.message), messages, uuid);
  });

  const pad = 'x'.repeat(400);

  /** The snapshot's header and task lines, and the changes of a journal, as on disk. */
  async function snapshotOf(dir: string): Promise<{ generation: number; tasks: Map<string, { task: Record<string, unknown>; logs: Array<{ message: string }> }> }> {
    const [header, ...rest] = (await readFile(join(dir, SNAPSHOT_FILE), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    return { generation: header.generation, tasks: new Map(rest.map((line) => [line.task.uuid, line])) };
  }
  async function journalOf(dir: string, generation: number): Promise<Array<Record<string, unknown>>> {
    const text = await readFile(join(dir, journalFile(generation)), 'utf8');
    return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));
  }
  /** Reopens the store and checks that it loads exactly the live state. */
  async function assertReopensAs(t: TestContext, dir: string, live: Live): Promise<Map<string, StoredTask>> {
    const [again, loaded] = await open(dir);
    t.after(() => again.close());
    assert.deepEqual([...loaded.keys()].sort(), [...live.records.keys()].sort());
    for (const [uuid, record] of live.records) {
      assert.deepEqual(loaded.get(uuid)!.task, record.doc, `${uuid}: its latest document`);
      assert.deepEqual(loaded.get(uuid)!.logs, record.logs, `${uuid}: each log entry exactly once`);
    }
    const files = readStoreFiles(dir);
    assert.deepEqual([...files.tasks.keys()].sort(), [...live.records.keys()].sort(), 'an independent replay agrees');
    return loaded;
  }

  test('a task added by the very batch that makes the journal outgrow its threshold is in the next snapshot', async (t) => {
    // The live state gets a new task only once its commit resolved (as the engine's registry does): a snapshot
    // of the live state taken inside that commit would miss it, and delete the journal that holds it.
    const dir = await tempDir(t);
    const live = await Live.open(dir, { compactAfterBytes: 1_500 });
    await live.push([put(doc('a', { data: { pad } })), put(doc('b', { data: { pad } }))]);
    await live.push([put(doc('big', { data: { pad: pad + pad } }))]); // this batch makes the journal outgrow 1,500 bytes
    assert.equal(live.store.generation, 0, 'the compaction is only due');
    await live.push([put(doc('next'))]); // it switches here, before this batch is written
    assert.equal(live.store.generation, 1);
    await live.store.close();
    const snapshot = await snapshotOf(dir);
    assert.equal(snapshot.generation, 1);
    assert.deepEqual([...snapshot.tasks.keys()], ['a', 'b', 'big']);
    assert.deepEqual(await readdir(dir).then((names) => names.sort()), [journalFile(1), SNAPSHOT_FILE]);
    assert.deepEqual((await journalOf(dir, 1)).map((line) => (line['put'] as { uuid: string }).uuid), ['next']);
    await assertReopensAs(t, dir, live);
  });

  test('a task whose logs span several snapshot slices is written whole, its entries in order, and logs added meanwhile once', async (t) => {
    // 20,000 entries of about 90 bytes: a 1.8 MB line, cut into 256 KB slices with turns of the event loop between them.
    const dir = await tempDir(t);
    const live = await Live.open(dir);
    const entries = Array.from({ length: 20_000 }, (_, i) => log(`line ${i} ${'y'.repeat(20)}`));
    await live.push([put(doc('flood')), { type: 'logs', uuid: 'flood', entries }, put(doc('other'))]);
    const compacted = live.store.compact();
    // Written while the snapshot slices are: in journal 1, and in memory beyond the captured count.
    await live.push([{ type: 'logs', uuid: 'flood', entries: [log('after the switch')] }]);
    await compacted;
    await live.store.close();
    const snapshot = await snapshotOf(dir);
    assert.deepEqual([...snapshot.tasks.keys()], ['flood', 'other']);
    assert.deepEqual(snapshot.tasks.get('flood')!.logs.map((entry) => entry.message), entries.map((entry) => entry.message));
    const loaded = await assertReopensAs(t, dir, live);
    assert.equal(loaded.get('flood')!.logs.length, 20_001);
  });

  test('log entries pushed before the switch but committed after it are written once, in the new journal', async (t) => {
    const dir = await tempDir(t);
    const live = await Live.open(dir, { compactAfterBytes: 1_000 });
    await live.push([put(doc('a', { data: { pad } })), { type: 'logs', uuid: 'a', entries: [log('a1')] }]);
    await live.push([put(doc('b', { data: { pad } })), put(doc('c', { data: { pad } }))]);
    // In memory at the switch (the engine appends to a task's logs when it pushes them), committed after it.
    const first = live.push([{ type: 'logs', uuid: 'a', entries: [log('a2'), log('a3')] }]);
    const second = live.push([{ type: 'logs', uuid: 'a', entries: [log('a4')] }]);
    await Promise.all([first, second]);
    assert.equal(live.store.generation, 1);
    await live.store.close();
    assert.deepEqual((await snapshotOf(dir)).tasks.get('a')!.logs.map((entry) => entry.message), ['a1']);
    assert.deepEqual((await journalOf(dir, 1)).flatMap((line) => (line['entries'] as Array<{ message: string }>).map((entry) => entry.message)), ['a2', 'a3', 'a4']);
    const loaded = await assertReopensAs(t, dir, live);
    assert.deepEqual(loaded.get('a')!.logs.map((entry) => entry.message), ['a1', 'a2', 'a3', 'a4']);
  });

  test('tasks changed, removed, logged to and added while the snapshot is written come back once, in their latest state', async (t) => {
    const dir = await tempDir(t);
    const live = await Live.open(dir, { compactAfterBytes: 2_000 });
    await live.push([put(doc('hook')), put(doc('a', { data: { pad } })), put(doc('b', { data: { pad } }))]);
    await live.push([put(doc('c', { data: { pad } })), { type: 'logs', uuid: 'c', entries: [log('c1')] }]);
    assert.equal(live.store.generation, 0);
    // The first task the snapshot encodes makes changes as it is read: they happen after the switch, before
    // the other tasks are encoded, as changes made between two slices of a large snapshot do.
    const hook = live.records.get('hook')!;
    let during: Promise<void> | undefined;
    const fired = new Promise<void>((resolve) => {
      live.records.set('hook', {
        get doc() {
          during ??= live.push([
            put(doc('a', { data: { pad }, status: 'running', startedAt: new Date('2026-01-03T00:00:00.000Z') })),
            { type: 'remove', uuid: 'b' },
            { type: 'logs', uuid: 'c', entries: [log('c2')] },
            put(doc('e')),
          ]);
          resolve();
          return hook.doc;
        },
        logs: hook.logs,
      });
    });
    await live.push([put(doc('g', { data: { pad: pad + pad } }))]); // the journal outgrows 2,000 bytes
    assert.equal(live.store.generation, 0);
    await live.push([put(doc('f'))]); // switches: captures hook, a, b, c, g
    assert.equal(live.store.generation, 1);
    await fired;
    await during;
    await live.store.close();
    const snapshot = await snapshotOf(dir);
    assert.equal(snapshot.generation, 1);
    assert.deepEqual([...snapshot.tasks.keys()], ['hook', 'a', 'b', 'c', 'g'], 'the tasks at the switch, b too (removed after it)');
    assert.equal(snapshot.tasks.get('a')!.task['status'], 'running', 'a as it was when encoded, newer than at the switch');
    assert.deepEqual(snapshot.tasks.get('c')!.logs.map((entry) => entry.message), ['c1'], 'the log entries committed before the switch only');
    assert.deepEqual((await journalOf(dir, 1)).map((line) => Object.keys(line)[0]), ['put', 'put', 'remove', 'logs', 'put']);
    const loaded = await assertReopensAs(t, dir, live);
    assert.deepEqual([...loaded.keys()].sort(), ['a', 'c', 'e', 'f', 'g', 'hook']);
    assert.equal(loaded.get('a')!.task.status, 'running');
    assert.deepEqual(loaded.get('c')!.logs.map((entry) => entry.message), ['c1', 'c2']);
  });

  // Each step of a compaction leaves the directory in a state a crash could freeze.
  const states = {
    'after step 1 (new journal started, no snapshot yet)': async (dir: string) => {
      await writeFile(join(dir, journalFile(0)), lines({ put: enc('a') }, { logs: 'a', entries: [encLog('one')] }));
      await writeFile(join(dir, journalFile(1)), lines({ put: enc('b') }, { logs: 'a', entries: [encLog('two')] }));
    },
    'after step 2 (snapshot written, old journal not deleted)': async (dir: string) => {
      await writeFile(join(dir, journalFile(0)), lines({ put: enc('a') }, { logs: 'a', entries: [encLog('one')] }));
      await writeFile(join(dir, SNAPSHOT_FILE), lines(
        { format: 'tasker-snapshot', version: 1, generation: 1 },
        { task: enc('a'), logs: [encLog('one')] },
      ));
      await writeFile(join(dir, journalFile(1)), lines({ put: enc('b') }, { logs: 'a', entries: [encLog('two')] }));
    },
    'after step 3 (old journal deleted)': async (dir: string) => {
      await writeFile(join(dir, SNAPSHOT_FILE), lines(
        { format: 'tasker-snapshot', version: 1, generation: 1 },
        { task: enc('a'), logs: [encLog('one')] },
      ));
      await writeFile(join(dir, journalFile(1)), lines({ put: enc('b') }, { logs: 'a', entries: [encLog('two')] }));
    },
  };
  for (const [name, write] of Object.entries(states)) {
    test(`a compaction interrupted ${name} loads every change exactly once`, async (t) => {
      const dir = await tempDir(t);
      await write(dir);
      const [store, loaded] = await open(dir);
      t.after(() => store.close());
      assert.deepEqual([...loaded.keys()].sort(), ['a', 'b']);
      assert.deepEqual(loaded.get('a')!.logs.map((entry) => entry.message), ['one', 'two']);
      assert.ok(!(await readdir(dir)).includes(journalFile(0)) || name.includes('step 1'), 'a journal older than the snapshot is removed');
    });
  }
});

describe('JournalStore crash safety', () => {
  test('a torn last line is ignored with a warning, cut off, and the next append starts clean', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, journalFile(0));
    await writeFile(file, lines({ put: enc('a') }) + '{"put":{"uuid":"b","operat');
    const warnings: unknown[][] = [];
    const store = new JournalStore(dir, { logger: { ...quiet, warn: (...args: unknown[]) => warnings.push(args) } });
    const loaded = byUuid(await store.load());
    assert.deepEqual([...loaded.keys()], ['a']);
    assert.equal(warnings.length, 1);
    assert.match(String(warnings[0]![0]), /incomplete last line 2/);
    await store.commit([put(doc('c'))]);
    await store.close();
    const [again, reloaded] = await open(dir);
    t.after(() => again.close());
    assert.deepEqual([...reloaded.keys()].sort(), ['a', 'c']);
  });

  const corrupt: Record<string, [file: string, content: string, line: RegExp]> = {
    'garbage in the middle of the journal': [journalFile(0), lines({ put: enc('a') }) + 'garbage\n' + lines({ put: enc('b') }), /line 2/],
    'a journal line that is not a change': [journalFile(0), lines({ put: enc('a') }, { nope: 1 }), /line 2/],
    'a task with an unknown status': [journalFile(0), lines({ put: { ...enc('a'), status: 'toString' } }), /line 1/],
    'a log entry that is null': [journalFile(0), lines({ put: enc('a') }, { logs: 'a', entries: [null] }), /line 2/],
    'a snapshot that is not JSON': [SNAPSHOT_FILE, '{ nope\n', /line 1/],
    'a snapshot of another format': [SNAPSHOT_FILE, lines({ format: 'other', version: 1, generation: 1 }), /line 1/],
    'a snapshot of another version': [SNAPSHOT_FILE, lines({ format: 'tasker-snapshot', version: 99, generation: 1 }), /line 1/],
    'a snapshot with a malformed task': [SNAPSHOT_FILE, lines({ format: 'tasker-snapshot', version: 1, generation: 0 }, { task: { uuid: 1 }, logs: [] }), /line 2/],
  };
  for (const [name, [fileName, content, line]] of Object.entries(corrupt)) {
    test(`${name}: load rejects with ERR_STORE_CORRUPT naming the file and line, and changes nothing`, async (t) => {
      const dir = await tempDir(t);
      const file = join(dir, fileName);
      await writeFile(file, content);
      const store = new JournalStore(dir, { logger: quiet });
      await assert.rejects(store.load(), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_STORE_CORRUPT');
        assert.ok(error.message.includes(file), error.message);
        assert.match(error.message, line);
        return true;
      });
      assert.equal(await readFile(file, 'utf8'), content, 'left untouched');
      assert.deepEqual(await readdir(dir), [fileName], 'no lock left behind, nothing else written');
    });
  }
});

describe('JournalStore write failures', () => {
  test('a commit cut short by the file size limit rejects, the journal is cut back, and the next commit is clean', async (t) => {
    const dir = await tempDir(t);
    const script = fileURLToPath(new URL('../fixtures/scripts/short-write.mjs', import.meta.url));
    // ulimit -f counts 1024-byte blocks: 100 KiB, less than the 200 KB commit.
    const child = spawnSync('bash', ['-c', `ulimit -f 100 && exec "${process.execPath}" "${script}" "${dir}"`], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), { big: 'EFBIG', after: 'resolved', loaded: ['a', 'c'] });
  });
});

describe('JournalStore lock', () => {
  test('a lock left by this very thread, which no store here holds any more, is stale and taken over', async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, threadId: 0 }));
    const [store] = await open(dir);
    t.after(() => store.close());
    await assert.rejects(new JournalStore(dir, { logger: quiet }).load(), (error: Error & { code?: string }) => error.code === 'ERR_STORE_LOCKED');
  });

  test('a second store on the same directory fails with ERR_STORE_LOCKED until the first is closed', async (t) => {
    const dir = await tempDir(t);
    const [first] = await open(dir);
    await assert.rejects(new JournalStore(dir, { logger: quiet }).load(), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ERR_STORE_LOCKED');
      assert.match(error.message, new RegExp(String(process.pid)));
      return true;
    });
    await first.close();
    const [second] = await open(dir);
    await second.close();
  });

  test('a lock left by a process that no longer runs is taken over', async (t) => {
    const dir = await tempDir(t);
    // A pid that ran and exited: a child process that is gone now.
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(child.stdout);
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid }));
    const warnings: unknown[][] = [];
    const store = new JournalStore(dir, { logger: { ...quiet, warn: (...args: unknown[]) => warnings.push(args) } });
    await store.load();
    t.after(() => store.close());
    assert.equal(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
    assert.match(String(warnings[0]?.[0]), new RegExp(`process ${deadPid}`));
  });

  test('the lock of a live process in another directory does not matter; the store dir may not exist yet', async (t) => {
    const root = await tempDir(t);
    await mkdir(join(root, 'other'));
    const [a] = await open(join(root, 'one'));
    const [b] = await open(join(root, 'two', 'nested'));
    await a.close();
    await b.close();
  });
});

// ---- encoded fixtures -------------------------------------------------------------

function enc(uuid: string): Record<string, unknown> {
  return { uuid, operation: 'op', priority: 0, status: 'new', createdAt: '2026-01-01T00:00:00.000Z' };
}

function encLog(message: string): Record<string, unknown> {
  return { level: 'info', message, timestamp: '2026-01-02T00:00:00.000Z' };
}

function lines(...records: unknown[]): string {
  return records.map((record) => JSON.stringify(record)).join('\n') + '\n';
}
