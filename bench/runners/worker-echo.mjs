// Baseline for bench/abort-reuse.mjs: a bare worker that reports when it is up,
// then answers every message n with n + 1 (the trivial task, without Tasker).
import { parentPort } from 'node:worker_threads';
parentPort.on('message', (n) => parentPort.postMessage(n + 1));
parentPort.postMessage('up');
