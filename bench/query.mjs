// findTasks over a large store: N ended tasks loaded from a persistDir
// snapshot (written as bench/persistence.mjs does), a selective query
// { operation: 'x', 'data.n': { $gte: N - 1000 } } (500 matches), sort
// { createdAt: -1 }, limit 50 — beside a bare `docs.filter(sift(q))` + sort +
// slice on a plain array of the same documents (parsed from the same file,
// Dates decoded), in the same process. Each repetition times CALLS calls of
// each, interleaved; the ratio engine/bare (time per call) is computed pair by
// pair. Target ≤ 1.5×.
//
// Then listing: findTasks({}, { limit: 20,000 }) whole, beside the same call
// with a projection { uuid: 1, status: 1 } and one with { data: 0, result: 0 }
// (interleaved the same way); the ratio projected/whole says what copying
// only the projected fields saves. No target.
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
// Listing with and without a projection.
const LIST = 20_000;
const LIST_CALLS = quick ? 3 : 5;
const projections = { include: { uuid: 1, status: 1 }, exclude: { data: 0, result: 0 } };
const list = (projection) => tasker.findTasks({}, projection === undefined ? { limit: LIST } : { limit: LIST, projection });
{
  const [whole, included, excluded] = await Promise.all([list(), list(projections.include), list(projections.exclude)]);
  if (whole.length !== LIST || included.length !== LIST || excluded.length !== LIST) throw new Error('the listing returned the wrong number of tasks');
  if (JSON.stringify(included[0]) !== JSON.stringify({ uuid: whole[0].uuid, status: whole[0].status })) throw new Error('the inclusion projection is wrong');
  if ('data' in excluded[0] || 'result' in excluded[0] || excluded[0].operation !== whole[0].operation) throw new Error('the exclusion projection is wrong');
}
for (let i = 0; i < 3; i++) for (const projection of [undefined, projections.include, projections.exclude]) await list(projection); // warm-up
const listMs = { whole: [], include: [], exclude: [] };
const listRatios = { include: [], exclude: [] };
for (let rep = 0; rep < REPS; rep++) {
  const total = { whole: 0, include: 0, exclude: 0 };
  for (let call = 0; call < LIST_CALLS; call++) {
    // Rotate which goes first.
    const order = ['whole', 'include', 'exclude'];
    for (let r = 0; r < call % 3; r++) order.push(order.shift());
    for (const name of order) {
      const t = performance.now();
      await list(name === 'whole' ? undefined : projections[name]);
      total[name] += performance.now() - t;
    }
  }
  for (const name of ['whole', 'include', 'exclude']) listMs[name].push(total[name] / LIST_CALLS);
  listRatios.include.push(total.include / total.whole);
  listRatios.exclude.push(total.exclude / total.whole);
}
await tasker.close();
rmSync(dir, { recursive: true, force: true });

const ratio = median(ratios);
const result = {
  config: { tasks: N, matches, limit: LIMIT, calls: CALLS, reps: REPS, query, sort },
  engineMsPerCall: { ...summary(ours), samples: ours },
  bareMsPerCall: { ...summary(base), samples: base },
  ratio, ratioSamples: ratios, target: TARGET, met: ratio <= TARGET,
  listing: {
    config: { tasks: LIST, calls: LIST_CALLS, reps: REPS, projections },
    wholeMsPerCall: { ...summary(listMs.whole), samples: listMs.whole },
    includeMsPerCall: { ...summary(listMs.include), samples: listMs.include },
    excludeMsPerCall: { ...summary(listMs.exclude), samples: listMs.exclude },
    includeRatio: median(listRatios.include), includeRatioSamples: listRatios.include,
    excludeRatio: median(listRatios.exclude), excludeRatioSamples: listRatios.exclude,
  },
};

if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const range = (s) => `${fmt(s.median, 2)} (${fmt(s.min, 2)}–${fmt(s.max, 2)})`;
  console.log(`findTasks(${JSON.stringify(query)}, { sort: ${JSON.stringify(sort)}, limit: ${LIMIT} }) over ${fmt(N)} ended tasks loaded from a snapshot (${fmt(matches)} match); ms per call, mean of ${CALLS} calls, median (min–max) of ${REPS} repetitions.\n`);
  console.log('| scenario | engine findTasks ms | bare filter(sift) + sort + slice ms | ratio (median of pairs) | target |');
  console.log('|---|---:|---:|---:|---|');
  console.log(`| selective query over ${fmt(N)} tasks, sort, limit ${LIMIT} | ${range(result.engineMsPerCall)} | ${range(result.bareMsPerCall)} | ${fmt(ratio, 2)}× (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}) | ≤ ${TARGET}×: ${result.met ? 'met' : 'missed'} |`);
  const { listing } = result;
  const ratioRange = (samples) => `${fmt(median(samples), 2)}× (${fmt(Math.min(...samples), 2)}–${fmt(Math.max(...samples), 2)})`;
  console.log(`\nfindTasks({}, { limit: ${fmt(LIST)} }) over the same store, whole tasks vs a projection; ms per call, mean of ${LIST_CALLS} calls, median (min–max) of ${REPS} repetitions.\n`);
  console.log('| listing | ms per call | ratio to whole (median of pairs) |');
  console.log('|---|---:|---:|');
  console.log(`| whole tasks | ${range(listing.wholeMsPerCall)} | — |`);
  console.log(`| projection ${JSON.stringify(projections.include)} | ${range(listing.includeMsPerCall)} | ${ratioRange(listing.includeRatioSamples)} |`);
  console.log(`| projection ${JSON.stringify(projections.exclude)} | ${range(listing.excludeMsPerCall)} | ${ratioRange(listing.excludeRatioSamples)} |`);
}
