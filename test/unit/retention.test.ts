import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TaskDoc } from 'tasker';
import { RETENTION_BATCH, Retention, RetentionIndex } from '../../dist/src/retention.js';
import { validateRetentionOption } from '../../dist/src/retention-options.js';
import type { TaskRecord } from '../../dist/src/registry.js';
import { FakeClock } from '../helpers/fake-clock.js';

const T0 = Date.UTC(2026, 0, 1);
let seq = 0;

/** An ended task record, ended `at` ms after T0. */
function ended(status: 'done' | 'failed' | 'aborted', at: number, maxAge?: number): TaskRecord {
  const n = ++seq;
  const doc: TaskDoc = {
    uuid: `u-${String(n).padStart(6, '0')}`,
    operation: 'x',
    priority: 0,
    status,
    createdAt: new Date(T0),
    endedAt: new Date(T0 + at),
  };
  if (maxAge !== undefined) doc.retention = { maxAge };
  return { doc, logs: [], seq: n };
}

const uuids = (records: TaskRecord[]): string[] => records.map((r) => r.doc.uuid).sort();

describe('RetentionIndex', () => {
  test('maxAge: only tasks whose endedAt + maxAge has passed are due, oldest first', () => {
    const index = new RetentionIndex(validateRetentionOption({ maxAge: 100 }));
    const a = ended('done', 0);
    const b = ended('failed', 50);
    const c = ended('aborted', 200);
    for (const r of [c, a, b]) index.add(r);
    assert.deepEqual(index.takeDue(T0 + 99, 100), []);
    assert.deepEqual(index.takeDue(T0 + 150, 100), [a, b]);
    assert.deepEqual(index.takeDue(T0 + 299, 100), []);
    assert.deepEqual(index.takeDue(T0 + 300, 100), [c]);
    assert.equal(index.size, 0);
  });

  test('a per-task maxAge overrides the policy, and applies without any policy', () => {
    const index = new RetentionIndex(validateRetentionOption({ maxAge: 1000 }));
    const short = ended('done', 0, 10);
    const long = ended('done', 0, 5000);
    const usual = ended('done', 0);
    for (const r of [long, usual, short]) index.add(r);
    assert.deepEqual(index.takeDue(T0 + 10, 100), [short]);
    assert.deepEqual(index.takeDue(T0 + 1000, 100), [usual]);
    assert.deepEqual(index.takeDue(T0 + 4999, 100), []);
    assert.deepEqual(index.takeDue(T0 + 5000, 100), [long]);

    const bare = new RetentionIndex(null);
    const own = ended('done', 0, 5);
    bare.add(own);
    bare.add(ended('done', 0));
    assert.equal(bare.size, 1, 'a task no rule applies to is not indexed');
    assert.deepEqual(bare.takeDue(T0 + 5, 100), [own]);
  });

  test('maxCount keeps the newest N of each status; a number applies to each status', () => {
    const index = new RetentionIndex(validateRetentionOption({ maxCount: { done: 2, failed: 0 } }));
    const done = [ended('done', 30), ended('done', 10), ended('done', 20), ended('done', 40)];
    const failed = [ended('failed', 5)];
    const aborted = [ended('aborted', 1), ended('aborted', 2)];
    for (const r of [...done, ...failed, ...aborted]) index.add(r);
    assert.deepEqual(uuids(index.takeDue(T0, 100)), uuids([done[1]!, done[2]!, failed[0]!]));
    assert.deepEqual(index.takeDue(T0 + 1e9, 100), [], 'maxCount alone never ages anything out');

    const each = new RetentionIndex(validateRetentionOption({ maxCount: 1 }));
    const all = [ended('done', 1), ended('done', 2), ended('failed', 1), ended('failed', 2), ended('aborted', 1)];
    for (const r of all) each.add(r);
    assert.deepEqual(uuids(each.takeDue(T0, 100)), uuids([all[0]!, all[2]!]));
  });

  test('tasks forgotten (removed by another path) no longer count, and their entries do not pile up', () => {
    const index = new RetentionIndex(validateRetentionOption({ maxCount: 2, maxAge: 1e6 }));
    const records = Array.from({ length: 5000 }, (_, i) => ended('done', i));
    for (const r of records) index.add(r);
    for (const r of records.slice(0, 4997)) index.forget(r.doc.uuid);
    assert.equal(index.size, 3);
    // 3 live, maxCount 2: the oldest live one goes, not a forgotten one.
    assert.deepEqual(index.takeDue(T0, 100), [records[4997]!]);
    assert.ok(index.slots <= 2 * index.size + 2048, `dead entries are compacted (${index.slots} slots for ${index.size} live)`);
  });

  test('takeDue honours its limit and leaves the rest for the next call', () => {
    const index = new RetentionIndex(validateRetentionOption({ maxAge: 0 }));
    for (let i = 0; i < 10; i++) index.add(ended('done', i));
    assert.equal(index.takeDue(T0 + 100, 4).length, 4);
    assert.equal(index.takeDue(T0 + 100, 4).length, 4);
    assert.equal(index.takeDue(T0 + 100, 4).length, 2);
    assert.equal(index.size, 0);
  });

  test('a task indexed again (it ended again) keeps only its newer end; a task no longer ended is never returned', () => {
    const index = new RetentionIndex(validateRetentionOption({ maxAge: 100 }));
    const r = ended('failed', 0);
    index.add(r);
    r.doc.endedAt = new Date(T0 + 500);
    index.add(r);
    assert.deepEqual(index.takeDue(T0 + 200, 10), []);
    assert.deepEqual(index.takeDue(T0 + 600, 10), [r]);

    const back = ended('failed', 0);
    index.add(back);
    back.doc.status = 'new';
    assert.deepEqual(index.takeDue(T0 + 1e6, 10), [], 'not ended any more: left alone');
  });
});

