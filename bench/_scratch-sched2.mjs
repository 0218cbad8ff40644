import { Scheduler } from '../dist/src/scheduler/scheduler.js';
const [groups, Q, scope] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4] ?? 'before-queued'];
const s = new Scheduler();
for (let i = 0; i < Q; i++) {
  const g = i % groups;
  const doc = { uuid: 'u' + i, operation: 'op', status: 'new', data: { g } };
  s.enqueue({ uuid: doc.uuid, doc, priority: 0, seq: i, conditions: scope === 'none' ? [] : [{ scope, query: { 'data.g': g }, limit: 1000000 }] });
}
const t0 = performance.now();
let n = 0;
for (let r = s.next(); r !== null; r = s.next()) n++;
console.log(`${scope} groups=${groups} Q=${Q} drained=${n} ${(performance.now() - t0).toFixed(0)} ms`);
