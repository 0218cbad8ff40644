// `npm start`: CPU-heavy tasks in worker threads with live progress bars,
// their logs streaming, a priority and a concurrency condition at work, and a
// runaway runner hard-aborted by its runTimeout while the others keep going;
// then a summary read back from the store.
// Usage: node examples/demo.mjs [persistDir]. Plain lines when not on a terminal.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { Tasker } from 'tasker';

const persistDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'tasker-demo-'));
const runner = (name) => new URL(`./runners/${name}.mjs`, import.meta.url);
const started = Date.now();
const elapsed = () => `${String(Date.now() - started).padStart(5)} ms`;
const names = new Map();
const tty = process.stdout.isTTY === true;

const tasker = new Tasker({ persistDir, maxThreads: 2, abortGraceMs: 300 });
tasker.assignRunner('count-primes', runner('count-primes'));
// One hash chain at a time, whatever the free threads: a runner-level condition.
tasker.assignRunner('hash-chain', runner('hash-chain'), {
  concurrency: [{ scope: 'running', query: { operation: 'hash-chain' }, limit: 1 }],
});
tasker.assignRunner('runaway', runner('runaway'));

// Output: progress bars on a terminal, plain lines (every 25 %) elsewhere.
const bars = tty
  ? new cliProgress.MultiBar(
      { format: '{name} {bar} {percentage}% {state}', barsize: 30, hideCursor: true, clearOnComplete: false, autopadding: true },
      cliProgress.Presets.shades_classic,
    )
  : null;
const barOf = new Map();
const quarter = new Map();
const print = (line) => (bars === null ? console.log(line) : bars.log(`${line}\n`));
const state = (uuid, text) => barOf.get(uuid)?.update({ state: text });

tasker.on('task.run', (uuid) => {
  if (bars !== null) barOf.set(uuid, bars.create(100, 0, { name: names.get(uuid).padEnd(22), state: 'running' }));
  else print(`${elapsed()}  ▶ ${names.get(uuid)} started in a worker thread`);
});
tasker.on('task.progress', (uuid, progress) => {
  const percent = Math.floor(progress.ratio * 100);
  if (bars !== null) return barOf.get(uuid)?.update(percent, { state: progress.message ?? '' });
  const step = Math.floor(percent / 25) * 25;
  if (step > 0 && step > (quarter.get(uuid) ?? 0)) {
    quarter.set(uuid, step);
    print(`${elapsed()}    ${names.get(uuid)} ${step}% (${progress.message})`);
  }
});
tasker.on('task.ended', (uuid, status, outcome) => {
  const detail = status === 'done' ? `result ${JSON.stringify(outcome)}` : `${outcome.code}: ${outcome.message}`;
  if (status === 'done') barOf.get(uuid)?.update(100);
  state(uuid, `${status} (${detail})`);
  print(`${elapsed()}  ■ ${names.get(uuid)} ${status} (${detail})`);
});

print(`Tasker demo: 2 worker threads, store in ${persistDir}\n`);
const add = async (name, def) => {
  const uuid = await tasker.addTask(def);
  names.set(uuid, `${name} [${uuid.slice(-6)}]`);
  return uuid;
};
// The runaway has the highest priority, so it grabs a thread first: its
// runTimeout fires, its signal is ignored, and after abortGraceMs its thread is
// terminated. The host process never stops responding.
const runaway = await add('runaway', { operation: 'runaway', priority: 10, runTimeout: 700 });
const primes = await add('primes<3M', { operation: 'count-primes', data: { limit: 3_000_000 }, priority: 5 });
const hashA = await add('sha256×300k', { operation: 'hash-chain', data: { seed: 'tasker', rounds: 300_000 } });
const hashB = await add('sha256×200k', { operation: 'hash-chain', data: { seed: 'demo', rounds: 200_000 } });
await add('primes<1M', { operation: 'count-primes', data: { limit: 1_000_000 } });

// Stream one task's logs while it runs.
const streaming = (async () => {
  for await (const log of tasker.listenTaskLogs(primes, { fromBeginning: true })) {
    print(`${elapsed()}    ${names.get(primes)} log: ${log.message}`);
  }
})();

// The main thread stays responsive while both threads are busy.
let ticks = 0;
const heartbeat = setInterval(() => ticks++, 50);

await tasker.start();
await tasker.onIdle();
await streaming;
clearInterval(heartbeat);
bars?.stop();
const runawayTask = await tasker.getTask(runaway);
const stats = await tasker.getStats();
// close() stops, compacts the store and releases it, so that it can be reopened below.
await tasker.close();

console.log(`\nThe main thread ticked ${ticks} times (every 50 ms) while runners used both threads.`);
console.log(`runaway: ${runawayTask.status}, thread terminated: ${runawayTask.terminated === true}, ` +
  `ended ${runawayTask.endedAt - runawayTask.startedAt} ms after it started.`);
console.log(`run time p50 ${stats.runTime.p50.toFixed(0)} ms, max ${stats.runTime.max.toFixed(0)} ms over ${stats.runTime.count} runs; ` +
  `wait time p50 ${stats.waitTime.p50.toFixed(0)} ms.`);

// Everything is in the store: reopen it and summarise.
const reopened = new Tasker({ persistDir });
const hashes = [await reopened.getTask(hashA), await reopened.getTask(hashB)];
console.log(`one hash chain at a time: the second started ${hashes[1].startedAt - hashes[0].endedAt} ms after the first ended.`);
console.log('\nTasks read back from the store (start and end, from the first start):');
const tasks = await reopened.findTasks({}, { sort: { startedAt: 1 } });
const zero = tasks[0].startedAt.getTime();
for (const task of tasks) {
  const ms = task.endedAt - task.startedAt;
  const span = `${String(task.startedAt - zero).padStart(5)} → ${String(task.endedAt - zero).padStart(5)}`;
  console.log(`  ${names.get(task.uuid).padEnd(22)} ${task.status.padEnd(8)} ${span} ${String(ms).padStart(6)} ms`);
}
await reopened.close();
