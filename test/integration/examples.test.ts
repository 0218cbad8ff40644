import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runNode } from '../helpers/child.js';
import { tempDir } from '../helpers/tasker.js';

const run = (script: string, args: string[]) => runNode(fileURLToPath(new URL(`../../examples/${script}`, import.meta.url)), args, 60_000);


test('npm start: the demo runs tasks in workers with progress, streams logs, hard-aborts the runaway, and exits 0', { timeout: 90_000 }, async (t) => {
  const dir = await tempDir(t);
  const { code, stdout, stderr } = await run('demo.mjs', [dir]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /primes<3M \[\w+\] log: checked/);
  assert.match(stdout, /primes<3M \[\w+\] 50% \([\d,]+ primes\)/, 'progress, as plain lines off a terminal');
  assert.match(stdout, /runaway \[\w+\] aborted \(ERR_TASK_RUN_TIMEOUT/);
  assert.match(stdout, /runaway: aborted, thread terminated: true/);
  assert.match(stdout, /primes<1M \[\w+\] done \(result 78498\)/);
  assert.match(stdout, /one hash chain at a time: the second started \d+ ms after the first ended/, 'the condition held (no overlap)');
  assert.match(stdout, /run time p50 \d+ ms, max \d+ ms over 5 runs/);
  assert.doesNotMatch(stdout, /\x1b\[/, 'no escape codes off a terminal');
  assert.equal((stdout.match(/^ {2}\S.* (done|aborted) +\d+ → +\d+ +\d+ ms$/gm) ?? []).length, 5, 'the summary lists the 5 tasks read back from the store');
});

test('the quick start of the README runs as written, in memory and with a persistDir', { timeout: 60_000 }, async (t) => {
  for (const args of [[], [await tempDir(t)]]) {
    const { code, stdout, stderr } = await run('quick-start/main.mjs', args);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, "[info] resizing\n{ file: 'photo.jpg', width: 640, checksum: 3720 }\n");
  }
});

test('the quick-start files are exactly the code blocks of the README', async () => {
  const { readFile } = await import('node:fs/promises');
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!);
  for (const file of ['resize.mjs', 'main.mjs']) {
    const source = await readFile(new URL(`../../examples/quick-start/${file}`, import.meta.url), 'utf8');
    assert.ok(blocks.includes(source), `examples/quick-start/${file} differs from its README block`);
  }
});
