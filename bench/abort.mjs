// Abort of a `while (true)` runner (abortGraceMs 0): time from abortTask() to
// the `aborted` state stored, and to the next task finishing on that slot
// (1 thread, so a replacement thread must start). Baselines in the same
// process: a bare `new Worker()` spawn, and a bare `worker.terminate()` of a
// spinning worker.
import { Worker } from 'node:worker_threads';
import { Tasker } from 'tasker';
import { fmt, median, summary } from './lib.mjs';

const quick = process.argv.includes('--quick');
const REPS = quick ? 5 : 15;
const runner = (name) => new URL(`./runners/${name}.mjs`, import.meta.url);

async function spawnBaseline() {
  const start = performance.now();
  const worker = new Worker(runner('spawn-probe'));
  await new Promise((resolve) => worker.once('message', resolve));
  const elapsed = performance.now() - start;
  await worker.terminate();
  return elapsed;
}

async function terminateBaseline() {
  const worker = new Worker('for (;;) {}', { eval: true });
  await new Promise((resolve) => worker.once('online', resolve));
  const start = performance.now();
  await worker.terminate();
  return performance.now() - start;
}

const tasker = new Tasker({ maxThreads: 1, abortGraceMs: 0 });
tasker.assignRunner('busy', runner('busy-loop'));
tasker.assignRunner('increment', runner('increment'));
await tasker.start();

async function engineAbort() {
  const uuid = await tasker.addTask({ operation: 'busy' });
  await new Promise((resolve) => (tasker.getTask(uuid).then((t) => t.status === 'running' ? resolve() : tasker.once(`task.${uuid}.run`, resolve))));
  const start = performance.now();
  await tasker.abortTask(uuid);
  const stored = performance.now() - start;
  const next = await tasker.addTask({ operation: 'increment', data: 1 });
  await tasker.waitForTaskOutputData(next);
  return { stored, nextDone: performance.now() - start };
}

await engineAbort(); // warm-up
const stored = [], nextDone = [], spawn = [], terminate = [], reuseRatio = [];
for (let i = 0; i < REPS; i++) {
  const e = await engineAbort();
  const s = await spawnBaseline();
  stored.push(e.stored);
  nextDone.push(e.nextDone);
  spawn.push(s);
  terminate.push(await terminateBaseline());
  reuseRatio.push(e.nextDone / s);
}
await tasker.close();
const row = (name, values) => {
  const s = summary(values);
  return `| ${name} | ${fmt(s.median, 2)} | ${fmt(s.min, 2)} | ${fmt(s.max, 2)} | ${s.n} |`;
};
console.log('| measurement (ms) | median | min | max | n |');
console.log('|---|---:|---:|---:|---:|');
console.log(row('abortTask → aborted stored (while(true) runner, grace 0)', stored));
console.log(row('abortTask → next task done on the same slot (1 thread)', nextDone));
console.log(row('baseline: bare new Worker() → first message', spawn));
console.log(row('baseline: bare worker.terminate() of a spinning worker', terminate));
console.log(`slot reuse / bare spawn, median of pairs: ${fmt(median(reuseRatio), 2)}×`);
