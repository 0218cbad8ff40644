// Baseline: a bare worker that reports when it is up.
import { parentPort } from 'node:worker_threads';
parentPort.postMessage('up');
