import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { TaskerError, type StoreChange, type StoredTask, type TaskStore } from 'tasker';
import { Committer } from '../../dist/src/store/committer.js';

interface PendingCommit {
  changes: readonly StoreChange[];
  snapshot: StoreChange[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** A store whose commits stay pending until the test settles them. */
class ManualStore implements TaskStore {
  readonly commits: PendingCommit[] = [];
  /** Called on each commit: lets a test await a write without watching the clock. */
  onCommit: (() => void) | null = null;

  async load(): Promise<StoredTask[]> {
    return [];
  }

  commit(changes: readonly StoreChange[]): Promise<void> {
    const written = new Promise<void>((resolve, reject) => this.commits.push({ changes, snapshot: [...changes], resolve, reject }));
    this.onCommit?.();
    return written;
  }

  async close(): Promise<void> {}

  uuids(index: number): string[] {
    const commit = this.commits[index];
    assert.ok(commit !== undefined, `commit #${index} was not made (${this.commits.length} made)`);
    return commit.snapshot.map((c) => (c.type === 'put' ? c.task.uuid : c.uuid));
  }
}

const change = (uuid: string): StoreChange => ({ type: 'remove', uuid });

/** Lets queued microtasks and promise reactions run (one macrotask turn; no wall-clock time). */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Tracked {
  state: 'pending' | 'resolved' | 'rejected';
  error: unknown;
}

function track(promise: Promise<void>): Tracked {
  const tracked: Tracked = { state: 'pending', error: undefined };
  promise.then(
    () => (tracked.state = 'resolved'),
    (error: unknown) => {
      tracked.state = 'rejected';
      tracked.error = error;
    },
  );
  return tracked;
}

function setup(deferMs = 0): { store: ManualStore; committer: Committer; errors: TaskerError[] } {
  const store = new ManualStore();
  const errors: TaskerError[] = [];
  const committer = new Committer(store, (error) => errors.push(error), () => {}, deferMs);
  return { store, committer, errors };
}

/** Long enough never to fire within a test: what is written was written for another reason. */
const NEVER_MS = 10 * 60_000;

describe('Committer batching', () => {
  test('changes pushed in one tick go to the store as one batch, in push order', async () => {
    const { store, committer } = setup();
    const a = track(committer.push(change('a')));
    const b = track(committer.push(change('b')));
    const c = track(committer.push(change('c')));
    assert.equal(store.commits.length, 0, 'nothing is written synchronously');
    await tick();
    assert.equal(store.commits.length, 1);
    assert.deepEqual(store.uuids(0), ['a', 'b', 'c']);
    assert.deepEqual([a.state, b.state, c.state], ['pending', 'pending', 'pending']);
    store.commits[0]!.resolve();
    await tick();
    assert.deepEqual([a.state, b.state, c.state], ['resolved', 'resolved', 'resolved']);
    assert.equal(store.commits.length, 1);
  });

  test('changes pushed while a commit is in flight go together in the next batch', async () => {
    const { store, committer } = setup();
    const a = track(committer.push(change('a')));
    await tick();
    assert.equal(store.commits.length, 1);
    const b = track(committer.push(change('b')));
    await tick();
    const c = track(committer.push(change('c')));
    await tick();
    assert.equal(store.commits.length, 1, 'no second write while the first is in flight');
    store.commits[0]!.resolve();
    await tick();
    assert.equal(a.state, 'resolved');
    assert.deepEqual([b.state, c.state], ['pending', 'pending']);
    assert.equal(store.commits.length, 2);
    assert.deepEqual(store.uuids(1), ['b', 'c']);
    assert.deepEqual(store.uuids(0), ['a'], 'the first batch array was not changed afterwards');
    assert.deepEqual(store.commits[0]!.changes.map((x) => (x as { uuid: string }).uuid), ['a']);
    store.commits[1]!.resolve();
    await tick();
    assert.deepEqual([b.state, c.state], ['resolved', 'resolved']);
  });

  test('a batch with no changes does not call the store, and still settles', async () => {
    const { store, committer } = setup();
    const log: string[] = [];
    const p = track(committer.push(null, () => log.push('cb')));
    await tick();
    assert.equal(store.commits.length, 0);
    assert.deepEqual(log, ['cb']);
    assert.equal(p.state, 'resolved');
  });
});

describe('Committer callbacks', () => {
  test('run after their batch is durable, in push order, before the promises resolve', async () => {
    const { store, committer } = setup();
    const log: string[] = [];
    void committer.push(change('a'), () => log.push('cb a')).then(() => log.push('resolved a'));
    void committer.push(null, () => log.push('cb null'));
    void committer.push(change('b'), () => log.push('cb b')).then(() => log.push('resolved b'));
    void committer.push(change('c')).then(() => log.push('resolved c'));
    await tick();
    assert.equal(store.commits.length, 1);
    assert.equal(log.length, 0, 'no callback before the batch is durable');
    // Pushed while the first batch is in flight: belongs to the second batch.
    void committer.push(change('d'), () => log.push('cb d'));
    store.commits[0]!.resolve();
    await tick();
    assert.deepEqual(log, ['cb a', 'cb null', 'cb b', 'resolved a', 'resolved b', 'resolved c']);
    assert.equal(store.commits.length, 2);
    store.commits[1]!.resolve();
    await tick();
    assert.deepEqual(log.slice(6), ['cb d']);
  });

  test('a batch longer than a slice: each push settles after its own callback; flush() and exclusive() only after the last', async () => {
    const { store, committer } = setup();
    // Each callback takes at least 50 µs: 2,000 of them span many 1 ms slices, however fast the machine.
    const spin = (ms: number): void => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const N = 2000;
    let ran = 0;
    const pushes: Array<Promise<void>> = [];
    for (let i = 0; i < N; i++) pushes.push(committer.push(change(String(i)), () => {
      ran++;
      spin(0.05);
    }));
    const ranWhen = (promise: Promise<unknown>): Promise<number> => promise.then(() => ran);
    const first = ranWhen(pushes[0]!);
    const flushed = ranWhen(committer.flush());
    const midBatchFlush = ranWhen(pushes[0]!.then(() => committer.flush()));
    let ranWhenWorkRan = -1;
    const excl = committer.exclusive(async () => {
      ranWhenWorkRan = ran;
    });
    await tick();
    store.commits[0]!.resolve();
    const firstSaw = await first;
    assert.ok(firstSaw >= 1 && firstSaw < N, `the first push settled within the first slice (after ${firstSaw} callbacks), not after all ${N}`);
    assert.equal(await flushed, N);
    assert.equal(await midBatchFlush, N, 'a flush() pushed while the batch is announced waits for its last callback');
    await excl;
    assert.equal(ranWhenWorkRan, N);
    await Promise.all(pushes);
  });

  test('a change pushed from a callback goes in a later batch', async () => {
    const { store, committer } = setup();
    let inner: Tracked | undefined;
    void committer.push(change('a'), () => {
      inner = track(committer.push(change('from-callback')));
    });
    await tick();
    store.commits[0]!.resolve();
    await tick();
    assert.equal(store.commits.length, 2);
    assert.deepEqual(store.uuids(1), ['from-callback']);
    assert.equal(inner?.state, 'pending');
    store.commits[1]!.resolve();
    await tick();
    assert.equal(inner?.state, 'resolved');
  });
});

describe('Committer failures', () => {
  test('a failing commit rejects its batch with ERR_STORE_WRITE_FAILED, calls onError, and the next batch commits', async () => {
    const { store, committer, errors } = setup();
    const log: string[] = [];
    const a = track(committer.push(change('a'), () => log.push('cb a')));
    const b = track(committer.push(change('b'), () => log.push('cb b')));
    await tick();
    const c = track(committer.push(change('c'), () => log.push('cb c')));
    const cause = new Error('disk full');
    store.commits[0]!.reject(cause);
    await tick();
    assert.equal(a.state, 'rejected');
    assert.equal(b.state, 'rejected');
    const error = a.error as TaskerError;
    assert.ok(error instanceof TaskerError);
    assert.equal(error.code, 'ERR_STORE_WRITE_FAILED');
    assert.match(error.message, /disk full/);
    assert.equal(error.cause, cause);
    assert.equal(b.error, error, 'the batch shares one error');
    assert.deepEqual(errors, [error], 'onError is called once per failed batch');
    assert.deepEqual(log, ['cb a', 'cb b'], 'callbacks still run after a failed write');

    assert.equal(store.commits.length, 2, 'the next batch is written');
    assert.deepEqual(store.uuids(1), ['c']);
    assert.equal(c.state, 'pending');
    store.commits[1]!.resolve();
    await tick();
    assert.equal(c.state, 'resolved');
    assert.deepEqual(log, ['cb a', 'cb b', 'cb c']);
    assert.equal(errors.length, 1);

    // And a later batch after the failure still commits normally.
    const d = track(committer.push(change('d')));
    await tick();
    store.commits[2]!.resolve();
    await tick();
    assert.equal(d.state, 'resolved');
  });

  test("the store's own TaskerError is passed through as is", async () => {
    const { store, committer, errors } = setup();
    const a = track(committer.push(change('a')));
    await tick();
    const own = new TaskerError('ERR_STORE_CORRUPT', 'store says no');
    store.commits[0]!.reject(own);
    await tick();
    assert.equal(a.state, 'rejected');
    assert.equal(a.error, own);
    assert.deepEqual(errors, [own]);
  });

  test('a non-Error rejection becomes ERR_STORE_WRITE_FAILED naming it', async () => {
    const { store, committer, errors } = setup();
    const a = track(committer.push(change('a')));
    await tick();
    store.commits[0]!.reject('EACCES-ish string');
    await tick();
    assert.equal(a.state, 'rejected');
    assert.equal((a.error as TaskerError).code, 'ERR_STORE_WRITE_FAILED');
    assert.match((a.error as Error).message, /EACCES-ish string/);
    assert.equal(errors.length, 1);
  });

  test('a store whose commit throws synchronously rejects the batch instead of crashing', () => {
    const url = new URL('../../dist/src/store/committer.js', import.meta.url).href;
    const script = `
      import { Committer } from ${JSON.stringify(url)};
      process.on('uncaughtException', (e) => { console.log('uncaught ' + e.message); process.exit(2); });
      const store = { load: async () => [], close: async () => {}, commit() { throw new Error('sync boom'); } };
      const c = new Committer(store, () => {});
      c.push({ type: 'remove', uuid: 'a' }).then(() => console.log('resolved'), (e) => console.log('rejected ' + e.code));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.stdout.trim(), 'rejected ERR_STORE_WRITE_FAILED', child.stderr);
    assert.equal(child.status, 0);
  });
});

describe('Committer.flush', () => {
  test('resolves at once when nothing is pending', async () => {
    const { store, committer } = setup();
    const f = track(committer.flush());
    await tick();
    assert.equal(f.state, 'resolved');
    assert.equal(store.commits.length, 0);
  });

  test('resolves after everything pushed before it is durable', async () => {
    const { store, committer } = setup();
    const a = track(committer.push(change('a')));
    await tick();
    const b = track(committer.push(change('b')));
    const f = track(committer.flush());
    await tick();
    assert.equal(f.state, 'pending');
    store.commits[0]!.resolve();
    await tick();
    assert.equal(a.state, 'resolved');
    assert.equal(f.state, 'pending', 'b is still in flight');
    assert.equal(store.commits.length, 2);
    assert.deepEqual(store.uuids(1), ['b'], 'flush adds no change of its own');
    // Pushed after flush(): flush does not wait for it.
    const late = track(committer.push(change('late')));
    store.commits[1]!.resolve();
    await tick();
    assert.equal(b.state, 'resolved');
    assert.equal(f.state, 'resolved');
    assert.equal(late.state, 'pending');
    assert.equal(store.commits.length, 3);
    assert.deepEqual(store.uuids(2), ['late']);
    store.commits[2]!.resolve();
    await tick();
    assert.equal(late.state, 'resolved');
  });

  test('flush in the same tick as the pushes joins their batch', async () => {
    const { store, committer } = setup();
    void committer.push(change('a'));
    const f = track(committer.flush());
    await tick();
    assert.equal(store.commits.length, 1);
    assert.equal(f.state, 'pending');
    store.commits[0]!.resolve();
    await tick();
    assert.equal(f.state, 'resolved');
    assert.equal(store.commits.length, 1);
  });

  test('resolves (never rejects) when the write before it fails', async () => {
    const { store, committer } = setup();
    const a = track(committer.push(change('a')));
    const f = track(committer.flush());
    await tick();
    store.commits[0]!.reject(new Error('EIO'));
    await tick();
    assert.equal(a.state, 'rejected');
    assert.equal(f.state, 'resolved');
  });
});

describe('Committer deferrable changes', () => {
  test('a deferrable change alone starts no write; the next urgent change takes it along, in push order', async () => {
    const { store, committer } = setup(NEVER_MS);
    const a = track(committer.push(change('a'), undefined, true));
    await tick();
    await tick();
    assert.equal(store.commits.length, 0, 'a deferrable change waits');
    const b = track(committer.push(change('b')));
    await tick();
    assert.equal(store.commits.length, 1);
    assert.deepEqual(store.uuids(0), ['a', 'b']);
    store.commits[0]!.resolve();
    await tick();
    assert.deepEqual([a.state, b.state], ['resolved', 'resolved']);
  });

  test('a deferrable change pushed while a write is in flight is not written when that write ends', async () => {
    const { store, committer } = setup(NEVER_MS);
    const a = track(committer.push(change('a')));
    await tick();
    const b = track(committer.push(change('b'), undefined, true));
    store.commits[0]!.resolve();
    await tick();
    await tick();
    assert.equal(a.state, 'resolved');
    assert.equal(store.commits.length, 1, 'b waits for another change');
    const c = track(committer.push(change('c')));
    await tick();
    assert.deepEqual(store.uuids(1), ['b', 'c']);
    store.commits[1]!.resolve();
    await tick();
    assert.deepEqual([b.state, c.state], ['resolved', 'resolved']);
  });

  test('flush() writes deferred changes', async () => {
    const { store, committer } = setup(NEVER_MS);
    const a = track(committer.push(change('a'), undefined, true));
    const flushed = track(committer.flush());
    await tick();
    assert.deepEqual(store.uuids(0), ['a']);
    store.commits[0]!.resolve();
    await tick();
    assert.deepEqual([a.state, flushed.state], ['resolved', 'resolved']);
  });

  test('a deferrable change alone is written once deferMs has passed', async () => {
    const { store, committer } = setup(1);
    const written = new Promise<void>((resolve) => (store.onCommit = resolve));
    const a = track(committer.push(change('a'), undefined, true));
    await written;
    assert.deepEqual(store.uuids(0), ['a']);
    store.commits[0]!.resolve();
    await tick();
    assert.equal(a.state, 'resolved');
  });

  test('with deferMs 0 (stores without I/O) a deferrable change is written like any other', async () => {
    const { store, committer } = setup(0);
    committer.push(change('a'), undefined, true).catch(() => {});
    await tick();
    assert.deepEqual(store.uuids(0), ['a']);
  });
});

describe('Committer puts of one task in one batch', () => {
  const put = (uuid: string, status: 'new' | 'running' | 'done'): StoreChange => ({
    type: 'put',
    task: { uuid, operation: 'op', priority: 0, status, createdAt: new Date(0) },
  });
  const shape = (store: ManualStore, index: number): string[] =>
    store.commits[index]!.snapshot.map((c) => (c.type === 'put' ? `put ${c.task.uuid} ${c.task.status}` : `${c.type} ${c.uuid}`));

  test('a later put replaces the earlier one in its place; every push still settles', async () => {
    const { store, committer } = setup(NEVER_MS);
    const settled = [
      track(committer.push(put('x', 'running'), undefined, true)),
      track(committer.push(put('y', 'new'))),
      track(committer.push(put('x', 'done'))),
    ];
    await tick();
    assert.deepEqual(shape(store, 0), ['put x done', 'put y new']);
    store.commits[0]!.resolve();
    await tick();
    assert.deepEqual(settled.map((t) => t.state), ['resolved', 'resolved', 'resolved']);
  });

  test("a put after the task's logs or removal is kept after them, not merged", async () => {
    const { store, committer } = setup();
    void committer.push(put('x', 'running'));
    void committer.push({ type: 'logs', uuid: 'x', entries: [{ level: 'info', message: 'm', timestamp: new Date(0) }] });
    void committer.push(put('x', 'done'));
    void committer.push(put('z', 'done'));
    void committer.push({ type: 'remove', uuid: 'z' });
    void committer.push(put('z', 'new'));
    await tick();
    assert.deepEqual(shape(store, 0), ['put x running', 'logs x', 'put x done', 'put z done', 'remove z', 'put z new']);
  });

  test('a put never replaces one in a batch already being written', async () => {
    const { store, committer } = setup();
    void committer.push(put('x', 'running'));
    await tick();
    void committer.push(put('x', 'done'));
    store.commits[0]!.resolve();
    await tick();
    assert.deepEqual(shape(store, 0), ['put x running']);
    assert.deepEqual(shape(store, 1), ['put x done']);
  });
});

describe('Committer.exclusive', () => {
  test('runs after every earlier batch is written and announced, and before any later batch is written', async () => {
    const { store, committer } = setup();
    const order: string[] = [];
    void committer.push(change('a'), () => order.push('a announced'));
    let release!: () => void;
    const work = track(committer.exclusive(() => {
      order.push(`work, ${store.commits.length} commit(s) made`);
      return new Promise<void>((resolve) => (release = resolve));
    }));
    void committer.push(change('b'), () => order.push('b announced'));
    await tick();
    assert.deepEqual(store.uuids(0), ['a'], 'b is not in the batch before the barrier');
    store.commits[0]!.resolve();
    await tick();
    assert.deepEqual(order, ['a announced', 'work, 1 commit(s) made']);
    assert.equal(store.commits.length, 1, 'b waits for the work');
    release();
    await tick();
    assert.equal(work.state, 'resolved');
    assert.deepEqual(store.uuids(1), ['b']);
    store.commits[1]!.resolve();
    await tick();
    assert.deepEqual(order, ['a announced', 'work, 1 commit(s) made', 'b announced']);
  });

  test("a failing work rejects its own promise, not the batches', and the next batch is written", async () => {
    const { store, committer, errors } = setup();
    const work = track(committer.exclusive(() => Promise.reject(new Error('no space'))));
    const b = track(committer.push(change('b')));
    await tick();
    assert.equal(work.state, 'rejected');
    assert.equal(errors.length, 0, 'not a store write failure');
    store.commits[0]!.resolve();
    await tick();
    assert.equal(b.state, 'resolved');
  });
});
