// Trivial tasks through the engine (memory store, then the JSON store) beside
// raw piscina with the same thread count and runner body, in the same process.
// Each repetition runs the engine and the baseline back to back; the ratio is
// computed pair by pair and its median reported.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { Tasker } from 'tasker';
import { fmt, median, summary } from './lib.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const TASKS = quick ? 2_000 : 20_000;
const REPS = quick ? 3 : 5;
const THREADS = 2;
const runner = (name) => new URL(`./runners/${name}.mjs`, import.meta.url);

async function rawPiscina() {
  const pool = new Piscina({ filename: runner('raw-increment').href, maxThreads: THREADS, minThreads: THREADS, idleTimeout: Infinity });
  await Promise.all(Array.from({ length: THREADS * 4 }, (_, i) => pool.run(i)));
  const start = performance.now();
  const runs = [];
  for (let i = 0; i < TASKS; i++) runs.push(pool.run(i));
  await Promise.all(runs);
  const elapsed = performance.now() - start;
  await pool.destroy();
  return TASKS / (elapsed / 1000);
}

async function engine(persistDir) {
  const tasker = new Tasker({ maxThreads: THREADS, persistDir });
  tasker.assignRunner('increment', runner('increment'));
  await tasker.start();
  await Promise.all(Array.from({ length: THREADS * 4 }, async (_, i) => tasker.waitForTaskOutputData(await tasker.addTask({ operation: 'increment', data: i }))));
  const start = performance.now();
  const adds = [];
  for (let i = 0; i < TASKS; i++) adds.push(tasker.addTask({ operation: 'increment', data: i }));
  const uuids = await Promise.all(adds);
  await tasker.onIdle();
  const elapsed = performance.now() - start;
  const last = await tasker.getTask(uuids.at(-1));
  if (last.status !== 'done' || last.result !== TASKS) throw new Error(`unexpected end state ${last.status}`);
  await tasker.close();
  return TASKS / (elapsed / 1000);
}

async function scenario(name, makeDir) {
  const raw = [];
  const ours = [];
  const ratios = [];
  const warmDir = makeDir();
  await engine(warmDir); // warm-up
  if (warmDir) rmSync(warmDir, { recursive: true, force: true });
  for (let rep = 0; rep < REPS; rep++) {
    const r = await rawPiscina();
    const dir = makeDir();
    const e = await engine(dir);
    if (dir) rmSync(dir, { recursive: true, force: true });
    raw.push(r);
    ours.push(e);
    ratios.push(e / r);
  }
  return { name, tasks: TASKS, threads: THREADS, engine: { ...summary(ours), samples: ours }, baseline: summary(raw), ratio: median(ratios) };
}

const results = [
  await scenario('trivial tasks, memory store', () => null),
  await scenario('trivial tasks, persisted (durability fsync)', () => mkdtempSync(join(tmpdir(), 'tasker-bench-'))),
];
// Durable vs in-memory, pair by pair (same repetition index).
const durable = median(results[1].engine.samples.map((value, i) => value / results[0].engine.samples[i]));
if (args.includes('--json')) {
  console.log(JSON.stringify({ results, durableVsMemory: durable }, null, 2));
} else {
  console.log(`| scenario | engine tasks/s (median, min–max) | raw piscina tasks/s | ratio |`);
  console.log(`|---|---:|---:|---:|`);
  for (const r of results) {
    console.log(`| ${r.name}, ${fmt(r.tasks)} tasks, ${r.threads} threads | ${fmt(r.engine.median)} (${fmt(r.engine.min)}–${fmt(r.engine.max)}) | ${fmt(r.baseline.median)} | ${fmt(r.ratio, 2)}× |`);
  }
  console.log(`\npersisted (fsync) / memory store, median of pairs: ${fmt(durable, 2)}×`);
}
