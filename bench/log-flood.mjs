// Log flood: one runner logging LINES lines as fast as it can.
// Variants (each repetition runs all of them, in a rotating order):
// - engine, memory store, maxLogsPerTask default (10,000): the cap is enforced
//   in the worker, so the main thread should see only the kept lines;
// - engine, memory store, maxLogsPerTask = LINES: every line reaches the main thread;
// - engine, persistDir (durability fsync), maxLogsPerTask = LINES: every line
//   is journaled; its lines/s is the throughput of persisted lines;
// - baseline: a bare Worker (no Tasker) running the same loop, posting each
//   line to parentPort as its own message, the main thread counting them.
// Measured: the time from addTask (baseline: the 'go' message) until the task
// is done (baseline: the last line counted), lines/s handled and stored, the
// process RSS before, its peak sampled every 10 ms (process.memoryUsage()) and
// process.resourceUsage().maxRSS, the main thread's peak heapUsed, the largest
// event-loop delay (monitorEventLoopDelay, resolution 1 ms) and the largest gap
// between two 10 ms samples during the flood, and what stays after a GC.
//
// RSS is a property of the process (worker heaps included), and maxRSS is a
// high-water mark that never goes down, so each measurement runs in a fresh
// child process forked from this script (with --expose-gc); the parent
// alternates engine and baseline runs and reports the medians.
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fmt, median, summary } from './lib.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const LINES = quick ? 100_000 : 1_000_000;
const REPS = quick ? 3 : 5;
const runner = (name) => new URL(`./runners/${name}.mjs`, import.meta.url);
const MiB = 1024 * 1024;

const VARIANTS = {
  engineDefaultCap: { label: 'engine, memory store, maxLogsPerTask default (10,000)' },
  engineMemoryFullCap: { label: `engine, memory store, maxLogsPerTask ${fmt(LINES)}` },
  enginePersistFullCap: { label: `engine, persistDir (fsync), maxLogsPerTask ${fmt(LINES)}` },
  bareWorker: { label: 'baseline: bare Worker, one postMessage per line' },
};

// ---- child: one measurement ------------------------------------------------------

/** Samples RSS and heapUsed every 10 ms and the event-loop delay, from start() to stop(). */
function memorySampler() {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let peakRss = 0;
  let peakHeap = 0;
  let maxGap = 0;
  let stalled = 0;
  let last = 0;
  let timer;
  const sample = () => {
    const now = performance.now();
    if (last !== 0) {
      maxGap = Math.max(maxGap, now - last);
      if (now - last > 50) stalled += now - last;
    }
    last = now;
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  };
  return {
    start() {
      histogram.enable();
      sample();
      timer = setInterval(sample, 10);
    },
    stop() {
      sample();
      clearInterval(timer);
      histogram.disable();
      return { peakRss, peakHeap, maxSampleGapMs: maxGap, stalledMs: stalled, eldMaxMs: histogram.max / 1e6, eldP99Ms: histogram.percentile(99) / 1e6 };
    },
  };
}

async function afterGc() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await sleep(50);
  }
  const usage = process.memoryUsage();
  return { rssAfterGc: usage.rss, heapAfterGc: usage.heapUsed };
}

/** Keeps the tasker reachable until the child exits, so that "after close" measures what it still holds. */
let keepAlive = null;

