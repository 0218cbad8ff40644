// Scheduler complexity: two before-queued queries; each detach indexOf-scans the other query's list.
import { Scheduler } from '../dist/src/scheduler/scheduler.js';
function run(Q, groups) {
  const s = new Scheduler();
  for (let i = 0; i < Q; i++) {
    const g = i % groups;
    const doc = { uuid: 'u' + i, operation: 'op', status: 'new', data: { g } };
    s.enqueue({ uuid: doc.uuid, doc, priority: 0, seq: i, conditions: [{ scope: 'before-queued', query: { 'data.g': g }, limit: 1000000 }] });
  }
  const t0 = performance.now();
  let n = 0;
  for (let r = s.next(); r !== null; r = s.next()) n++;
  return [n, performance.now() - t0];
}
for (const groups of [1, 2, 8]) for (const Q of [10000, 20000, 40000]) {
  const [n, ms] = run(Q, groups);
  console.log(`groups=${groups} Q=${Q} drained=${n} ${ms.toFixed(0)} ms`);
}
