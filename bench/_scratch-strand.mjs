// 1. running-scope condition whose query names status: stranded after the blocker ends.
import { Tasker } from 'tasker';
const t = new Tasker({ maxThreads: 4 });
t.assignRunner('w', '/tmp/review/runners/quick.mjs');
await t.start();
const cond = [{ scope: 'running', query: { operation: 'w', status: 'running' }, limit: 1 }];
const a = await t.addTask({ operation: 'w', concurrency: cond });
const b = await t.addTask({ operation: 'w', concurrency: cond });
await t.waitForTaskOutputData(a);
await new Promise(r => setTimeout(r, 1000));
console.log('a', (await t.getTask(a)).status, 'b', (await t.getTask(b)).status);
let idle = false; t.onIdle().then(() => idle = true); await new Promise(r => setTimeout(r, 50));
console.log('onIdle resolved while b is new:', idle);
await t.stop();
