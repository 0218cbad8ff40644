/**
 * Crash test: a child process adds and runs tasks on a persisted store and is
 * killed with SIGKILL at seeded random moments; after each kill the store is
 * reopened and checked. CRASH_KILLS (default 20) and CRASH_SEED set the run;
 * `npm run soak:crash` runs hundreds of kills.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Tasker, type Task } from 'tasker';
import { tempDir } from '../helpers/tasker.js';

const KILLS = Number(process.env['CRASH_KILLS'] ?? 20);
const SEED = Number(process.env['CRASH_SEED'] ?? 20261129);
const WORKLOAD = fileURLToPath(new URL('../fixtures/scripts/crash-workload.mjs', import.meta.url));

interface Report {
  acked: Map<string, number>;
  ran: Set<string>;
  ended: Map<string, string>;
}

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/** Runs the workload until it is ready, lets it work for `workMs`, kills it, and returns what it reported. */
function runAndKill(dir: string, seed: number, workMs: number): Promise<Report> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKLOAD, dir, String(seed)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const report: Report = { acked: new Map(), ran: new Set(), ended: new Map() };
    let buffer = '';
    let killTimer: NodeJS.Timeout | undefined;
    const safety = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the workload never became ready'));
    }, 30_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const [kind, uuid, extra] = buffer.slice(0, newline).split(' ');
        buffer = buffer.slice(newline + 1);
        if (kind === 'READY' && killTimer === undefined) killTimer = setTimeout(() => child.kill('SIGKILL'), workMs);
        else if (kind === 'ACK') report.acked.set(uuid!, Number(extra));
        else if (kind === 'RUN') report.ran.add(uuid!);
        else if (kind === 'END') report.ended.set(uuid!, extra!);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(safety);
      clearTimeout(killTimer);
      if (signal !== 'SIGKILL') reject(new Error(`the workload exited by itself (code ${code}, signal ${signal})`));
      else resolve(report);
    });
  });
}

function checkTask(task: Task, reported: Report): void {
  const n = (task.data as { n: number }).n;
  const where = `task ${task.uuid} (n=${n})`;
  switch (task.status) {
    case 'done':
      assert.equal(task.result, n * 2, `${where}: its result is intact`);
      assert.equal(task.abortReason, undefined, `${where}: done and aborted at once`);
      assert.equal(task.error, undefined, where);
      break;
    case 'failed':
      assert.equal((task.error as { code?: string }).code, 'E_SEVEN', `${where}: its error is intact`);
      assert.equal(n % 7, 0, where);
      assert.equal(task.result, undefined, where);
      break;
    case 'aborted':
      assert.ok(task.abortReason !== undefined, `${where}: aborted without a reason`);
      assert.equal(task.result, undefined, `${where}: aborted with a result`);
      assert.ok(['ERR_TASK_INTERRUPTED', 'ERR_TASK_RUN_TIMEOUT', 'ERR_TASKER_STOPPED'].includes(task.abortReason.code!), where);
      break;
    case 'new':
      // task.run is emitted once 'running' is stored, and a stored running task comes back aborted.
      assert.ok(!reported.ran.has(task.uuid), `${where}: announced as running, yet new after a restart`);
      break;
    case 'running':
      assert.fail(`${where} is still running after a restart: it should be interrupted`);
  }
  const ended = reported.ended.get(task.uuid);
  if (ended !== undefined) assert.equal(task.status, ended, `${where}: its announced end is what is stored`);
  if (reported.ran.has(task.uuid) && ended === undefined && task.status === 'aborted') {
    assert.ok(['ERR_TASK_INTERRUPTED', 'ERR_TASK_RUN_TIMEOUT'].includes(task.abortReason!.code!), where);
  }
}

test(`crash test: ${KILLS} SIGKILLs at seeded random moments lose nothing acknowledged (seed ${SEED})`, { timeout: 600_000 }, async (t) => {
  const dir = await tempDir(t, 'tasker-crash-');
  const random = lcg(SEED);
  const everAcked = new Map<string, number>();
  for (let kill = 0; kill < KILLS; kill++) {
    const workMs = 20 + Math.floor(random() * 200);
    const report = await runAndKill(dir, Math.floor(random() * 2 ** 31), workMs);
    for (const [uuid, n] of report.acked) everAcked.set(uuid, n);

    const interrupted: string[] = [];
    const tasker = new Tasker({ persistDir: dir, maxThreads: 1, logger: { error() {}, warn() {}, info() {}, debug() {} } });
    tasker.on('task.aborted', (uuid, reason) => reason.code === 'ERR_TASK_INTERRUPTED' && interrupted.push(uuid));
    try {
      const tasks = await tasker.findTasks({});
      const byUuid = new Map(tasks.map((task) => [task.uuid, task]));
      for (const [uuid, n] of everAcked) {
        const task = byUuid.get(uuid);
        assert.ok(task !== undefined, `kill ${kill}: acknowledged task ${uuid} (n=${n}) is missing`);
        assert.equal((task.data as { n: number }).n, n);
      }
      for (const task of tasks) checkTask(task, report);
      // Tasks caught running by the kill were reported as interrupted, with events.
      for (const uuid of interrupted) assert.ok(byUuid.get(uuid)?.status === 'aborted');
    } finally {
      await tasker.close();
    }
  }
  assert.ok(everAcked.size > KILLS, `the workload made progress (${everAcked.size} tasks acknowledged)`);
});
