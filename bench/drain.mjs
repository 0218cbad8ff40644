// Draining a deep queue: N trivial tasks (n → n + 1) added while the tasker is
// stopped (memory store, 2 threads), then start() and onIdle(). Time per task
// for N = BIG beside N = SMALL, in the same process; the ratio
// per-task(BIG) / per-task(SMALL) is computed pair by pair (target ≤ 1.3: the
// cost of a dispatch does not grow with the depth of the queue).
//
// Thread start-up and the threads' own warm-up (their JIT: a fresh pool's
// first thousand tasks run markedly slower, which would inflate the small
// drain) are kept out of the measurement: WARMUP trivial tasks of priority 2
// run first, then two gate tasks of priority 1 (one per thread) hold both
// threads until the main thread says 'go' (runners/drain.mjs). The clock runs
// from 'go' to onIdle(), when all N tasks have run and their ends are stored
// and announced, with the N tasks still queued. Adding the tasks is not timed.
import { BroadcastChannel } from 'node:worker_threads';
import { Tasker } from 'tasker';
import { fmt, median, summary } from './lib.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const BIG = quick ? 10_000 : 100_000;
const SMALL = 1_000;
const WARMUP = quick ? 3_000 : 5_000;
const REPS = 5;
const THREADS = 2;
const TARGET = 1.3;
const runnerModule = new URL('./runners/drain.mjs', import.meta.url);
let runs = 0;

async function drain(count) {
  const tasker = new Tasker({ maxThreads: THREADS });
  tasker.assignRunner('gate', { module: runnerModule, export: 'gate' });
  tasker.assignRunner('noop', { module: runnerModule, export: 'addOne' });
  const channelName = `tasker-bench-drain:${process.pid}:${++runs}`;
  const channel = new BroadcastChannel(channelName);
  let ready = 0;
  let goAt = 0;
  const go = new Promise((resolve) => {
    channel.onmessage = (event) => {
      if (event.data !== 'ready' || ++ready !== THREADS) return;
      goAt = performance.now();
      channel.postMessage('go');
      resolve();
    };
  });
  const adds = [];
  for (let i = 0; i < count; i++) adds.push(tasker.addTask({ operation: 'noop', data: i }));
  for (let i = 0; i < WARMUP; i++) adds.push(tasker.addTask({ operation: 'noop', priority: 2, data: -1 }));
  for (let i = 0; i < THREADS; i++) adds.push(tasker.addTask({ operation: 'gate', priority: 1, data: { channel: channelName } }));
  const uuids = await Promise.all(adds);
  globalThis.gc?.();
  await tasker.start();
  await go;
  await tasker.onIdle();
  const elapsed = performance.now() - goAt;
  channel.close();
  const done = await tasker.countTasks({ operation: 'noop', status: 'done' });
  if (done !== count + WARMUP) throw new Error(`${count + WARMUP - done} of ${count + WARMUP} tasks did not end done`);
  const last = await tasker.getTask(uuids[count - 1]);
  if (last.result !== count) throw new Error(`the last task returned ${last.result}`);
  await tasker.close();
  return { elapsedMs: elapsed, perTaskUs: (elapsed * 1000) / count, tasksPerSecond: count / (elapsed / 1000) };
}

await drain(SMALL); // warm-up (JIT, module cache)
globalThis.gc?.();
const big = [], small = [], ratios = [];
for (let rep = 0; rep < REPS; rep++) {
  let b, s;
  if (rep % 2 === 0) {
    b = await drain(BIG);
    globalThis.gc?.();
    s = await drain(SMALL);
  } else {
    s = await drain(SMALL);
    globalThis.gc?.();
    b = await drain(BIG);
  }
  globalThis.gc?.();
  big.push(b);
  small.push(s);
  ratios.push(b.perTaskUs / s.perTaskUs);
}

const ratio = median(ratios);
const describe = (samples) => ({ perTaskUs: summary(samples.map((s) => s.perTaskUs)), tasksPerSecond: summary(samples.map((s) => s.tasksPerSecond)), elapsedMs: summary(samples.map((s) => s.elapsedMs)) });
const result = {
  config: { big: BIG, small: SMALL, warmupTasks: WARMUP, reps: REPS, threads: THREADS },
  big: describe(big), small: describe(small),
  ratio, ratioSamples: ratios, target: TARGET, met: ratio <= TARGET,
};

if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const range = (s, digits = 1) => `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
  console.log(`Drain of N trivial tasks queued while stopped (memory store, ${THREADS} threads, warmed by ${fmt(WARMUP)} tasks first): from the moment both threads are free to onIdle(); median (min–max) of ${REPS} repetitions.\n`);
  console.log('| queued tasks | µs per task | tasks/s | drain ms |');
  console.log('|---|---:|---:|---:|');
  console.log(`| ${fmt(BIG)} | ${range(result.big.perTaskUs)} | ${fmt(result.big.tasksPerSecond.median)} | ${fmt(result.big.elapsedMs.median)} |`);
  console.log(`| ${fmt(SMALL)} (baseline) | ${range(result.small.perTaskUs)} | ${fmt(result.small.tasksPerSecond.median)} | ${fmt(result.small.elapsedMs.median)} |`);
  console.log(`\nper task (${fmt(BIG)}) / per task (${fmt(SMALL)}), median of pairs: ${fmt(ratio, 2)}× (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}); target ≤ ${TARGET}×: ${result.met ? 'met' : 'missed'}`);
}
