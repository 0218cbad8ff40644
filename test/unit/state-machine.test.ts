import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TaskStatus } from 'tasker';
import { TRANSITIONS, canTransition, isEnded } from '../../dist/src/state-machine.js';

const STATUSES: readonly TaskStatus[] = ['new', 'running', 'done', 'failed', 'aborted'];

/**
 * The lifecycle: new → running → done | failed | aborted; new → aborted; new → failed (condition error);
 * running → new (retry, requeue, postpone).
 */
const ALLOWED: ReadonlySet<string> = new Set([
  'new→running',
  'new→aborted',
  'new→failed',
  'running→done',
  'running→failed',
  'running→aborted',
  'running→new',
]);

describe('state machine', () => {
  test('the table has exactly the five statuses', () => {
    assert.deepEqual(Object.keys(TRANSITIONS).sort(), [...STATUSES].sort());
  });

  for (const from of STATUSES) {
    for (const to of STATUSES) {
      const allowed = ALLOWED.has(`${from}→${to}`);
      test(`${from} → ${to} is ${allowed ? 'allowed' : 'forbidden'}`, () => {
        assert.equal(canTransition(from, to), allowed);
        assert.equal(TRANSITIONS[from].includes(to), allowed);
      });
    }
  }

  test('no status may transition to itself; only a running task goes back to new', () => {
    for (const status of STATUSES) {
      assert.equal(canTransition(status, status), false, status);
      assert.equal(canTransition(status, 'new'), status === 'running', status);
    }
  });

  test('done, failed and aborted are ended; new and running are not', () => {
    assert.equal(isEnded('new'), false);
    assert.equal(isEnded('running'), false);
    assert.equal(isEnded('done'), true);
    assert.equal(isEnded('failed'), true);
    assert.equal(isEnded('aborted'), true);
  });

  test('ended statuses have no way out', () => {
    for (const status of ['done', 'failed', 'aborted'] as const) assert.deepEqual([...TRANSITIONS[status]], []);
  });
});
