// Abort to slot reuse with 2 threads: a `while (true)` runner on one thread
// (abortGraceMs 0), the second thread idle and warm. Measured from abortTask():
// the `aborted` state stored, and the next trivial task done (it may run on the
// idle thread while piscina replaces the terminated one). Then, after the
// abort, how long until both slots serve again: two 50 ms tasks added at once,
// and when the later of the two begins (on the replacement thread, which must
// start and load the runner module; the threads are checked to differ).
// Baselines in the same process: raw piscina (2 threads, the same runner
// bodies) aborting the spinning task through its `signal` — piscina terminates
// that thread and replaces it — then the same next task and the same two 50 ms
// tasks; and, as bench/abort.mjs, a bare `worker.terminate()` of a spinning
// worker, a bare `new Worker()` spawn to its first message, and — the floor for
// the next task on an idle thread — a bare terminate() of a spinning worker
// followed by a round trip (n → n + 1) to a second, idle worker.
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Tasker } from 'tasker';
import { fmt, median, summary } from './lib.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const REPS = quick ? 20 : 100;
const THREADS = 2;
const HOLD_MS = 50;
const runnerModule = new URL('./runners/abort-reuse.mjs', import.meta.url);
const echo = new URL('./runners/worker-echo.mjs', import.meta.url);
const rawRunner = new URL('./runners/raw-abort-reuse.mjs', import.meta.url);

const once = (worker, event) => new Promise((resolve) => worker.once(event, resolve));

async function spawnBaseline() {
  const start = performance.now();
  const worker = new Worker(echo);
  await once(worker, 'message');
  const elapsed = performance.now() - start;
  await worker.terminate();
  return elapsed;
}

async function spinningWorker() {
  const worker = new Worker('for (;;) {}', { eval: true });
  await once(worker, 'online');
  return worker;
}

async function terminateBaseline() {
  const worker = await spinningWorker();
  const start = performance.now();
  await worker.terminate();
  return performance.now() - start;
}

/** terminate() of a spinning worker, then n → n + 1 on a second worker that is up and idle. */
async function terminateThenIdleRoundTrip() {
  const idle = new Worker(echo);
  await once(idle, 'message');
  idle.postMessage(0);
  await once(idle, 'message'); // warm
  const spinning = await spinningWorker();
  const start = performance.now();
  await spinning.terminate();
  idle.postMessage(1);
  const answer = await once(idle, 'message');
  const elapsed = performance.now() - start;
  if (answer !== 2) throw new Error(`echo answered ${answer}`);
  await idle.terminate();
  return elapsed;
}

const tasker = new Tasker({ maxThreads: THREADS, abortGraceMs: 0 });
for (const name of ['forever', 'addOne', 'hold']) tasker.assignRunner(name, { module: runnerModule, export: name });
await tasker.start();

const run = async (operation, data) => tasker.waitForTaskOutputData(await tasker.addTask({ operation, data }));

/** Both threads up with the runner module loaded: two concurrent tasks cannot share a thread. */
async function warmBothThreads() {
  await Promise.all([run('hold', { ms: 30 }), run('hold', { ms: 30 })]);
}

async function startSpinning() {
  const uuid = await tasker.addTask({ operation: 'forever' });
  await new Promise((resolve) => {
    const onRun = () => {
      tasker.off(`task.${uuid}.run`, onRun);
      resolve();
    };
    tasker.on(`task.${uuid}.run`, onRun);
    tasker.getTask(uuid).then((task) => task.status === 'running' && onRun());
  });
  return uuid;
}

async function engineNextTask() {
  await warmBothThreads();
  const uuid = await startSpinning();
  const start = performance.now();
  await tasker.abortTask(uuid);
  const stored = performance.now() - start;
  const result = await run('addOne', 1);
  const nextDone = performance.now() - start;
  if (result !== 2) throw new Error(`addOne returned ${result}`);
  const task = await tasker.getTask(uuid);
  if (task.status !== 'aborted' || task.terminated !== true) throw new Error(`aborted task ended ${task.status}, terminated ${task.terminated}`);
  return { stored, nextDone };
}

async function engineBothSlots() {
  await warmBothThreads();
  const uuid = await startSpinning();
  const start = performance.now();
  await tasker.abortTask(uuid);
  const [a, b] = await Promise.all([run('hold', { ms: HOLD_MS }), run('hold', { ms: HOLD_MS })]);
  if (a.threadId === b.threadId) throw new Error('the two tasks ran on one thread');
  return Math.max(a.began, b.began) - (performance.timeOrigin + start);
}

// ---- raw piscina baseline ----------------------------------------------------------

const pool = new Piscina({ filename: rawRunner.href, maxThreads: THREADS, minThreads: THREADS, idleTimeout: Infinity });

async function rawWarmBothThreads() {
  const [a, b] = await Promise.all([pool.run({ kind: 'hold', ms: 30 }), pool.run({ kind: 'hold', ms: 30 })]);
  if (a.threadId === b.threadId) throw new Error('raw piscina warm-up ran on one thread');
}

