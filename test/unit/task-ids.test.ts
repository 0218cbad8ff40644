/**
 * Task uuids (src/task-ids.ts): version 7, strictly increasing within the
 * process (the FIFO order among equal priorities after a restart falls back on
 * it), their time the time they were made, across refills of the random pool.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate, version } from 'uuid';
import { newTaskUuid } from '../../dist/src/task-ids.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The Unix time in ms a version 7 uuid carries in its first 48 bits. */
function msOf(uuid: string): number {
  return Number.parseInt(uuid.slice(0, 8) + uuid.slice(9, 13), 16);
}

test('20,000 task uuids in a burst: valid version 7, unique, strictly increasing, carrying the time they were made', () => {
  const before = Date.now();
  const ids = Array.from({ length: 20_000 }, () => newTaskUuid());
  const after = Date.now();
  for (const id of ids) {
    assert.match(id, V7);
    assert.ok(validate(id));
    assert.equal(version(id), 7);
  }
  assert.equal(new Set(ids).size, ids.length);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  assert.ok(msOf(ids[0]!) >= before && msOf(ids.at(-1)!) <= after, 'the time in each is between the clock readings around the burst');
  // 20,000 × 16 random bytes: the 4 KB pool was refilled many times; the random tails must not repeat.
  assert.equal(new Set(ids.map((id) => id.slice(-12))).size, ids.length);
});

test('task uuids stay strictly increasing when the clock steps back, and carry the clock again once it is ahead', (t) => {
  let now = Date.now() + 10_000;
  t.mock.method(Date, 'now', () => now);
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) ids.push(newTaskUuid());
  now -= 5_000; // an NTP step back
  for (let i = 0; i < 50; i++) ids.push(newTaskUuid());
  now += 10_000;
  for (let i = 0; i < 50; i++) ids.push(newTaskUuid());
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${i}: ${ids[i - 1]} < ${ids[i]}`);
  assert.equal(msOf(ids[60]!), msOf(ids[0]!), 'while the clock is behind, the last time given is kept');
  assert.equal(msOf(ids.at(-1)!), now);
});