function dirBytes(dir) {
  return readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

async function childEngine(variant, lines) {
  const { Tasker } = await import('tasker');
  const persistDir = variant === 'enginePersistFullCap' ? mkdtempSync(join(tmpdir(), 'tasker-bench-flood-')) : null;
  const options = { maxThreads: 1, persistDir };
  if (variant !== 'engineDefaultCap') options.maxLogsPerTask = lines;
  const tasker = new Tasker(options);
  keepAlive = tasker;
  tasker.assignRunner('flood', runner('log-flood'));
  await tasker.start();
  // Warm-up: the thread is up and has loaded the runner.
  await tasker.waitForTaskOutputData(await tasker.addTask({ operation: 'flood', data: { lines: 10 } }));
  await afterGc();
  const rssBefore = process.memoryUsage().rss;
  const sampler = memorySampler();
  sampler.start();
  const start = performance.now();
  const uuid = await tasker.addTask({ operation: 'flood', data: { lines } });
  const { loopMs } = await tasker.waitForTaskOutputData(uuid);
  const doneMs = performance.now() - start;
  const sampled = sampler.stop();
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const task = await tasker.getTask(uuid);
  const stored = lines - (task.logsDropped ?? 0);
  const retained = await afterGc();
  const storeBytesAtDone = persistDir === null ? null : dirBytes(persistDir);
  const closeStart = performance.now();
  await tasker.close();
  const closeMs = performance.now() - closeStart;
  const storeBytesAfterClose = persistDir === null ? null : dirBytes(persistDir);
  // The tasker is closed but still referenced (its tasks and their logs stay readable in memory).
  const { rssAfterGc: rssAfterClose, heapAfterGc: heapAfterClose } = await afterGc();
  if (persistDir !== null) rmSync(persistDir, { recursive: true, force: true });
  return { variant, lines, stored, logsDropped: task.logsDropped ?? 0, doneMs, loopMs, rssBefore, ...sampled, maxRss, ...retained, rssAfterClose, heapAfterClose, storeBytesAtDone, storeBytesAfterClose, closeMs };
}

async function childBareWorker(lines) {
  const worker = new Worker(runner('raw-log-flood'), { workerData: { lines } });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await afterGc();
  const rssBefore = process.memoryUsage().rss;
  const sampler = memorySampler();
  sampler.start();
  const start = performance.now();
  const { loopMs, counted } = await new Promise((resolve, reject) => {
    let counted = 0;
    worker.on('message', (message) => {
      if (message.done === true) resolve({ loopMs: message.loopMs, counted });
      else counted++;
    });
    worker.once('error', reject);
    worker.postMessage('go');
  });
  const doneMs = performance.now() - start;
  const sampled = sampler.stop();
  const maxRss = process.resourceUsage().maxRSS * 1024;
  if (counted !== lines) throw new Error(`counted ${counted} of ${lines} messages`);
  await worker.terminate();
  const retained = await afterGc();
  return { variant: 'bareWorker', lines, stored: counted, logsDropped: 0, doneMs, loopMs, rssBefore, ...sampled, maxRss, ...retained, rssAfterClose: null, heapAfterClose: null, storeBytesAtDone: null, storeBytesAfterClose: null, closeMs: null };
}

if (args[0] === '--child') {
  const variant = args[1];
  const lines = Number(args[2]);
  const result = variant === 'bareWorker' ? await childBareWorker(lines) : await childEngine(variant, lines);
  process.send(result);
  process.disconnect();
} else {
  // ---- parent: repetitions, medians, table ----------------------------------------
  const runChild = (variant) =>
    new Promise((resolve, reject) => {
      const child = fork(fileURLToPath(import.meta.url), ['--child', variant, String(LINES)], { execArgv: ['--expose-gc'] });
      let result;
      child.on('message', (message) => (result = message));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 && result !== undefined ? resolve(result) : reject(new Error(`${variant}: child exited with ${code}`))));
    });
  const load = [loadavg()[0]];
  const order = Object.keys(VARIANTS);
  const samples = Object.fromEntries(order.map((v) => [v, []]));
  for (let rep = 0; rep < REPS; rep++) {
    for (let k = 0; k < order.length; k++) {
      const variant = order[(rep + k) % order.length];
      samples[variant].push(await runChild(variant));
    }
  }
  load.push(loadavg()[0]);
  const fields = ['doneMs', 'loopMs', 'stored', 'rssBefore', 'peakRss', 'maxRss', 'peakHeap', 'rssAfterGc', 'heapAfterGc', 'eldMaxMs', 'eldP99Ms', 'maxSampleGapMs', 'stalledMs', 'rssAfterClose', 'heapAfterClose', 'closeMs', 'storeBytesAtDone', 'storeBytesAfterClose'];
  const results = Object.fromEntries(
    order.map((v) => {
      const s = samples[v];
      const stats = Object.fromEntries(fields.filter((f) => s[0][f] !== null).map((f) => [f, summary(s.map((x) => x[f]))]));
      stats.linesPerSec = summary(s.map((x) => x.lines / (x.doneMs / 1000)));
      stats.storedPerSec = summary(s.map((x) => x.stored / (x.doneMs / 1000)));
      return [v, { label: VARIANTS[v].label, ...stats, samples: s }];
    }),
  );
  const ratio = (v, f) => median(samples[v].map((x, i) => x[f] / samples.bareWorker[i][f]));
  const ratios = Object.fromEntries(
    order.filter((v) => v !== 'bareWorker').map((v) => [v, { doneMs: ratio(v, 'doneMs'), peakRss: ratio(v, 'peakRss'), maxRss: ratio(v, 'maxRss') }]),
  );
  if (json) {
    console.log(JSON.stringify({ config: { lines: LINES, reps: REPS, threads: 1 }, loadavg1m: load, results, ratiosVsBareWorker: ratios }, null, 2));
  } else {
    const mib = (b) => fmt(b / MiB, 0);
    console.log(`${fmt(LINES)} lines logged by one runner; median (min–max) of ${REPS} repetitions, each in a fresh process. 1-min load average (this benchmark's threads included): ${load.map((l) => fmt(l, 2)).join(' → ')}.\n`);
    console.log('| variant | until done, ms | runner loop, ms | lines/s handled | lines stored | stored lines/s | done vs baseline |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const v of order) {
      const r = results[v];
      const vs = v === 'bareWorker' ? '1.00×' : `${fmt(ratios[v].doneMs, 2)}×`;
      console.log(`| ${r.label} | ${fmt(r.doneMs.median)} (${fmt(r.doneMs.min)}–${fmt(r.doneMs.max)}) | ${fmt(r.loopMs.median)} | ${fmt(r.linesPerSec.median)} | ${fmt(r.stored.median)} | ${fmt(r.storedPerSec.median)} | ${vs} |`);
    }
    console.log('\n| variant | RSS before, MiB | peak RSS (10 ms samples), MiB | maxRSS, MiB | peak main heapUsed, MiB | RSS / heapUsed after done + GC, MiB | event-loop delay max, ms | main thread stalled (gaps > 50 ms between 10 ms samples), ms |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const v of order) {
      const r = results[v];
      console.log(`| ${r.label} | ${mib(r.rssBefore.median)} | ${mib(r.peakRss.median)} (${mib(r.peakRss.min)}–${mib(r.peakRss.max)}) | ${mib(r.maxRss.median)} | ${mib(r.peakHeap.median)} | ${mib(r.rssAfterGc.median)} / ${mib(r.heapAfterGc.median)} | ${fmt(r.eldMaxMs.median)} | ${fmt(r.stalledMs.median)} of ${fmt(r.doneMs.median)} |`);
    }
    const p = results.enginePersistFullCap;
    console.log(`\npersisted run: store ${mib(p.storeBytesAtDone.median)} MiB on disk when done (journals and any snapshot being written), ${mib(p.storeBytesAfterClose.median)} MiB after close(); close() (final compaction) ${fmt(p.closeMs.median)} ms; after close() + GC, RSS ${mib(p.rssAfterClose.median)} MiB, heapUsed ${mib(p.heapAfterClose.median)} MiB (the closed tasker still referenced).`);
  }
}
