// Progress in a hot loop: a runner calling ctx.progress() on each of
// ITERATIONS steps of trivial work, against the same loop without the calls,
// in the same tasker and thread (memory store; persisted, the progress is
// stored at most once a second, so the store adds nothing per call).
// Measured: the loop's time inside the worker (the cost to the runner), the
// time from addTask to done, and the task.progress events the main thread saw.
// Each repetition runs the variants in a rotating order; medians, and the
// ratio to the plain loop pair by pair.
import { fmt, median, summary } from './lib.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const ITERATIONS = quick ? 200_000 : 1_000_000;
const REPS = quick ? 3 : 7;
const runner = new URL('./runners/progress-loop.mjs', import.meta.url);

const VARIANTS = {
  none: 'the loop, no progress calls',
  ratio: 'progress(i / n) on each step',
  'done-total': "progress({ done, total }, 'working') on each step",
};

const { Tasker } = await import('tasker');
const tasker = new Tasker({ maxThreads: 1 });
tasker.assignRunner('loop', runner);
await tasker.start();
let events = 0;
tasker.on('task.progress', () => events++);

async function once(mode) {
  events = 0;
  const start = performance.now();
  const uuid = await tasker.addTask({ operation: 'loop', data: { iterations: ITERATIONS, mode } });
  const { loopMs } = await tasker.waitForTaskOutputData(uuid);
  const doneMs = performance.now() - start;
  const task = await tasker.getTask(uuid);
  if (mode !== 'none' && task.progress?.ratio !== 1) throw new Error(`${mode}: the final progress was lost (${JSON.stringify(task.progress)})`);
  return { loopMs, doneMs, events };
}

// Warm-up: the thread is up, the runner loaded and its loops compiled.
for (const mode of Object.keys(VARIANTS)) await once(mode);
const order = Object.keys(VARIANTS);
const samples = Object.fromEntries(order.map((v) => [v, []]));
for (let rep = 0; rep < REPS; rep++) {
  for (let k = 0; k < order.length; k++) {
    const mode = order[(rep + k) % order.length];
    samples[mode].push(await once(mode));
  }
}
await tasker.close();

const results = Object.fromEntries(
  order.map((v) => {
    const s = samples[v];
    const ratio = median(s.map((x, i) => x.loopMs / samples.none[i].loopMs));
    const perCallNs = median(s.map((x, i) => ((x.loopMs - samples.none[i].loopMs) * 1e6) / ITERATIONS));
    return [v, { label: VARIANTS[v], loopMs: summary(s.map((x) => x.loopMs)), doneMs: summary(s.map((x) => x.doneMs)), events: summary(s.map((x) => x.events)), loopRatio: ratio, perCallNs, samples: s }];
  }),
);
if (json) {
  console.log(JSON.stringify({ config: { iterations: ITERATIONS, reps: REPS, threads: 1 }, results }, null, 2));
} else {
  console.log(`${fmt(ITERATIONS)} steps in one runner; median (min–max) of ${REPS} repetitions.\n`);
  console.log('| variant | runner loop, ms | vs no progress | per call, ns | addTask → done, ms | task.progress events |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const v of order) {
    const r = results[v];
    const vs = v === 'none' ? '1.00×' : `${fmt(r.loopRatio, 2)}×`;
    const per = v === 'none' ? '—' : fmt(r.perCallNs);
    console.log(`| ${r.label} | ${fmt(r.loopMs.median, 1)} (${fmt(r.loopMs.min, 1)}–${fmt(r.loopMs.max, 1)}) | ${vs} | ${per} | ${fmt(r.doneMs.median, 1)} | ${fmt(r.events.median)} |`);
  }
}
