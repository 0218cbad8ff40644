// Persistence benchmarks (issue "durable, fast persistence"), each beside its baseline in the same process:
// 1. addTask throughput (durability fsync) on a store already holding N_BIG tasks vs N_SMALL: ratio (target ≥ 0.8).
// 2. start-up of a store of N_BIG ended tasks (3 logs each) vs a bare JSON.parse of the same data.
// 3. the largest event-loop stall while compacting that store (monitorEventLoopDelay).
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Tasker } from 'tasker';
import { fmt, median, summary } from './lib.mjs';

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const N_BIG = quick ? 10_000 : 100_000;
const N_SMALL = 100;
const ADDS = quick ? 1_000 : 5_000;
const REPS = quick ? 3 : 5;

/** A store directory holding `count` ended tasks with 3 log lines each, written as a snapshot. */
function makeStore(count) {
  const dir = mkdtempSync(join(tmpdir(), 'tasker-bench-store-'));
  const lines = [JSON.stringify({ format: 'tasker-snapshot', version: 1, generation: 1 })];
  const base = Date.parse('2026-01-01T00:00:00.000Z');
  for (let i = 0; i < count; i++) {
    const at = new Date(base + i).toISOString();
    const uuid = `01900000-0000-7000-8000-${String(i).padStart(12, '0')}`;
    const task = { uuid, operation: 'resize', data: { file: `photo-${i}.jpg`, width: 640 }, priority: 0, status: 'done',
      createdAt: at, startedAt: at, endedAt: at, result: { ok: true, bytes: i } };
    const logs = [0, 1, 2].map((k) => ({ level: 'info', message: `step ${k} of photo-${i}.jpg`, timestamp: at }));
    lines.push(JSON.stringify({ task, logs }));
  }
  writeFileSync(join(dir, 'snapshot.json'), lines.join('\n') + '\n', { mode: 0o600 });
  return dir;
}

async function addThroughput(dir) {
  // The tasks are only stored, never run: no runner, so they must be allowed to wait for one.
  const tasker = new Tasker({ persistDir: dir, onMissingRunner: 'queue' });
  await tasker.countTasks();
  const start = performance.now();
  const adds = [];
  for (let i = 0; i < ADDS; i++) adds.push(tasker.addTask({ operation: 'resize', data: { file: `new-${i}.jpg` } }));
  await Promise.all(adds);
  const elapsed = performance.now() - start;
  await tasker.close();
  return ADDS / (elapsed / 1000);
}

async function startup(dir) {
  const start = performance.now();
  const tasker = new Tasker({ persistDir: dir, onMissingRunner: 'queue' });
  const count = await tasker.countTasks();
  const elapsed = performance.now() - start;
  await tasker.stop();
  return { elapsed, tasker, count };
}

function bareParse(dir) {
  const start = performance.now();
  const text = readFileSync(join(dir, 'snapshot.json'), 'utf8');
  const parsed = JSON.parse(`[${text.trim().split('\n').join(',')}]`);
  if (parsed.length !== N_BIG + 1) throw new Error('bad baseline');
  return performance.now() - start;
}

const results = {};

// 1. Cost per change flat in N.
{
  const small = [], big = [], ratios = [];
  for (let rep = 0; rep < REPS; rep++) {
    const smallDir = makeStore(N_SMALL);
    const bigDir = makeStore(N_BIG);
    const s = await addThroughput(smallDir);
    const b = await addThroughput(bigDir);
    small.push(s);
    big.push(b);
    ratios.push(b / s);
    rmSync(smallDir, { recursive: true, force: true });
    rmSync(bigDir, { recursive: true, force: true });
  }
  results.addTask = { adds: ADDS, small: summary(small), big: summary(big), ratio: median(ratios) };
}

// 2 and 3. Start-up, and the stall of a compaction, on the big store.
{
  const startups = [], parses = [], ratios = [], stalls = [], compactions = [];
  for (let rep = 0; rep < REPS; rep++) {
    const dir = makeStore(N_BIG);
    const parse = bareParse(dir);
    const { elapsed, tasker, count } = await startup(dir);
    if (count !== N_BIG) throw new Error(`loaded ${count} tasks`);
    startups.push(elapsed);
    parses.push(parse);
    ratios.push(elapsed / parse);
    // Compaction: one more change, then close() writes a new snapshot of every task.
    await tasker.addTask({ operation: 'resize', data: { file: 'last.jpg' } });
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const start = performance.now();
    await tasker.close();
    compactions.push(performance.now() - start);
    histogram.disable();
    stalls.push(histogram.max / 1e6);
    rmSync(dir, { recursive: true, force: true });
  }
  results.startup = { tasks: N_BIG, engine: summary(startups), bareParse: summary(parses), ratio: median(ratios) };
  results.compaction = { tasks: N_BIG, duration: summary(compactions), maxStallMs: summary(stalls) };
}

if (json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const a = results.addTask;
  console.log('| scenario | engine | baseline | ratio |');
  console.log('|---|---:|---:|---:|');
  console.log(`| addTask ×${fmt(a.adds)} (fsync) on ${fmt(N_BIG)} stored vs ${N_SMALL} stored, adds/s | ${fmt(a.big.median)} | ${fmt(a.small.median)} | ${fmt(a.ratio, 2)}× |`);
  const s = results.startup;
  console.log(`| start-up of ${fmt(s.tasks)} ended tasks (3 logs each) vs bare JSON.parse, ms | ${fmt(s.engine.median)} | ${fmt(s.bareParse.median)} | ${fmt(s.ratio, 2)}× |`);
  const c = results.compaction;
  console.log(`| compaction of ${fmt(c.tasks)} tasks on close(): duration / largest event-loop stall, ms | ${fmt(c.duration.median)} | — | stall ${fmt(c.maxStallMs.median)} ms (max ${fmt(c.maxStallMs.max)}) |`);
}
