import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeTask, parseIsoDate } from '../../dist/src/store/task-codec.js';
import { encodeJsonValue } from '../../dist/src/json-value.js';

/** Both as epoch ms, so that two Invalid Dates compare equal (NaN). */
const same = (text: string): void => {
  const expected = new Date(text).getTime();
  const actual = parseIsoDate(text).getTime();
  assert.ok(Object.is(actual, expected), `${text}: ${actual} instead of ${expected}`);
};

describe('parseIsoDate reads stored dates as new Date() does', () => {
  test('every toISOString() output, across years, months, leap days and times of day', () => {
    // A deterministic walk over 1970-2100 in steps that are not whole days, so that every field varies.
    for (let ms = 0; ms < 4_102_444_800_000; ms += 86_400_000 * 3 + 3_723_456) same(new Date(ms).toISOString());
    for (const text of ['2024-02-29T00:00:00.000Z', '1999-12-31T23:59:59.999Z', '2000-01-01T00:00:00.000Z', '0100-01-01T00:00:00.000Z']) same(text);
  });

  test('what the parser rolls over or refuses, it answers the same way', () => {
    for (const text of [
      '2026-02-30T00:00:00.000Z', // rolled over to March
      '2026-13-01T00:00:00.000Z', // refused
      '2026-00-10T00:00:00.000Z',
      '2026-01-00T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z', // accepted as the next midnight
      '2026-01-01T23:60:00.000Z',
      '2026-01-01T23:59:60.000Z',
      '0050-01-01T00:00:00.000Z', // Date.UTC would read year 50 as 1950
      '2026-0a-01T00:00:00.000Z',
      '2026-01-01T00:00:00.00aZ',
      '+275760-09-13T00:00:00.000Z',
      '2026-01-01',
      '2026-01-01T00:00:00Z',
      'not a date',
      '',
    ]) same(text);
  });
});

describe('encodeTask writes what the field-by-field encoding wrote', () => {
  /** The encoding before documents were written as they are: each Date field an ISO string, nested values encoded. */
  function reference(task: Record<string, unknown>): string {
    const out: Record<string, unknown> = { ...task };
    for (const field of ['createdAt', 'startedAt', 'endedAt', 'runAfter', 'queuedAt']) {
      if (task[field] !== undefined) out[field] = (task[field] as Date).toISOString();
    }
    for (const field of ['id', 'data', 'result', 'error', 'abortReason', 'concurrency', 'attempts', 'retry', 'progress']) {
      if (task[field] !== undefined) out[field] = encodeJsonValue(task[field]);
    }
    if (!Number.isFinite(task['priority'])) out['priority'] = String(task['priority']);
    return JSON.stringify(out);
  }
  const at = new Date(Date.UTC(2026, 10, 29, 9, 30, 0, 123));
  const docs: Array<Record<string, unknown>> = [
    { uuid: 'u1', operation: 'op', priority: 0, status: 'new', createdAt: at, data: { file: 'a.jpg', width: 640 } },
    { uuid: 'u2', operation: 'op', priority: Infinity, status: 'done', createdAt: at, startedAt: at, endedAt: at, result: [1, 'two', null, { three: 3 }] },
    { uuid: 'u3', operation: 'op', priority: -Infinity, status: 'failed', createdAt: at, data: { when: at, $$date: 'not a date', nested: [{ $$x: 1 }] }, error: { name: 'Error', message: 'm' } },
    { uuid: 'u4', operation: 'op', priority: 3, status: 'new', createdAt: at, runAfter: at, queuedAt: at, attempts: [{ startedAt: at, endedAt: at, outcome: 'failed', error: null }] },
    { uuid: 'u5', operation: 'op', priority: 1, status: 'running', createdAt: at, startedAt: at, id: 'x', data: JSON.parse('{"__proto__": {"a": 1}, "b": [true, false]}'), progress: { ratio: 0.5, at } },
    { uuid: 'u6', operation: 'op', priority: 0, status: 'done', createdAt: at, data: Object.assign(Object.create(null), { k: 'v' }), result: 'text' },
  ];

  test('byte for byte, for plain, Date-holding, $$-keyed, __proto__-keyed and infinite-priority documents', () => {
    for (const doc of docs) assert.equal(JSON.stringify(encodeTask(doc as never)), reference(doc), String(doc['uuid']));
  });

  test('a document needing no encoding is written as it is, without a copy', () => {
    assert.equal(encodeTask(docs[0] as never), docs[0]);
  });
});
