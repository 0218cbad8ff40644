/**
 * The published package, as a user gets it: `npm pack` (whose `prepare`
 * script builds it), then `npm install <tarball>` in a fresh ESM project
 * (offline, from the npm cache), then a program that uses only the public API.
 *
 * The pack runs in a staged copy of the package (package.json, README,
 * tsconfig, src, workers; node_modules linked), so that the build done by
 * `prepare` never rewrites the dist/ that other test files are importing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/tasker.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

const RUNNER = `// Doubles data.n; refuses anything that is not a number.
export default async ({ data, logger }) => {
  logger.info('doubling', { n: data.n });
  if (typeof data.n !== 'number') throw new TypeError('n must be a number');
  return data.n * 2;
};
`;

const MAIN = `import { Tasker, ErrorCodes } from 'tasker';

const tasker = new Tasker({ maxThreads: 2 });
tasker.assignRunner('double', './runners/double.mjs');
const events = [];
tasker.on('task.run', () => events.push('task.run'));
tasker.on('task.ended', (_uuid, status) => events.push('task.ended:' + status));
await tasker.start();

const uuid = await tasker.addTask({ operation: 'double', data: { n: 21 } });
const result = await tasker.waitForTaskOutputData(uuid);
const task = await tasker.getTask(uuid, { withLogs: true });

const bad = await tasker.addTask({ operation: 'double', data: { n: 'x' } });
let failure = null;
try {
  await tasker.waitForTaskOutputData(bad);
} catch (error) {
  failure = { code: error.code, expected: ErrorCodes.TASK_FAILED, cause: error.cause?.message };
}

let internal = null;
try {
  await import('tasker/dist/src/engine.js');
} catch (error) {
  internal = error.code;
}

await tasker.stop();
console.log(JSON.stringify({ result, status: task.status, logs: task.logs.map((l) => [l.level, l.message, l.data]), failure, internal, events }));
`;

test('npm pack + npm install in a fresh ESM project: the public API runs a runner from the project in a worker', { timeout: 120_000 }, async (t) => {
  // 1. Pack a staged copy; its `prepare` script builds dist/.
  const stage = await tempDir(t, 'tasker-stage-');
  for (const entry of ['package.json', 'README.md', 'tsconfig.json', 'src', 'workers', '.npmignore', '.gitignore']) {
    if (await exists(join(ROOT, entry))) await cp(join(ROOT, entry), join(stage, entry), { recursive: true });
  }
  await symlink(join(ROOT, 'node_modules'), join(stage, 'node_modules'), 'dir');
  const packDir = await tempDir(t, 'tasker-pack-');
  const packed = await run(NPM, ['pack', '--json', '--pack-destination', packDir], { cwd: stage, maxBuffer: 16 * 1024 * 1024 });
  const manifest = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  assert.equal(manifest.length, 1);
  const tarball = join(packDir, manifest[0]!.filename);
  assert.ok(await exists(tarball), 'the tarball was written to the pack destination');

  // 2. What the tarball holds: the built code and types, no tests, no sources.
  const files = manifest[0]!.files.map((file) => file.path);
  for (const required of ['package.json', 'README.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/workers/runner-host.js']) {
    assert.ok(files.includes(required), `the tarball contains ${required}`);
  }
  assert.deepEqual(files.filter((file) => file.startsWith('test/') || file.includes('/test/')), [], 'no test files');
  assert.deepEqual(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')), [], 'no TypeScript sources');
  const listing = (await run('tar', ['-tzf', tarball])).stdout.split('\n').filter(Boolean);
  assert.ok(listing.includes('package/dist/workers/runner-host.js'), 'tar listing has the worker entry');
  assert.deepEqual(listing.filter((path) => path.startsWith('package/test/')), [], 'tar listing has no test/ files');

  // 3. A fresh ESM project installs it from the npm cache.
  const project = await tempDir(t, 'tasker-consumer-');
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'tasker-consumer', private: true, type: 'module' }));
  const install = ['install', '--no-audit', '--no-fund', tarball];
  try {
    await run(NPM, ['--offline', ...install], { cwd: project });
  } catch (error) {
    t.diagnostic(`npm install --offline failed, retrying with --prefer-offline: ${(error as Error).message}`);
    await run(NPM, ['--prefer-offline', ...install], { cwd: project });
  }
  const installed = join(project, 'node_modules', 'tasker');
  assert.ok(await exists(join(installed, 'dist', 'workers', 'runner-host.js')));
  assert.equal(await exists(join(installed, 'test')), false);
  const installedPkg = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dependency of Object.keys(installedPkg.dependencies)) {
    assert.ok(await exists(join(project, 'node_modules', dependency, 'package.json')), `dependency ${dependency} installed`);
  }

  // 4. A program using only the public API, with a runner path relative to the project.
  await mkdir(join(project, 'runners'));
  await writeFile(join(project, 'runners', 'double.mjs'), RUNNER);
  await writeFile(join(project, 'main.mjs'), MAIN);
  const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: project, timeout: 60_000 });
  const output = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    result: unknown;
    status: string;
    logs: unknown[];
    failure: { code: string; expected: string; cause: string } | null;
    internal: string | null;
    events: string[];
  };
  assert.equal(output.result, 42);
  assert.equal(output.status, 'done');
  assert.deepEqual(output.logs, [['info', 'doubling', { n: 21 }]]);
  assert.deepEqual(output.failure, { code: 'ERR_TASK_FAILED', expected: 'ERR_TASK_FAILED', cause: 'n must be a number' });
  assert.equal(output.internal, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'only the package entry point is exported');
  assert.deepEqual(output.events, ['task.run', 'task.ended:done', 'task.run', 'task.ended:failed']);
});
