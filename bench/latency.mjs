// Latency of a single task, submit → done: addTask() then
// waitForTaskOutputData(), one at a time, ROUNDS round trips per repetition,
// each timed on its own; p50 and p99 of those. Through the engine with the
// memory store and with a persistDir (durability 'fsync'), beside raw piscina
// `run()` of the same trivial body (n → n + 1) with the same thread count, in
// the same process. Each repetition measures the kinds back to back (in a
// rotating order), each on a fresh pool/tasker warmed up first; the
// differences engine − piscina are computed pair by pair, in µs, and their
// median reported. Targets: p50 ≤ piscina p50 + 150 µs (memory store),
// + 400 µs (fsync).
//
// The same process also times a bare durable append of one journal-sized line,
// written as the store writes it (O_DSYNC where the platform has it, else a
// write then fdatasync). A persisted task needs two of them in a row: its add
// must be on disk before it may run (README → "What is durable when"), and its
// end before `done` is announced (its start rides with one of them). So the
// floor of a persisted round trip is piscina's round trip + 2 such appends,
// and the table reports the engine's p50 beside that floor too.
import { constants, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { Tasker } from 'tasker';
import { fmt, median, summary } from './lib.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const ROUNDS = quick ? 300 : 2_000;
const WARMUP = quick ? 50 : 200;
const REPS = 5;
const THREADS = 2;
const TARGET_US = { memory: 150, fsync: 400 };
const runner = (name) => new URL(`./runners/${name}.mjs`, import.meta.url);

/** Nearest-rank percentile of an unsorted array. */
function percentile(values, p) {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

const stats = (timesMs) => ({ p50: percentile(timesMs, 0.5) * 1000, p99: percentile(timesMs, 0.99) * 1000, mean: (timesMs.reduce((a, b) => a + b, 0) / timesMs.length) * 1000 });

async function rawPiscina() {
  const pool = new Piscina({ filename: runner('raw-increment').href, maxThreads: THREADS, minThreads: THREADS, idleTimeout: Infinity });
  await Promise.all(Array.from({ length: THREADS * 4 }, (_, i) => pool.run(i)));
  for (let i = 0; i < WARMUP; i++) await pool.run(i);
  const times = new Array(ROUNDS);
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    const result = await pool.run(i);
    times[i] = performance.now() - start;
    if (result !== i + 1) throw new Error(`raw piscina answered ${result}`);
  }
  await pool.destroy();
  return stats(times);
}

/** Opens a journal as the store does for durability 'fsync': O_DSYNC where the platform has it. */
const DSYNC = constants.O_DSYNC ?? 0;
const writeDurably = async (file, line) => {
  await file.write(line);
  if (DSYNC === 0) await file.datasync();
};

/** A bare durable append of a journal-sized line, ROUNDS times, each timed. */
async function bareAppend() {
  const dir = mkdtempSync(join(tmpdir(), 'tasker-bench-latency-'));
  const file = await open(join(dir, 'journal.jsonl'), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | DSYNC, 0o600);
  const line = Buffer.from(`{"put":${JSON.stringify({ uuid: '01900000-0000-7000-8000-000000000000', operation: 'increment', data: 1, priority: 0, status: 'done', createdAt: new Date().toISOString(), startedAt: new Date().toISOString(), endedAt: new Date().toISOString(), result: 2 })}}\n`);
  for (let i = 0; i < WARMUP; i++) await writeDurably(file, line);
  const times = new Array(ROUNDS);
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await writeDurably(file, line);
    times[i] = performance.now() - start;
  }
  await file.close();
  rmSync(dir, { recursive: true, force: true });
  return stats(times);
}

async function engine(persisted) {
  const dir = persisted ? mkdtempSync(join(tmpdir(), 'tasker-bench-latency-')) : null;
  const tasker = new Tasker({ maxThreads: THREADS, persistDir: dir, durability: 'fsync' });
  tasker.assignRunner('increment', runner('increment'));
  await tasker.start();
  const roundTrip = async (i) => tasker.waitForTaskOutputData(await tasker.addTask({ operation: 'increment', data: i }));
  await Promise.all(Array.from({ length: THREADS * 4 }, (_, i) => roundTrip(i)));
  for (let i = 0; i < WARMUP; i++) await roundTrip(i);
  const times = new Array(ROUNDS);
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    const result = await roundTrip(i);
    times[i] = performance.now() - start;
    if (result !== i + 1) throw new Error(`the engine answered ${result}`);
  }
  await tasker.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  return stats(times);
}

