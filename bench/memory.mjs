// Main-thread memory per stored ended task (no logs): the heapUsed delta, after
// full garbage collections, of a Tasker holding N ended tasks loaded from a
// persistDir snapshot (never started: no threads), beside the JSON size of
// the same documents (the sum of JSON.stringify of each stored document).
// Target: delta / JSON size ≤ 3×. In the same process, for comparison:
// - the engine with a custom store whose load() parses the same file and
//   keeps nothing: the engine's own share (the registry), without the
//   JournalStore's copy of each task's JSON line;
// - a bare array of the same documents, parsed and Dates decoded: what the
//   documents themselves cost as JavaScript objects.
// Each repetition measures the three in a rotating order. Needs --expose-gc
// (bench/run.mjs passes it).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tasker } from 'tasker';
import { fmt, median, summary } from './lib.mjs';

if (typeof globalThis.gc !== 'function') {
  console.error('bench/memory.mjs needs --expose-gc: node --expose-gc bench/memory.mjs (bench/run.mjs passes it)');
  process.exit(2);
}
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const N = quick ? 20_000 : 100_000;
const REPS = 5;
const TARGET = 3;

/** The stored documents: ended tasks as bench/persistence.mjs writes them, without logs. */
function makeDocs(count) {
  const base = Date.parse('2026-01-01T00:00:00.000Z');
  const docs = new Array(count);
  for (let i = 0; i < count; i++) {
    const at = new Date(base + i).toISOString();
    const uuid = `01900000-0000-7000-8000-${String(i).padStart(12, '0')}`;
    docs[i] = { uuid, operation: 'resize', data: { file: `photo-${i}.jpg`, width: 640 }, priority: 0, status: 'done',
      createdAt: at, startedAt: at, endedAt: at, result: { ok: true, bytes: i } };
  }
  return docs;
}

function writeStore(docs) {
  const dir = mkdtempSync(join(tmpdir(), 'tasker-bench-memory-'));
  const lines = [JSON.stringify({ format: 'tasker-snapshot', version: 1, generation: 1 })];
  for (const task of docs) lines.push(JSON.stringify({ task, logs: [] }));
  writeFileSync(join(dir, 'snapshot.json'), lines.join('\n') + '\n', { mode: 0o600 });
  return dir;
}

/** The snapshot's documents, parsed and decoded (Dates) as the store's load() hands them over. */
function parseDocs(file) {
  const [, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  return lines.map((line) => {
    const { task } = JSON.parse(line);
    for (const field of ['createdAt', 'startedAt', 'endedAt']) task[field] = new Date(task[field]);
    return task;
  });
}

async function heapAfterGc() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

const jsonDocs = makeDocs(N);
const jsonBytes = jsonDocs.reduce((sum, doc) => sum + Buffer.byteLength(JSON.stringify(doc)), 0);
const dir = writeStore(jsonDocs);
jsonDocs.length = 0;
const snapshotFile = join(dir, 'snapshot.json');
const snapshotBytes = statSync(snapshotFile).size;

/** Each kind builds what holds the N documents, checks it, and returns a release function. */
const kinds = {
  persistDir: async () => {
    const tasker = new Tasker({ persistDir: dir });
    if ((await tasker.countTasks({ status: 'done' })) !== N) throw new Error('the store did not load every task');
    return { holder: tasker, release: () => tasker.close() };
  },
  customStore: async () => {
    const store = {
      load: async () => parseDocs(snapshotFile).map((task) => ({ task, logs: [] })),
      commit: async () => {},
      close: async () => {},
    };
    const tasker = new Tasker({ store });
    if ((await tasker.countTasks({ status: 'done' })) !== N) throw new Error('the custom store did not load every task');
    return { holder: tasker, release: () => tasker.close() };
  },
  bare: async () => {
    const docs = parseDocs(snapshotFile);
    if (docs.length !== N) throw new Error('bad bare parse');
    return { holder: docs, release: async () => {} };
  },
};

async function measure(kind) {
  const before = await heapAfterGc();
  let held = await kinds[kind]();
  const after = await heapAfterGc();
  await held.release();
  held = null;
  return after - before;
}

const order = Object.keys(kinds);
for (const kind of order) await measure(kind); // warm-up (code, one-time allocations)
const samples = { persistDir: [], customStore: [], bare: [] };
for (let rep = 0; rep < REPS; rep++) {
  for (let k = 0; k < order.length; k++) {
    const kind = order[(rep + k) % order.length];
    samples[kind].push(await measure(kind));
  }
}
rmSync(dir, { recursive: true, force: true });

const results = Object.fromEntries(order.map((kind) => {
  const perTask = samples[kind].map((bytes) => bytes / N);
  const vsJson = samples[kind].map((bytes) => bytes / jsonBytes);
  const vsBare = samples[kind].map((bytes, i) => bytes / samples.bare[i]);
  return [kind, { bytesPerTask: summary(perTask), ratioToJson: median(vsJson), ratioToBare: median(vsBare), deltas: samples[kind] }];
}));
const ratio = results.persistDir.ratioToJson;
const out = {
  config: { tasks: N, reps: REPS, jsonBytes, jsonBytesPerTask: jsonBytes / N, snapshotBytes },
  results, ratio, target: TARGET, met: ratio <= TARGET,
};

if (json) {
  console.log(JSON.stringify(out, null, 2));
} else {
  const names = {
    persistDir: 'engine, loaded from a persistDir snapshot',
    customStore: 'engine, custom store (load() keeps nothing): the registry alone',
    bare: 'baseline: bare array of the parsed documents (Dates decoded)',
  };
  const s = (x) => `${fmt(x.median)} (${fmt(x.min)}–${fmt(x.max)})`;
  console.log(`heapUsed delta after gc() for ${fmt(N)} ended tasks without logs, per task, median (min–max) of ${REPS} repetitions; JSON size of the documents: ${fmt(jsonBytes / N)} bytes per task (snapshot file ${fmt(snapshotBytes / 2 ** 20, 1)} MiB).\n`);
  console.log('| holder | bytes per task | × JSON size | × bare array |');
  console.log('|---|---:|---:|---:|');
  for (const kind of order) {
    const r = results[kind];
    console.log(`| ${names[kind]} | ${s(r.bytesPerTask)} | ${fmt(r.ratioToJson, 2)}× | ${fmt(r.ratioToBare, 2)}× |`);
  }
  console.log(`\nengine (persistDir) / JSON size: ${fmt(ratio, 2)}×; target ≤ ${TARGET}×: ${out.met ? 'met' : 'missed'}`);
}
