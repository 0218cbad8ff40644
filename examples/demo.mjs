// `npm start`: tasks running in worker threads, logs streaming, and a runaway
// runner hard-aborted by its runTimeout while the other tasks keep running.
// Usage: node examples/demo.mjs [persistDir]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tasker } from 'tasker';

const persistDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'tasker-demo-'));
const runner = (name) => new URL(`./runners/${name}.mjs`, import.meta.url);
const started = Date.now();
const elapsed = () => `${String(Date.now() - started).padStart(5)} ms`;
const short = (uuid) => uuid.slice(-6);
const names = new Map();

const tasker = new Tasker({ persistDir, maxThreads: 2, abortGraceMs: 300 });
tasker.assignRunner('count-primes', runner('count-primes'));
tasker.assignRunner('hash-chain', runner('hash-chain'));
tasker.assignRunner('runaway', runner('runaway'));

tasker.on('task.run', (uuid) => console.log(`${elapsed()}  ▶ ${names.get(uuid)} started in a worker thread`));
tasker.on('task.ended', (uuid, status, outcome) => {
  const detail = status === 'done' ? `result ${JSON.stringify(outcome)}` : `${outcome.code}: ${outcome.message}`;
  console.log(`${elapsed()}  ■ ${names.get(uuid)} ${status} (${detail})`);
});

console.log(`Tasker demo: 2 worker threads, store in ${persistDir}\n`);
const add = async (name, def) => {
  const uuid = await tasker.addTask(def);
  names.set(uuid, `${name} [${short(uuid)}]`);
  return uuid;
};
// The runaway has the highest priority, so it grabs a thread first: its
// runTimeout fires, its signal is ignored, and after abortGraceMs its thread is
// terminated. The host process never stops responding.
const runaway = await add('runaway', { operation: 'runaway', priority: 10, runTimeout: 700 });
const primes = await add('primes<3M', { operation: 'count-primes', data: { limit: 3_000_000 }, priority: 5 });
await add('sha256×300k', { operation: 'hash-chain', data: { seed: 'tasker', rounds: 300_000 } });
await add('primes<1M', { operation: 'count-primes', data: { limit: 1_000_000 } });

// Stream one task's logs while it runs.
const streaming = (async () => {
  for await (const log of tasker.listenTaskLogs(primes, { fromBeginning: true })) {
    console.log(`${elapsed()}    ${names.get(primes)} log: ${log.message}`);
  }
})();

// The main thread stays responsive while both threads are busy.
let ticks = 0;
const heartbeat = setInterval(() => ticks++, 50);

await tasker.start();
await tasker.onIdle();
await streaming;
clearInterval(heartbeat);
const runawayTask = await tasker.getTask(runaway);
// close() stops, compacts the store and releases it, so that it can be reopened below.
await tasker.close();

console.log(`\nThe main thread ticked ${ticks} times (every 50 ms) while runners used both threads.`);
console.log(`runaway: ${runawayTask.status}, thread terminated: ${runawayTask.terminated === true}, ` +
  `ended ${runawayTask.endedAt - runawayTask.startedAt} ms after it started.`);

// Everything is in the store: reopen it and summarise.
const reopened = new Tasker({ persistDir });
console.log('\nTasks read back from the store:');
for (const task of await reopened.findTasks({}, { sort: { createdAt: 1 } })) {
  const ms = task.endedAt - task.startedAt;
  console.log(`  ${names.get(task.uuid).padEnd(22)} ${task.status.padEnd(8)} ${String(ms).padStart(6)} ms`);
}
await reopened.close();