const kinds = { piscina: () => rawPiscina(), memory: () => engine(false), fsync: () => engine(true), append: () => bareAppend() };
const order = Object.keys(kinds);
for (const kind of order) await kinds[kind](); // warm-up (JIT, module cache, page cache)
const samples = { piscina: [], memory: [], fsync: [], append: [] };
for (let rep = 0; rep < REPS; rep++) {
  for (let k = 0; k < order.length; k++) {
    const kind = order[(rep + k) % order.length];
    samples[kind].push(await kinds[kind]());
  }
}

const field = (kind, name) => samples[kind].map((s) => s[name]);
const diff = (kind, name) => median(samples[kind].map((s, i) => s[name] - samples.piscina[i][name]));
const results = Object.fromEntries(order.map((kind) => [kind, { p50Us: summary(field(kind, 'p50')), p99Us: summary(field(kind, 'p99')), meanUs: summary(field(kind, 'mean')), samples: samples[kind] }]));
const differences = Object.fromEntries(['memory', 'fsync'].map((kind) => {
  const p50 = diff(kind, 'p50');
  return [kind, { p50Us: p50, p99Us: diff(kind, 'p99'), targetP50Us: TARGET_US[kind], met: p50 <= TARGET_US[kind] }];
}));
// The persisted floor, pair by pair: piscina's round trip plus two durable appends.
const floorP50 = median(samples.piscina.map((s, i) => s.p50 + 2 * samples.append[i].p50));
const aboveFloorP50 = median(samples.fsync.map((s, i) => s.p50 - (samples.piscina[i].p50 + 2 * samples.append[i].p50)));
const floor = { p50Us: floorP50, twoAppendsP50Us: median(samples.append.map((s) => 2 * s.p50)), engineAboveFloorP50Us: aboveFloorP50, targetReachable: median(samples.append.map((s) => 2 * s.p50)) <= TARGET_US.fsync };

if (json) {
  console.log(JSON.stringify({ config: { rounds: ROUNDS, warmup: WARMUP, reps: REPS, threads: THREADS, oDsync: DSYNC !== 0 }, results, differencesVsPiscina: differences, persistedFloor: floor }, null, 2));
} else {
  const range = (s) => `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
  const signed = (v) => `${v < 0 ? '−' : '+'}${fmt(Math.abs(v))}`;
  const names = {
    piscina: `baseline: raw piscina \`run()\`, ${THREADS} threads`,
    memory: 'engine, memory store',
    fsync: "engine, persistDir, durability 'fsync'",
    append: `for scale: a bare durable append of one journal line (${DSYNC !== 0 ? 'O_DSYNC' : 'write + fdatasync'}, as the store writes)`,
  };
  console.log(`Submit → done of one trivial task at a time (addTask, then waitForTaskOutputData), ${fmt(ROUNDS)} round trips per repetition, ${THREADS} threads; median (min–max) of ${REPS} repetitions, in µs. Differences: engine − piscina, median of pairs.\n`);
  console.log('| kind | p50 µs | p99 µs | p50 − piscina | p99 − piscina | target (p50) |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const kind of order) {
    const r = results[kind];
    const d = differences[kind];
    const cells = d === undefined ? '— | — | —' : `${signed(d.p50Us)} | ${signed(d.p99Us)} | ≤ +${d.targetP50Us} µs: ${d.met ? 'met' : 'missed'}`;
    console.log(`| ${names[kind]} | ${range(r.p50Us)} | ${range(r.p99Us)} | ${cells} |`);
  }
  console.log(`\nPersisted floor (p50, median of pairs): piscina + 2 durable appends = ${fmt(floor.p50Us)} µs, of which the two appends ${fmt(floor.twoAppendsP50Us)} µs${floor.targetReachable ? '' : ` (already more than the +${TARGET_US.fsync} µs target)`}; the engine is ${signed(floor.engineAboveFloorP50Us)} µs above it.`);
}