describe('Retention (sweeper)', () => {
  function sweeper(options: Parameters<typeof validateRetentionOption>[0] | null) {
    const clock = new FakeClock(T0);
    const removed: string[] = [];
    const calls: number[] = [];
    const waiting: Array<{ count: number; resolve: () => void }> = [];
    const retention = new Retention(options === null ? null : validateRetentionOption(options), {
      clock,
      logger: null,
      remove: async (records) => {
        calls.push(records.length);
        for (const r of records) removed.push(r.doc.uuid);
        for (const w of waiting) if (calls.length >= w.count) w.resolve();
      },
    });
    /** Resolves once `remove` has been called `count` times in all. */
    const removeCalls = (count: number): Promise<void> =>
      calls.length >= count ? Promise.resolve() : new Promise((resolve) => waiting.push({ count, resolve }));
    return { clock, retention, removed, calls, removeCalls };
  }

  test('sweeps once at start, then every interval on the injected clock; stop clears the timer', async () => {
    const { clock, retention, removed, removeCalls } = sweeper({ maxAge: 1000, interval: 500 });
    const old = ended('done', -2000);
    const young = ended('done', 0);
    retention.ended(old);
    retention.ended(young);
    assert.equal(clock.pendingTimers, 0, 'no timer before start');
    retention.start();
    await removeCalls(1);
    assert.deepEqual(removed, [old.doc.uuid]);
    assert.equal(clock.pendingTimers, 1, 'one timer armed');
    clock.advance(500);
    assert.deepEqual(removed, [old.doc.uuid], 'not due yet at +500');
    clock.advance(500);
    await removeCalls(2);
    assert.deepEqual(removed, [old.doc.uuid, young.doc.uuid]);
    await retention.stop();
    assert.equal(clock.pendingTimers, 0, 'stop clears the timer');
    clock.advance(10_000);
  });

  test('without a policy, no timer runs until a task with its own maxAge ends', async () => {
    const { clock, retention, removed, removeCalls } = sweeper(null);
    retention.start();
    assert.equal(clock.pendingTimers, 0);
    retention.ended(ended('done', 0));
    assert.equal(clock.pendingTimers, 0, 'a task without retention arms nothing');
    const own = ended('done', 0, 60_000);
    retention.ended(own);
    assert.equal(clock.pendingTimers, 1);
    clock.advance(60_000);
    await removeCalls(1);
    assert.deepEqual(removed, [own.doc.uuid]);
    await retention.stop();
    assert.equal(clock.pendingTimers, 0);
  });

  test('a large backlog is removed in bounded batches; stop ends the sweep after the batch in flight', async () => {
    const { retention, calls, removeCalls } = sweeper({ maxCount: 0 });
    const n = RETENTION_BATCH * 2 + 10;
    for (let i = 0; i < n; i++) retention.ended(ended('done', i));
    retention.start();
    await removeCalls(3);
    assert.deepEqual(calls, [RETENTION_BATCH, RETENTION_BATCH, 10]);

    const second = sweeper({ maxCount: 0 });
    for (let i = 0; i < n; i++) second.retention.ended(ended('done', i));
    second.retention.start();
    await second.removeCalls(1);
    await second.retention.stop();
    assert.ok(second.calls.length < 3, `stop() ends the sweep before the whole backlog (${second.calls.length} batches)`);
  });
});

describe('retention options', () => {
  test('defaults and the number form of maxCount', () => {
    assert.deepEqual(validateRetentionOption({}), { maxAge: null, maxCount: { done: null, failed: null, aborted: null }, interval: 60_000 });
    assert.deepEqual(validateRetentionOption({ maxCount: 3, maxAge: 2 ** 40, interval: 5 }), {
      maxAge: 2 ** 40,
      maxCount: { done: 3, failed: 3, aborted: 3 },
      interval: 5,
    });
  });
});
