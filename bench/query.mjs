// findTasks over a large store: N ended tasks loaded from a persistDir
// snapshot (written as bench/persistence.mjs does), a selective query
// { operation: 'x', 'data.n': { $gte: N - 1000 } } (500 matches), sort
// { createdAt: -1 }, limit 50 — beside a bare `docs.filter(sift(q))` + sort +
// slice on a plain array of the same documents (parsed from the same file,
// Dates decoded), in the same process. Each repetition times CALLS calls of
// each, interleaved; the ratio engine/bare (time per call) is computed pair by
// pair. Target ≤ 1.5×.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import siftModule from 'sift';
import { Tasker } from 'tasker';
import { fmt, median, summary } from './lib.mjs';

const sift = siftModule.default;
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const N = quick ? 20_000 : 100_000;
const CALLS = quick ? 20 : 40;
const REPS = quick ? 5 : 7;
const LIMIT = 50;
const TARGET = 1.5;
const query = { operation: 'x', 'data.n': { $gte: N - 1_000 } };
const sort = { createdAt: -1 };

/** A store directory holding `count` ended tasks (no logs) as a snapshot; operations alternate x, y. */
function makeStore(count) {
  const dir = mkdtempSync(join(tmpdir(), 'tasker-bench-query-'));
  const lines = [JSON.stringify({ format: 'tasker-snapshot', version: 1, generation: 1 })];
  const base = Date.parse('2026-01-01T00:00:00.000Z');
  for (let i = 0; i < count; i++) {
    const at = new Date(base + i).toISOString();
    const uuid = `01900000-0000-7000-8000-${String(i).padStart(12, '0')}`;
    const task = { uuid, operation: i % 2 === 0 ? 'x' : 'y', data: { n: i, file: `photo-${i}.jpg`, width: 640 }, priority: 0, status: 'done',
      createdAt: at, startedAt: at, endedAt: at, result: { ok: true, bytes: i } };
    lines.push(JSON.stringify({ task, logs: [] }));
  }
  writeFileSync(join(dir, 'snapshot.json'), lines.join('\n') + '\n', { mode: 0o600 });
  return dir;
}

/** The same documents as a plain array, Dates decoded as the store decodes them. */
function plainDocs(dir) {
  const [, ...lines] = readFileSync(join(dir, 'snapshot.json'), 'utf8').trim().split('\n');
  return lines.map((line) => {
    const { task } = JSON.parse(line);
    for (const field of ['createdAt', 'startedAt', 'endedAt']) task[field] = new Date(task[field]);
    return task;
  });
}

const bare = (docs) => docs.filter(sift(query)).sort((a, b) => b.createdAt - a.createdAt).slice(0, LIMIT);
const engine = (tasker) => tasker.findTasks(query, { sort, limit: LIMIT });

const dir = makeStore(N);
const docs = plainDocs(dir);
const tasker = new Tasker({ persistDir: dir });
if ((await tasker.countTasks()) !== N) throw new Error('the store did not load every task');

// Same answer, same order.
const expected = bare(docs).map((d) => d.uuid);
const got = (await engine(tasker)).map((t) => t.uuid);
if (expected.length !== LIMIT || JSON.stringify(expected) !== JSON.stringify(got)) throw new Error('findTasks and the bare filter disagree');
const matches = docs.filter(sift(query)).length;

for (let i = 0; i < 10; i++) { // warm-up (JIT)
  await engine(tasker);
  bare(docs);
}
const ours = [], base = [], ratios = [];
for (let rep = 0; rep < REPS; rep++) {
  let engineMs = 0, bareMs = 0;
  for (let call = 0; call < CALLS; call++) {
    // Interleaved call by call, alternating which goes first.
    const first = call % 2 === 0;
    let t = performance.now();
    if (first) {
      await engine(tasker);
      engineMs += performance.now() - t;
      t = performance.now();
      bare(docs);
      bareMs += performance.now() - t;
    } else {
      bare(docs);
      bareMs += performance.now() - t;
      t = performance.now();
      await engine(tasker);
      engineMs += performance.now() - t;
    }
  }
  ours.push(engineMs / CALLS);
  base.push(bareMs / CALLS);
  ratios.push(engineMs / bareMs);
}
await tasker.close();
rmSync(dir, { recursive: true, force: true });

const ratio = median(ratios);
const result = {
  config: { tasks: N, matches, limit: LIMIT, calls: CALLS, reps: REPS, query, sort },
  engineMsPerCall: { ...summary(ours), samples: ours },
  bareMsPerCall: { ...summary(base), samples: base },
  ratio, ratioSamples: ratios, target: TARGET, met: ratio <= TARGET,
};

if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const range = (s) => `${fmt(s.median, 2)} (${fmt(s.min, 2)}–${fmt(s.max, 2)})`;
  console.log(`findTasks(${JSON.stringify(query)}, { sort: ${JSON.stringify(sort)}, limit: ${LIMIT} }) over ${fmt(N)} ended tasks loaded from a snapshot (${fmt(matches)} match); ms per call, mean of ${CALLS} calls, median (min–max) of ${REPS} repetitions.\n`);
  console.log('| scenario | engine findTasks ms | bare filter(sift) + sort + slice ms | ratio (median of pairs) | target |');
  console.log('|---|---:|---:|---:|---|');
  console.log(`| selective query over ${fmt(N)} tasks, sort, limit ${LIMIT} | ${range(result.engineMsPerCall)} | ${range(result.bareMsPerCall)} | ${fmt(ratio, 2)}× (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}) | ≤ ${TARGET}×: ${result.met ? 'met' : 'missed'} |`);
}
