// The cost of concurrency conditions: TASKS trivial tasks, each with a
// `running` condition { 'data.group': g } limit 1 over GROUPS distinct groups
// (GROUPS distinct condition keys), beside the same tasks — same data, same
// runner — without conditions, in the same process (memory store, 2 threads).
// Two spreads of the groups:
// - round-robin (g = i % GROUPS): the two running tasks never share a group,
//   so every condition holds: the cost of evaluating them;
// - in pairs (g = ⌊i / 2⌋ % GROUPS): every other task finds its partner
//   running and is parked, then woken when the partner ends: the cost of
//   parking and waking (the other thread takes the next group meanwhile).
// Tasks/s from the first addTask to onIdle (as bench/throughput.mjs); each
// repetition measures the three kinds back to back in a rotating order, and
// the ratio conditioned / unconditioned is computed pair by pair. Target ≥ 0.7×.
import { Tasker } from 'tasker';
import { fmt, median, summary } from './lib.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const TASKS = quick ? 2_000 : 10_000;
const GROUPS = 100;
const REPS = 5;
const THREADS = 2;
const TARGET = 0.7;
const runner = new URL('./runners/group-task.mjs', import.meta.url);

const spreads = {
  none: null,
  roundRobin: (i) => i % GROUPS,
  pairs: (i) => (i >> 1) % GROUPS,
};

async function engine(kind) {
  const groupOf = spreads[kind] ?? ((i) => i % GROUPS);
  const withConditions = spreads[kind] !== null;
  const def = (i) => {
    const group = groupOf(i);
    const task = { operation: 'group', data: { n: i, group } };
    if (withConditions) task.concurrency = [{ scope: 'running', query: { 'data.group': group }, limit: 1 }];
    return task;
  };
  const tasker = new Tasker({ maxThreads: THREADS });
  tasker.assignRunner('group', runner);
  await tasker.start();
  // Warm-up: both threads up with the module loaded (uses groups the measured tasks use too; they end first).
  await Promise.all(Array.from({ length: THREADS * 4 }, async (_, i) => tasker.waitForTaskOutputData(await tasker.addTask(def(i)))));
  let maxRunning = 0;
  let running = 0;
  const onRun = () => (maxRunning = Math.max(maxRunning, ++running));
  const onEnded = () => running--;
  tasker.on('task.run', onRun);
  tasker.on('task.ended', onEnded);
  const start = performance.now();
  const adds = new Array(TASKS);
  for (let i = 0; i < TASKS; i++) adds[i] = tasker.addTask(def(i));
  await Promise.all(adds);
  await tasker.onIdle();
  const elapsed = performance.now() - start;
  tasker.off('task.run', onRun);
  tasker.off('task.ended', onEnded);
  const done = await tasker.countTasks({ status: 'done' });
  if (done !== TASKS + THREADS * 4) throw new Error(`${TASKS + THREADS * 4 - done} tasks did not end done`);
  await tasker.close();
  return { tasksPerSecond: TASKS / (elapsed / 1000), maxRunning };
}

const order = Object.keys(spreads);
for (const kind of order) await engine(kind); // warm-up (JIT, module cache)
const samples = { none: [], roundRobin: [], pairs: [] };
for (let rep = 0; rep < REPS; rep++) {
  for (let k = 0; k < order.length; k++) {
    const kind = order[(rep + k) % order.length];
    samples[kind].push(await engine(kind));
  }
}

const results = Object.fromEntries(order.map((kind) => {
  const rates = samples[kind].map((s) => s.tasksPerSecond);
  const entry = { tasksPerSecond: { ...summary(rates), samples: rates }, maxRunning: Math.max(...samples[kind].map((s) => s.maxRunning)) };
  if (kind !== 'none') {
    const ratios = rates.map((rate, i) => rate / samples.none[i].tasksPerSecond);
    entry.ratio = median(ratios);
    entry.ratioSamples = ratios;
    entry.met = entry.ratio >= TARGET;
  }
  return [kind, entry];
}));

if (json) {
  console.log(JSON.stringify({ config: { tasks: TASKS, groups: GROUPS, reps: REPS, threads: THREADS, target: TARGET }, results }, null, 2));
} else {
  const names = {
    none: 'baseline: the same tasks without conditions',
    roundRobin: `\`running\` { 'data.group': g } limit 1, ${GROUPS} groups round-robin (never blocks)`,
    pairs: `same, groups in pairs (every other task parked, then woken)`,
  };
  console.log(`${fmt(TASKS)} trivial tasks, ${THREADS} threads, memory store, added while started; tasks/s from the first addTask to onIdle, median (min–max) of ${REPS} repetitions; ratio to the baseline, median of pairs.\n`);
  console.log('| tasks | tasks/s | ratio | target ≥ 0.7× |');
  console.log('|---|---:|---:|---|');
  for (const kind of order) {
    const r = results[kind];
    const t = r.tasksPerSecond;
    const ratio = r.ratio === undefined ? '—' : `${fmt(r.ratio, 2)}× (${fmt(Math.min(...r.ratioSamples), 2)}–${fmt(Math.max(...r.ratioSamples), 2)})`;
    console.log(`| ${names[kind]} | ${fmt(t.median)} (${fmt(t.min)}–${fmt(t.max)}) | ${ratio} | ${r.met === undefined ? '—' : r.met ? 'met' : 'missed'} |`);
  }
}
