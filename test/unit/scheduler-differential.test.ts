/**
 * The scheduler against a naive reference that re-evaluates the whole queue in
 * order after every event: random adds (random priorities, books given as a
 * string or an array, random 'running' / 'before-queued' conditions including
 * $in, $or, status and priority queries), reprioritizes, removals and ends.
 * After each event both must start exactly the same tasks. SCHED_SEEDS and
 * SCHED_STEPS widen the run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import siftModule from 'sift';
import { Scheduler } from '../../dist/src/scheduler/scheduler.js';
import type { ConcurrencyCondition } from 'tasker';

const sift = siftModule.default;
const SEEDS = Number(process.env['SCHED_SEEDS'] ?? 150);
const STEPS = Number(process.env['SCHED_STEPS'] ?? 300);
const BOOKS = ['b1', 'b2', 'b3'];

interface Doc {
  uuid: string;
  operation: string;
  data: { book: string | string[] };
  priority: number;
  status: string;
}
interface Queued {
  uuid: string;
  doc: Doc;
  priority: number;
  seq: number;
  conditions: ConcurrencyCondition[];
}

function run(seed: number, maxThreads: number): void {
  let state = seed >>> 0 || 1;
  const random = (): number => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const tests = new Map<string, (doc: unknown) => boolean>();
  const tester = (query: object): ((doc: unknown) => boolean) => {
    const key = JSON.stringify(query);
    let compiled = tests.get(key);
    if (compiled === undefined) tests.set(key, (compiled = sift(query) as (doc: unknown) => boolean));
    return compiled;
  };
  const before = (a: Queued, b: Queued): boolean => (a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq);

  const conditionsFor = (doc: Doc): ConcurrencyCondition[] => {
    const book = Array.isArray(doc.data.book) ? pick(doc.data.book) : doc.data.book;
    const templates: Array<() => ConcurrencyCondition> = [
      () => ({ scope: 'running', query: { 'data.book': book }, limit: 1 + Math.floor(random() * 2) }),
      () => ({ scope: 'running', query: { 'data.book': book, operation: 'write' }, limit: 1 }),
      () => ({ scope: 'running', query: { operation: 'read', 'data.book': book }, limit: 2 }),
      () => ({ scope: 'before-queued', query: { 'data.book': book, operation: 'write' }, limit: 1 + Math.floor(random() * 2) }),
      () => ({ scope: 'before-queued', query: { 'data.book': book }, limit: 1 + Math.floor(random() * 3) }),
      () => ({ scope: 'running', query: { operation: pick(['read', 'write']) }, limit: 1 + Math.floor(random() * 3) }),
      () => ({ scope: 'running', query: { 'data.book': { $in: [book, pick(BOOKS)] } }, limit: 1 + Math.floor(random() * 2) }),
      () => ({ scope: 'before-queued', query: { priority: { $gte: 3 } }, limit: 1 + Math.floor(random() * 2) }),
      () => ({ scope: 'before-queued', query: { priority: pick([1, 3, 5]) }, limit: 1 }),
      () => ({ scope: 'running', query: { status: 'running', 'data.book': book }, limit: 1 }),
      () => ({ scope: 'running', query: { $or: [{ 'data.book': book }, { operation: 'write' }] }, limit: 2 }),
      () => ({ scope: 'before-queued', query: { $or: [{ 'data.book': book }, { priority: 5 }] }, limit: 1 }),
    ];
    return Array.from({ length: Math.floor(random() * 4) }, () => pick(templates)());
  };

  const scheduler = new Scheduler();
  const queue = new Map<string, Queued>();
  const referenceRunning = new Map<string, Doc>();
  const schedulerRunning = new Set<string>();
  let seq = 0;

  const referencePump = (): string[] => {
    const started: string[] = [];
    while (referenceRunning.size < maxThreads) {
      const ordered = [...queue.values()].sort((a, b) => (before(a, b) ? -1 : 1));
      const waiting: Queued[] = [];
      let found: Queued | null = null;
      for (const task of ordered) {
        const blocked = task.conditions.some((condition) => {
          const match = tester(condition.query);
          const count = condition.scope === 'running'
            ? [...referenceRunning.values()].filter((doc) => match(doc)).length
            : waiting.filter((other) => match(other.doc)).length;
          return count >= condition.limit;
        });
        if (!blocked) {
          found = task;
          break;
        }
        waiting.push(task);
      }
      if (found === null) break;
      queue.delete(found.uuid);
      referenceRunning.set(found.uuid, { ...found.doc, status: 'running' });
      started.push(found.uuid);
    }
    return started;
  };

  const schedulerPump = (): string[] => {
    const started: string[] = [];
    while (schedulerRunning.size < maxThreads) {
      const next = scheduler.next();
      if (next === null) break;
      assert.equal(next.error, undefined);
      const doc = next.entry.doc as Doc;
      doc.status = 'running';
      scheduler.markRunning(next.entry.uuid, doc);
      schedulerRunning.add(next.entry.uuid);
      started.push(next.entry.uuid);
    }
    return started;
  };

  const history: string[] = [];
  for (let step = 0; step < STEPS; step++) {
    const roll = random();
    let event: string;
    if (roll < 0.4 || (queue.size === 0 && referenceRunning.size === 0)) {
      const uuid = `t${++seq}`;
      const book = random() < 0.2 ? [pick(BOOKS), pick(BOOKS)] : pick(BOOKS);
      const doc: Doc = { uuid, operation: pick(['read', 'write']), data: { book }, priority: pick([0, 1, 3, 5]), status: 'new' };
      const task: Queued = { uuid, doc, priority: doc.priority, seq, conditions: conditionsFor(doc) };
      queue.set(uuid, task);
      scheduler.enqueue({ uuid, doc, priority: doc.priority, seq, conditions: task.conditions });
      event = `add ${uuid} p${doc.priority} ${JSON.stringify(book)} ${JSON.stringify(task.conditions)}`;
    } else if (roll < 0.55 && queue.size > 0) {
      const task = pick([...queue.values()]);
      const priority = pick([0, 1, 3, 5, 7]);
      task.priority = priority;
      task.doc.priority = priority;
      scheduler.reprioritize(task.uuid, priority);
      event = `prioritize ${task.uuid} ${priority}`;
    } else if (roll < 0.65 && queue.size > 0) {
      const task = pick([...queue.values()]);
      queue.delete(task.uuid);
      scheduler.remove(task.uuid);
      task.doc.status = 'aborted';
      event = `remove ${task.uuid}`;
    } else if (referenceRunning.size > 0) {
      const uuid = pick([...referenceRunning.keys()]);
      referenceRunning.delete(uuid);
      schedulerRunning.delete(uuid);
      scheduler.markEnded(uuid);
      event = `end ${uuid}`;
    } else {
      step--;
      continue;
    }
    const got = schedulerPump();
    const expected = referencePump();
    history.push(`${step}: ${event} -> ${expected.join(',')}`);
    assert.deepEqual(got, expected, `seed ${seed}, step ${step}: ${event}\n${history.slice(-15).join('\n')}`);
  }
}

test(`the scheduler starts exactly what a full re-evaluation would, over ${SEEDS} random histories of ${STEPS} events`, () => {
  for (let seed = 1; seed <= SEEDS; seed++) run(seed, 1 + (seed % 4));
});