/** Starts the spinning task; returns a function that aborts it and resolves once piscina has rejected it. */
async function rawStartSpinning() {
  const controller = new AbortController();
  const running = pool.run({ kind: 'forever' }, { signal: controller.signal }).then(
    () => { throw new Error('the spinning task resolved'); },
    (error) => { if (error?.name !== 'AbortError') throw error; },
  );
  await sleep(5); // the thread has taken it (it is warm and idle)
  return () => {
    controller.abort();
    return running;
  };
}

async function rawNextTask() {
  await rawWarmBothThreads();
  const abort = await rawStartSpinning();
  const start = performance.now();
  await abort();
  const rejected = performance.now() - start;
  const result = await pool.run({ kind: 'addOne', n: 1 });
  if (result !== 2) throw new Error(`addOne returned ${result}`);
  return { rejected, nextDone: performance.now() - start };
}

async function rawBothSlots() {
  await rawWarmBothThreads();
  const abort = await rawStartSpinning();
  const start = performance.now();
  await abort();
  const [a, b] = await Promise.all([pool.run({ kind: 'hold', ms: HOLD_MS }), pool.run({ kind: 'hold', ms: HOLD_MS })]);
  if (a.threadId === b.threadId) throw new Error('the two raw tasks ran on one thread');
  return Math.max(a.began, b.began) - (performance.timeOrigin + start);
}

const load = [loadavg()[0]];
await engineNextTask(); // warm-up
await engineBothSlots();
await rawNextTask();
await rawBothSlots();
await spawnBaseline();
await terminateThenIdleRoundTrip();
const s = { stored: [], nextDone: [], bothSlots: [], rawRejected: [], rawNextDone: [], rawBothSlots: [], spawn: [], terminate: [], terminateRoundTrip: [] };
const ratios = { nextDoneVsPiscina: [], bothSlotsVsPiscina: [], nextDoneVsTerminateRoundTrip: [], nextDoneVsSpawn: [], bothSlotsVsSpawn: [] };
for (let i = 0; i < REPS; i++) {
  const e = await engineNextTask();
  const both = await engineBothSlots();
  const raw = await rawNextTask();
  const rawBoth = await rawBothSlots();
  s.rawRejected.push(raw.rejected);
  s.rawNextDone.push(raw.nextDone);
  s.rawBothSlots.push(rawBoth);
  ratios.nextDoneVsPiscina.push(e.nextDone / raw.nextDone);
  ratios.bothSlotsVsPiscina.push(both / rawBoth);
  const spawn = await spawnBaseline();
  const floor = await terminateThenIdleRoundTrip();
  s.stored.push(e.stored);
  s.nextDone.push(e.nextDone);
  s.bothSlots.push(both);
  s.spawn.push(spawn);
  s.terminate.push(await terminateBaseline());
  s.terminateRoundTrip.push(floor);
  ratios.nextDoneVsTerminateRoundTrip.push(e.nextDone / floor);
  ratios.nextDoneVsSpawn.push(e.nextDone / spawn);
  ratios.bothSlotsVsSpawn.push(both / spawn);
}
await tasker.close();
await pool.destroy();
load.push(loadavg()[0]);

const names = {
  stored: 'abortTask → aborted stored (while(true) runner, grace 0)',
  nextDone: 'abortTask → next trivial task done (2 threads, second idle)',
  bothSlots: `abortTask → second slot serving again (two ${HOLD_MS} ms tasks added at once: the later one begins, on the replacement thread)`,
  rawRejected: 'baseline: raw piscina, signal abort of the spinning task → run() rejected',
  rawNextDone: 'baseline: raw piscina, signal abort → next trivial task done',
  rawBothSlots: `baseline: raw piscina, signal abort → second slot serving again (same two ${HOLD_MS} ms tasks)`,
  spawn: 'baseline: bare new Worker() → first message',
  terminate: 'baseline: bare worker.terminate() of a spinning worker',
  terminateRoundTrip: 'baseline: bare terminate() of a spinning worker, then n → n + 1 on a second, idle worker',
};
const medianRatios = Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, median(v)]));
if (json) {
  console.log(JSON.stringify({ config: { threads: THREADS, reps: REPS, holdMs: HOLD_MS, abortGraceMs: 0 }, loadavg1m: load,
    results: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, { ...summary(v), samples: v }])), ratios: medianRatios }, null, 2));
} else {
  console.log(`${REPS} repetitions; 1-min load average (this benchmark's threads included): ${load.map((l) => fmt(l, 2)).join(' → ')}.\n`);
  console.log('| measurement (ms) | median | min | max | n |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [key, values] of Object.entries(s)) {
    const v = summary(values);
    console.log(`| ${names[key]} | ${fmt(v.median, 2)} | ${fmt(v.min, 2)} | ${fmt(v.max, 2)} | ${v.n} |`);
  }
  console.log(`\nmedians of pairs: engine / raw piscina: next task done ${fmt(medianRatios.nextDoneVsPiscina, 2)}×, second slot serving ${fmt(medianRatios.bothSlotsVsPiscina, 2)}×; next task done / (bare terminate + idle round trip) ${fmt(medianRatios.nextDoneVsTerminateRoundTrip, 2)}×; ` +
    `next task done / bare spawn ${fmt(medianRatios.nextDoneVsSpawn, 2)}×; second slot serving / bare spawn ${fmt(medianRatios.bothSlotsVsSpawn, 2)}×`);
}
