// Retention sweeps over a large store: N ended tasks (a custom in-memory store
// hands them to the load, endedAt 1 ms apart), retention { maxAge, interval }
// on a manual clock. Each step advances the clock one interval, which makes
// STEP more tasks due: the engine's sweep (indexed: pops the due ones) is
// timed from the clock's tick to the last task.removed of that step. The
// baseline removes the same STEP tasks on a twin tasker without retention with
// removeTasks({ endedAt: { $lt: cutoff } }), which scans every task (a full
// `filter` over the registry) — what an application would do by hand. Both
// include the removal itself (registry, no-op store commit, events). A second
// row compares a sweep with nothing due (RetentionIndex.takeDue) to a bare
// `filter(sift(query))` over the same documents. Ratios are computed pair by
// pair, the steps interleaved.
import siftModule from 'sift';
import { Tasker } from 'tasker';
import { RetentionIndex } from '../dist/src/retention.js';
import { validateRetentionOption } from '../dist/src/retention-options.js';
import { fmt, median, summary } from './lib.mjs';

const sift = siftModule.default;
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const N = quick ? 20_000 : 100_000;
const STEP = 100; // tasks made due per sweep (1 ms of endedAt each)
const STEPS = quick ? 20 : 50;
const IDLE_CALLS = quick ? 200 : 1000;
const BASE = Date.parse('2026-01-01T00:00:00.000Z');
const MAX_AGE = N + 1; // at BASE + N nothing is due yet

/** A manual clock: time moves only through advance(), which fires due timers. */
class ManualClock {
  #now;
  #timers = new Map();
  #id = 0;
  constructor(now) { this.#now = now; }
  now() { return this.#now; }
  setTimeout(callback, ms) { const id = ++this.#id; this.#timers.set(id, { at: this.#now + ms, callback }); return id; }
  clearTimeout(id) { this.#timers.delete(id); }
  advance(ms) {
    this.#now += ms;
    for (const [id, timer] of [...this.#timers].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at > this.#now) break;
      this.#timers.delete(id);
      timer.callback();
    }
  }
}

function docs() {
  const out = [];
  for (let i = 0; i < N; i++) {
    const at = new Date(BASE + i);
    out.push({
      task: { uuid: `01900000-0000-7000-8000-${String(i).padStart(12, '0')}`, operation: 'x', data: { n: i }, priority: 0, status: 'done',
        createdAt: at, startedAt: at, endedAt: at, result: { ok: true } },
      logs: [],
    });
  }
  return out;
}

/** A store that loads these tasks and writes nowhere: the removal's cost is the engine's, not a disk's. */
const memoryStore = (stored) => ({ load: async () => stored, commit: async () => {}, close: async () => {} });

function removals(tasker, count) {
  let seen = 0;
  return new Promise((resolve) => {
    const on = () => {
      if (++seen === count) {
        tasker.off('task.removed', on);
        resolve();
      }
    };
    tasker.on('task.removed', on);
  });
}

const clock = new ManualClock(BASE + N);
const engine = new Tasker({ maxThreads: 1, clock, store: memoryStore(docs()), retention: { maxAge: MAX_AGE, interval: 1 } });
const baseline = new Tasker({ maxThreads: 1, store: memoryStore(docs()) });
await engine.start();
if ((await engine.countTasks()) !== N || (await baseline.countTasks()) !== N) throw new Error('the stores did not load every task');

const ours = [], base = [], ratios = [];
for (let step = 1; step <= STEPS; step++) {
  const cutoff = new Date(BASE + step * STEP);
  const timeEngine = async () => {
    const removed = removals(engine, STEP);
    const t = performance.now();
    clock.advance(STEP);
    await removed;
    return performance.now() - t;
  };
  const timeBaseline = async () => {
    const t = performance.now();
    const count = await baseline.removeTasks({ endedAt: { $lt: cutoff } });
    const ms = performance.now() - t;
    if (count !== STEP) throw new Error(`the baseline removed ${count}, not ${STEP}`);
    return ms;
  };
  // Interleaved, alternating which goes first.
  let e, b;
  if (step % 2 === 0) { e = await timeEngine(); b = await timeBaseline(); } else { b = await timeBaseline(); e = await timeEngine(); }
  ours.push(e);
  base.push(b);
  ratios.push(e / b);
}
const left = await engine.countTasks();
if (left !== N - STEPS * STEP || (await baseline.countTasks()) !== left) throw new Error('the engine and the baseline disagree on what is left');
await engine.close();
await baseline.close();

// Nothing due: the index's check against a full scan that finds nothing.
const plain = docs().map((d) => d.task);
const index = new RetentionIndex(validateRetentionOption({ maxAge: MAX_AGE }));
for (const [seq, task] of plain.entries()) index.add({ doc: task, logs: [], seq });
const test = sift({ endedAt: { $lt: new Date(BASE) } });
const idleOurs = [], idleBase = [], idleRatios = [];
for (let rep = 0; rep < 7; rep++) {
  let t = performance.now();
  for (let i = 0; i < IDLE_CALLS; i++) if (index.takeDue(BASE + N, 4096).length !== 0) throw new Error('something was due');
  const e = (performance.now() - t) / IDLE_CALLS;
  t = performance.now();
  for (let i = 0; i < IDLE_CALLS / 100; i++) if (plain.filter(test).length !== 0) throw new Error('the scan found something');
  const b = (performance.now() - t) / (IDLE_CALLS / 100);
  idleOurs.push(e * 1000);
  idleBase.push(b * 1000);
  idleRatios.push(e / b);
}

const result = {
  config: { tasks: N, removedPerSweep: STEP, sweeps: STEPS },
  sweep: { engineMs: { ...summary(ours), samples: ours }, removeTasksScanMs: { ...summary(base), samples: base }, ratio: median(ratios), ratioSamples: ratios },
  idle: { engineUs: summary(idleOurs), bareFilterUs: summary(idleBase), ratio: median(idleRatios) },
};

if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const ratioText = (r) => `1/${fmt(1 / r)} (${r < 0.001 ? r.toExponential(1) : fmt(r, 3)}×)`;
  const range = (s, d) => `${fmt(s.median, d)} (${fmt(s.min, d)}–${fmt(s.max, d)})`;
  console.log(`Retention over ${fmt(N)} ended tasks (memory store); median (min–max) of ${STEPS} sweeps / 7 repetitions; ratio = engine / baseline, median of pairs.\n`);
  console.log('| scenario | engine | baseline | ratio |');
  console.log('|---|---:|---:|---:|');
  console.log(`| a sweep removing ${STEP} due tasks, ms (→ ${STEP} task.removed) | ${range(result.sweep.engineMs, 2)} | removeTasks({ endedAt: { $lt } }) ${range(result.sweep.removeTasksScanMs, 2)} | ${ratioText(result.sweep.ratio)} |`);
  console.log(`| a sweep with nothing due, µs | ${range(result.idle.engineUs, 3)} | bare filter(sift) ${range(result.idle.bareFilterUs, 0)} | ${ratioText(result.idle.ratio)} |`);
}
