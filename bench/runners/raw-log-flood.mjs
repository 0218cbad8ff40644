// Baseline for bench/log-flood.mjs, a bare Worker with no Tasker: the same loop,
// each line posted to the main thread as its own message (an entry shaped like
// a log entry). Waits for 'go' so that thread start-up is not measured, and
// ends with a 'done' message carrying the loop time.
import { parentPort, workerData } from 'node:worker_threads';

parentPort.once('message', () => {
  const start = performance.now();
  for (let i = 0; i < workerData.lines; i++) parentPort.postMessage({ level: 'info', message: `line ${i}`, timestamp: new Date() });
  parentPort.postMessage({ done: true, loopMs: performance.now() - start });
});
parentPort.postMessage('ready');
