/**
 * After stop(), a process must be able to exit on its own, whatever its runners
 * did: no worker thread, timer, port or listener may keep it alive. Each case
 * runs test/fixtures/scripts/fault-then-stop.mjs in a child process (plain
 * `node`, importing the built package by its name); the child never calls
 * process.exit, so it exits with code 0 only if nothing holds its event loop.
 * A safety-net timer kills a child that lingers and fails the test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AbortCodes, ErrorCodes } from 'tasker';
import { runNode } from '../helpers/child.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/scripts/fault-then-stop.mjs', import.meta.url));
/** Safety net only: far above what a child needs to run its case and exit. */
const CHILD_LIMIT_MS = 10_000;



const cases: Array<{ mode: string; name: string; expected: Record<string, unknown> }> = [
  {
    mode: 'timeout',
    name: 'a busy loop aborted by its runTimeout (thread terminated)',
    expected: { rejected: ErrorCodes.TASK_ABORTED, status: 'aborted', code: AbortCodes.RUN_TIMEOUT, terminated: true, exitCode: null, logs: 1 },
  },
  {
    mode: 'ignore-abort',
    name: 'a runner that ignores abortTask (thread terminated after abortGraceMs)',
    expected: { rejected: ErrorCodes.TASK_ABORTED, status: 'aborted', code: AbortCodes.REQUESTED, terminated: true, exitCode: null, logs: 1 },
  },
  {
    mode: 'exit',
    name: 'a runner that calls process.exit(3)',
    expected: { rejected: ErrorCodes.TASK_FAILED, status: 'failed', code: ErrorCodes.WORKER_EXITED, terminated: false, exitCode: 3, logs: 0 },
  },
  {
    mode: 'logs',
    name: 'a normal task that logs',
    expected: { result: 50, status: 'done', code: null, terminated: false, exitCode: null, logs: 50 },
  },
];

for (const { mode, name, expected } of cases) {
  test(`the process exits on its own (code 0) after stop(): ${name}`, { timeout: CHILD_LIMIT_MS + 5_000 }, async () => {
    const { code, signal, stdout, stderr } = await runNode(SCRIPT, [mode], CHILD_LIMIT_MS);
    assert.equal(signal, null, `killed by a signal; stderr: ${stderr}`);
    assert.equal(code, 0, `exit code; stderr: ${stderr}`);
    assert.equal(stderr, '', 'nothing was written to stderr (no warning, no error, no "still alive" report)');
    assert.deepEqual(JSON.parse(stdout), expected);
  });
}

test('a burst of 1,000 short tasks on two threads all end, each with its own output, with nothing else holding the event loop', { timeout: CHILD_LIMIT_MS + 5_000 }, async () => {
  const script = fileURLToPath(new URL('../fixtures/scripts/burst-then-close.mjs', import.meta.url));
  const { code, signal, stdout, stderr } = await runNode(script, [], CHILD_LIMIT_MS);
  assert.equal(signal, null, `killed by a signal; stderr: ${stderr}`);
  assert.equal(code, 0, `exit code (13: it stopped waiting for an output); stderr: ${stderr}`);
  assert.equal(stderr, '');
  assert.deepEqual(JSON.parse(stdout), { done: 1000, runs: 1000, ownOutputs: true });
});
