// Writes a small store to look at with the `tasker` CLI (README, "CLI"):
// tasks done, failed, aborted and still queued, with logs.
// Usage: node examples/cli-store.mjs <persistDir>
import { Tasker } from 'tasker';

const persistDir = process.argv[2];
if (persistDir === undefined) throw new Error('usage: node examples/cli-store.mjs <persistDir>');
const runner = (name) => new URL(`./runners/${name}.mjs`, import.meta.url);

const tasker = new Tasker({ persistDir, maxThreads: 2, abortGraceMs: 100, onMissingRunner: 'queue' });
tasker.assignRunner('count-primes', runner('count-primes'));
tasker.assignRunner('hash-chain', runner('hash-chain'));
tasker.assignRunner('runaway', runner('runaway'));

await tasker.addTask({ operation: 'count-primes', id: 'primes-1m', data: { limit: 1_000_000 }, priority: 5 });
await tasker.addTask({ operation: 'count-primes', id: 'primes-200k', data: { limit: 200_000 } });
await tasker.addTask({ operation: 'hash-chain', data: { seed: 'tasker', rounds: 100_000 } });
await tasker.addTask({ operation: 'hash-chain', data: { seed: null, rounds: 10 } }); // fails: no seed
await tasker.addTask({ operation: 'runaway', runTimeout: 300 }); // aborted, its thread terminated
// No runner for 'report' in this process: it stays queued.
await tasker.addTask({ operation: 'report', data: { month: '2026-01' }, priority: 1 });
await tasker.start();
await tasker.onIdle();
await tasker.close();
console.log(persistDir);
