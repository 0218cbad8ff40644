import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseIsoDate } from '../../dist/src/store/task-codec.js';

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
