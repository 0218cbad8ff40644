// Event-loop responsiveness of the main thread under full CPU load.
// maxThreads = 2 (every core of the reference machine) kept busy by CPU-bound
// runners (a 200 ms busy loop each, enough tasks to cover the window) while the
// main thread measures its event-loop delay with
// perf_hooks.monitorEventLoopDelay({ resolution: 1 }) for a fixed window.
// Baselines in the same process: raw piscina with the same thread count and the
// same runner body under the same load, and the main thread with nothing
// running (idle). Each repetition measures the three, in a rotating order; the
// engine/piscina ratio of p99 is computed pair by pair and its median reported.
// Delays are as the histogram records them: a timer that fires on time counts
// its 1 ms resolution (so idle p50 is about 1 ms).
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Piscina } from 'piscina';
import { Tasker } from 'tasker';
import { fmt, median, summary } from './lib.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const THREADS = 2;
const TASK_MS = 200;
const WINDOW_MS = quick ? 1_200 : 5_000;
const REPS = quick ? 3 : 5;
/** Enough tasks to keep both threads busy through the window, plus one round of slack. */
const TASKS = THREADS * (Math.ceil(WINDOW_MS / TASK_MS) + 1);
const runner = (name) => new URL(`./runners/${name}.mjs`, import.meta.url);
const ms = (ns) => ns / 1e6;

/**
 * Measures the event-loop delay for WINDOW_MS. `completions` counts the tasks
 * that ended inside the window (a check that the load really kept both threads busy).
 */
async function measureWindow(completions) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const doneBefore = completions.count;
  histogram.enable();
  const start = performance.now();
  await sleep(WINDOW_MS);
  histogram.disable();
  return {
    p50: ms(histogram.percentile(50)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
    samples: histogram.count,
    windowMs: performance.now() - start,
    tasksDone: completions.count - doneBefore,
  };
}

async function idle() {
  return measureWindow({ count: 0 });
}

async function rawPiscina() {
  const pool = new Piscina({ filename: runner('raw-cpu-spin').href, maxThreads: THREADS, minThreads: THREADS, idleTimeout: Infinity });
  // Warm-up: both threads up, the module loaded on each.
  await Promise.all(Array.from({ length: THREADS }, () => pool.run(20)));
  const completions = { count: 0 };
  const runs = [];
  for (let i = 0; i < TASKS; i++) runs.push(pool.run(TASK_MS).then(() => completions.count++));
  await sleep(20); // the first two tasks are spinning
  const result = await measureWindow(completions);
  await Promise.all(runs);
  await pool.destroy();
  return result;
}

async function engine() {
  const tasker = new Tasker({ maxThreads: THREADS });
  tasker.assignRunner('spin', runner('cpu-spin'));
  await tasker.start();
  await Promise.all(Array.from({ length: THREADS }, async () => tasker.waitForTaskOutputData(await tasker.addTask({ operation: 'spin', data: { ms: 20 } }))));
  const completions = { count: 0 };
  let running = 0;
  const busy = new Promise((resolve) => {
    tasker.on('task.run', () => {
      if (++running === THREADS) resolve();
    });
  });
  tasker.on('task.done', () => completions.count++);
  const adds = [];
  for (let i = 0; i < TASKS; i++) adds.push(tasker.addTask({ operation: 'spin', data: { ms: TASK_MS } }));
  await Promise.all(adds);
  await busy;
  await sleep(20); // as for piscina
  const result = await measureWindow(completions);
  await tasker.onIdle();
  const failed = await tasker.countTasks({ status: { $ne: 'done' } });
  if (failed !== 0) throw new Error(`${failed} tasks did not end done`);
  await tasker.close();
  return result;
}

const kinds = { engine, piscina: rawPiscina, idle };
const order = Object.keys(kinds);
const load = [loadavg()[0]];
await engine(); // warm-up (JIT, module cache)
await rawPiscina();
const samples = { engine: [], piscina: [], idle: [] };
for (let rep = 0; rep < REPS; rep++) {
  for (let k = 0; k < order.length; k++) {
    const kind = order[(rep + k) % order.length];
    samples[kind].push(await kinds[kind]());
  }
}

load.push(loadavg()[0]);
const stat = (kind, field) => summary(samples[kind].map((s) => s[field]));
const results = Object.fromEntries(
  order.map((kind) => [kind, { p50: stat(kind, 'p50'), p99: stat(kind, 'p99'), max: stat(kind, 'max'), tasksDone: stat(kind, 'tasksDone'), samples: samples[kind] }]),
);
const p99Ratio = median(samples.engine.map((s, i) => s.p99 / samples.piscina[i].p99));
const maxRatio = median(samples.engine.map((s, i) => s.max / samples.piscina[i].max));
const config = { threads: THREADS, taskMs: TASK_MS, tasks: TASKS, windowMs: WINDOW_MS, reps: REPS, resolutionMs: 1 };

if (json) {
  console.log(JSON.stringify({ config, loadavg1m: load, results, ratios: { p99EngineVsPiscina: p99Ratio, maxEngineVsPiscina: maxRatio } }, null, 2));
} else {
  const range = (s, digits = 2) => `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
  const names = {
    engine: `engine: ${THREADS} threads busy (${TASK_MS} ms busy-loop tasks)`,
    piscina: `baseline: raw piscina, ${THREADS} threads, same runner body`,
    idle: 'baseline: idle (nothing running)',
  };
  console.log(`Event-loop delay of the main thread over a ${fmt(WINDOW_MS / 1000, 1)} s window, monitorEventLoopDelay({ resolution: 1 }); median (min–max) of ${REPS} repetitions, in ms. 1-min load average (this benchmark's threads included): ${load.map((l) => fmt(l, 2)).join(' → ')}.\n`);
  console.log('| load | p50 | p99 | max | tasks ended in window |');
  console.log('|---|---:|---:|---:|---:|');
  for (const kind of order) {
    const r = results[kind];
    console.log(`| ${names[kind]} | ${range(r.p50)} | ${range(r.p99)} | ${range(r.max)} | ${kind === 'idle' ? '–' : fmt(r.tasksDone.median)} |`);
  }
  console.log(`\nengine / piscina, median of pairs: p99 ${fmt(p99Ratio, 2)}×, max ${fmt(maxRatio, 2)}×`);
}
