import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { outcomeKind, retryDelay, shouldRetry, validateRetryPolicy } from '../../dist/src/retry.js';
import { TimerQueue } from '../../dist/src/timer-queue.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('retry policy', () => {
  test('fixed and exponential delays, capped by maxDelay', () => {
    assert.deepEqual([1, 2, 3].map((n) => retryDelay({ type: 'fixed', delay: 500 }, n)), [500, 500, 500]);
    assert.deepEqual([1, 2, 3, 4].map((n) => retryDelay({ type: 'exponential', delay: 100 }, n)), [100, 200, 400, 800]);
    assert.deepEqual([1, 2, 3, 4].map((n) => retryDelay({ type: 'exponential', delay: 100, maxDelay: 250 }, n)), [100, 200, 250, 250]);
    assert.equal(retryDelay(undefined, 3), 0);
    // A huge retry number stays a valid timer delay.
    assert.equal(retryDelay({ type: 'exponential', delay: 1_000 }, 10_000), 2 ** 31 - 1);
  });

  test('jitter draws from [delay × (1 − jitter), delay]', () => {
    const backoff = { type: 'fixed' as const, delay: 1_000, jitter: 0.5 };
    assert.equal(retryDelay(backoff, 1, () => 0), 1_000);
    assert.equal(retryDelay(backoff, 1, () => 0.999_999), 500);
    assert.equal(retryDelay(backoff, 1, () => 0.5), 750);
  });

  test('outcome kinds from the stored error', () => {
    assert.equal(outcomeKind({ name: 'Error', message: 'x', code: 'E_ANY' }, false), 'error');
    assert.equal(outcomeKind('a thrown string', false), 'error');
    assert.equal(outcomeKind(null, false), 'error');
    assert.equal(outcomeKind({ code: 'ERR_WORKER_CRASHED' }, false), 'crash');
    assert.equal(outcomeKind({ code: 'ERR_WORKER_EXITED' }, false), 'crash');
    assert.equal(outcomeKind({ code: 'ERR_WORKER_OUT_OF_MEMORY' }, false), 'out-of-memory');
    assert.equal(outcomeKind({ code: 'ERR_TASK_RUN_TIMEOUT' }, true), 'timeout');
  });

  test('shouldRetry: the budget counts runs, retryOn lists kinds or decides by predicate', () => {
    const report = (): void => assert.fail('not expected');
    assert.equal(shouldRetry({ attempts: 3 }, 2, 2, 'error', null, report), true);
    assert.equal(shouldRetry({ attempts: 3 }, 3, 3, 'error', null, report), false);
    assert.equal(shouldRetry({ attempts: 3 }, 2, 4, 'error', null, report), true, 'requeued runs (attempt 4, two counted) leave room');
    assert.equal(shouldRetry({ attempts: 3, retryOn: ['crash'] }, 1, 1, 'error', null, report), false);
    assert.equal(shouldRetry({ attempts: 3, retryOn: ['crash'] }, 1, 1, 'crash', null, report), true);
    const seen: unknown[] = [];
    const predicate = (error: unknown, attempt: number): boolean => (seen.push([error, attempt]), attempt < 3);
    assert.equal(shouldRetry({ attempts: 5, retryOn: predicate }, 1, 2, 'error', { code: 'E' }, report), true);
    assert.equal(shouldRetry({ attempts: 5, retryOn: predicate }, 2, 3, 'error', { code: 'E' }, report), false);
    assert.deepEqual(seen, [[{ code: 'E' }, 2], [{ code: 'E' }, 3]], 'the predicate gets the run number');
    let reported: unknown;
    assert.equal(shouldRetry({ attempts: 5, retryOn: () => { throw new Error('bug'); } }, 1, 1, 'error', null, (e) => (reported = e)), false);
    assert.match(String(reported), /bug/);
  });

  test('validation names the bad field; predicates only where allowed', () => {
    assert.deepEqual(validateRetryPolicy({ attempts: 2, retryOn: ['error', 'error'] }, 'retry', false), { attempts: 2, retryOn: ['error'] });
    assert.throws(() => validateRetryPolicy({ attempts: 2, retryOn: () => true }, 'retry', false), /predicate is accepted by assignRunner/);
    assert.equal(typeof validateRetryPolicy({ attempts: 2, retryOn: () => true }, 'retry', true).retryOn, 'function');
    assert.throws(() => validateRetryPolicy({ attempts: 2, backoff: { type: 'fixed', delay: 1, extra: 1 } }, 'retry', false), /retry\.backoff\.extra/);
    assert.throws(() => validateRetryPolicy({ attempts: 2, backoff: { type: 'fixed', delay: Infinity } }, 'retry', false), /backoff\.delay/);
  });
});

describe('timer queue', () => {
  test('fires keys in time order on one timer, only while resumed; cancel and reschedule', () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    const queue = new TimerQueue<string>(clock, (key) => fired.push(`${key}@${clock.now()}`));
    queue.schedule('b', 200);
    queue.schedule('a', 100);
    queue.schedule('c', 300);
    assert.equal(clock.pendingTimers, 0, 'no timer while paused');
    queue.resume();
    assert.equal(clock.pendingTimers, 1, 'one timer for all');
    queue.cancel('c');
    queue.schedule('b', 250);
    clock.advance(1_000);
    assert.deepEqual(fired, ['a@100', 'b@250']);
    assert.equal(queue.size, 0);
    assert.equal(clock.pendingTimers, 0);
  });

  test('deadlines that passed while paused fire on resume; pause clears the timer', () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    const queue = new TimerQueue<string>(clock, (key) => fired.push(key));
    queue.resume();
    queue.schedule('x', 50);
    queue.pause();
    assert.equal(clock.pendingTimers, 0);
    clock.advance(100);
    assert.deepEqual(fired, []);
    queue.resume();
    clock.advance(0);
    assert.deepEqual(fired, ['x']);
  });

  test('a deadline beyond setTimeout range is reached in steps', () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    const queue = new TimerQueue<string>(clock, () => fired.push(clock.now()));
    const far = 2 ** 31 * 2;
    queue.schedule('far', far);
    queue.resume();
    clock.advance(far - 1);
    assert.deepEqual(fired, []);
    clock.advance(1);
    assert.deepEqual(fired, [far]);
  });
});
