// A runner that does real work: a 1 ms CPU busy loop, TASKS tasks on 2 threads,
// through the engine (memory store) beside raw piscina with the same thread
// count and the same loop body (runners/cpu-spin-body.mjs), in the same
// process. Each repetition runs both back to back (alternating which goes
// first); the ratio engine/piscina is computed pair by pair and its median
// reported. Target: ≥ 0.9×.
import { Piscina } from 'piscina';
import { Tasker } from 'tasker';
import { fmt, median, summary } from './lib.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const TASKS = quick ? 500 : 2_000;
const REPS = 5;
const THREADS = 2;
const TASK_MS = 1;
const TARGET = 0.9;
const runner = (name) => new URL(`./runners/${name}.mjs`, import.meta.url);

async function rawPiscina() {
  const pool = new Piscina({ filename: runner('raw-cpu-spin').href, maxThreads: THREADS, minThreads: THREADS, idleTimeout: Infinity });
  // Warm-up: both threads up with the module loaded (two 20 ms tasks cannot share a thread).
  await Promise.all(Array.from({ length: THREADS }, () => pool.run(20)));
  const start = performance.now();
  const runs = [];
  for (let i = 0; i < TASKS; i++) runs.push(pool.run(TASK_MS));
  const iterations = await Promise.all(runs);
  const elapsed = performance.now() - start;
  await pool.destroy();
  if (iterations.some((n) => !(n > 0))) throw new Error('a raw task did not spin');
  return TASKS / (elapsed / 1000);
}

async function engine() {
  const tasker = new Tasker({ maxThreads: THREADS });
  tasker.assignRunner('spin', runner('cpu-spin'));
  await tasker.start();
  await Promise.all(Array.from({ length: THREADS }, async () => tasker.waitForTaskOutputData(await tasker.addTask({ operation: 'spin', data: { ms: 20 } }))));
  const start = performance.now();
  const adds = [];
  for (let i = 0; i < TASKS; i++) adds.push(tasker.addTask({ operation: 'spin', data: { ms: TASK_MS } }));
  await Promise.all(adds);
  await tasker.onIdle();
  const elapsed = performance.now() - start;
  const notDone = await tasker.countTasks({ status: { $ne: 'done' } });
  if (notDone !== 0) throw new Error(`${notDone} tasks did not end done`);
  await tasker.close();
  return TASKS / (elapsed / 1000);
}

await engine(); // warm-up (JIT, module cache)
await rawPiscina();
const ours = [], raw = [], ratios = [];
for (let rep = 0; rep < REPS; rep++) {
  let e, r;
  if (rep % 2 === 0) {
    e = await engine();
    r = await rawPiscina();
  } else {
    r = await rawPiscina();
    e = await engine();
  }
  ours.push(e);
  raw.push(r);
  ratios.push(e / r);
}
const ideal = THREADS * (1000 / TASK_MS);
const result = {
  tasks: TASKS, threads: THREADS, taskMs: TASK_MS, reps: REPS, idealTasksPerSecond: ideal,
  engine: { ...summary(ours), samples: ours },
  baseline: { ...summary(raw), samples: raw },
  ratio: median(ratios), ratioSamples: ratios, target: TARGET, met: median(ratios) >= TARGET,
};

if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const range = (s) => `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
  console.log(`${fmt(TASKS)} tasks of a ${TASK_MS} ms busy loop on ${THREADS} threads (ideal ${fmt(ideal)} tasks/s), memory store; median (min–max) of ${REPS} repetitions.\n`);
  console.log('| scenario | engine tasks/s | raw piscina tasks/s | ratio (median of pairs) | target |');
  console.log('|---|---:|---:|---:|---|');
  console.log(`| ${TASK_MS} ms CPU runner, ${fmt(TASKS)} tasks, ${THREADS} threads | ${range(result.engine)} | ${range(result.baseline)} | ${fmt(result.ratio, 2)}× (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}) | ≥ ${TARGET}×: ${result.met ? 'met' : 'missed'} |`);
}
