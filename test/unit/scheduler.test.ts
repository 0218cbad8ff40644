import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConcurrencyCondition } from 'tasker';
import { Scheduler } from '../../dist/src/scheduler/scheduler.js';

interface Doc {
  uuid: string;
  operation: string;
  data: Record<string, unknown>;
  status: string;
  priority: number;
}

interface AddOptions {
  operation?: string;
  data?: Record<string, unknown>;
  priority?: number;
  seq?: number;
  conditions?: ConcurrencyCondition[];
}

/**
 * A tiny event loop around a Scheduler, as the engine drives it: `pump()`
 * calls next() while a thread is free and marks each started task running;
 * `end()` finishes a running task.
 */
class Sim {
  readonly scheduler = new Scheduler();
  readonly docs = new Map<string, Doc>();
  readonly running = new Map<string, Doc>();
  readonly started: string[] = [];
  readonly errors: Array<{ uuid: string; error: Error }> = [];
  readonly maxThreads: number;
  #seq = 0;

  constructor(maxThreads = Infinity) {
    this.maxThreads = maxThreads;
  }

  add(uuid: string, options: AddOptions = {}): Doc {
    const priority = options.priority ?? 0;
    const doc: Doc = { uuid, operation: options.operation ?? 'op', data: options.data ?? {}, status: 'new', priority };
    this.docs.set(uuid, doc);
    this.scheduler.enqueue({ uuid, doc, priority, seq: options.seq ?? ++this.#seq, conditions: options.conditions ?? [] });
    return doc;
  }

  /** Starts what can start; returns the uuids started, in order. */
  pump(): string[] {
    const out: string[] = [];
    while (this.running.size < this.maxThreads) {
      const next = this.scheduler.next();
      if (next === null) break;
      const doc = next.entry.doc as Doc;
      if (next.error !== undefined) {
        this.errors.push({ uuid: doc.uuid, error: next.error });
        continue;
      }
      assert.equal(doc.status, 'new', `${doc.uuid} started twice`);
      doc.status = 'running';
      this.scheduler.markRunning(doc.uuid, doc);
      this.running.set(doc.uuid, doc);
      this.started.push(doc.uuid);
      out.push(doc.uuid);
    }
    return out;
  }

  end(uuid: string): void {
    const doc = this.running.get(uuid);
    assert.ok(doc !== undefined, `${uuid} is not running`);
    doc.status = 'done';
    this.running.delete(uuid);
    this.scheduler.markEnded(uuid);
  }

  endAndPump(uuid: string): string[] {
    this.end(uuid);
    return this.pump();
  }

  runningWhere(predicate: (doc: Doc) => boolean): string[] {
    return [...this.running.values()].filter(predicate).map((doc) => doc.uuid);
  }
}

/** Pops everything that can start, without marking anything running. */
function drainOrder(scheduler: Scheduler): string[] {
  const order: string[] = [];
  for (let next = scheduler.next(); next !== null; next = scheduler.next()) {
    assert.equal(next.error, undefined);
    order.push(next.entry.uuid);
  }
  return order;
}

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const running = (query: Record<string, unknown>, limit: number): ConcurrencyCondition => ({ scope: 'running', query, limit });
const beforeQueued = (query: Record<string, unknown>, limit: number): ConcurrencyCondition => ({ scope: 'before-queued', query, limit });
const group = (g: string, limit: number): ConcurrencyCondition => running({ 'data.group': g }, limit);

// ---- order ---------------------------------------------------------------------

describe('Scheduler order', () => {
  test('highest priority first, FIFO among equal priorities', () => {
    const sim = new Sim();
    sim.add('a', { priority: 0 });
    sim.add('b', { priority: 5 });
    sim.add('c', { priority: 0 });
    sim.add('d', { priority: 5 });
    sim.add('e', { priority: -1 });
    sim.add('f', { priority: 10 });
    sim.add('g', { priority: 0 });
    assert.equal(sim.scheduler.size, 7);
    assert.equal(sim.scheduler.readyCount, 7);
    assert.deepEqual(drainOrder(sim.scheduler), ['f', 'b', 'd', 'a', 'c', 'g', 'e']);
    assert.equal(sim.scheduler.size, 0);
    assert.equal(sim.scheduler.readyCount, 0);
    assert.equal(sim.scheduler.next(), null);
  });

  test('FIFO among equals follows seq, not the order of enqueue()', () => {
    const sim = new Sim();
    sim.add('third', { seq: 30 });
    sim.add('first', { seq: 10 });
    sim.add('second', { seq: 20 });
    sim.add('top', { seq: 40, priority: 1 });
    assert.deepEqual(drainOrder(sim.scheduler), ['top', 'first', 'second', 'third']);
  });

  test('Infinity and -Infinity priorities sort at the ends, FIFO among themselves', () => {
    const sim = new Sim();
    sim.add('minusInf1', { priority: -Infinity });
    sim.add('zero', { priority: 0 });
    sim.add('inf1', { priority: Infinity });
    sim.add('huge', { priority: Number.MAX_VALUE });
    sim.add('tiny', { priority: -Number.MAX_VALUE });
    sim.add('inf2', { priority: Infinity });
    sim.add('minusInf2', { priority: -Infinity });
    assert.deepEqual(drainOrder(sim.scheduler), ['inf1', 'inf2', 'huge', 'zero', 'tiny', 'minusInf1', 'minusInf2']);
  });

  test('1000 tasks over a few priorities come out in (priority desc, seq asc) order', () => {
    const random = prng(7);
    const sim = new Sim();
    const expected: Array<{ uuid: string; priority: number; seq: number }> = [];
    const priorities = [-Infinity, -1, 0, 0, 0, 3, Infinity];
    for (let i = 0; i < 1000; i++) {
      const priority = priorities[Math.floor(random() * priorities.length)]!;
      sim.add(`t${i}`, { priority, seq: i });
      expected.push({ uuid: `t${i}`, priority, seq: i });
    }
    expected.sort((a, b) => (a.priority !== b.priority ? (a.priority > b.priority ? -1 : 1) : a.seq - b.seq));
    assert.deepEqual(drainOrder(sim.scheduler), expected.map((e) => e.uuid));
  });

  test('has/size track the queue; enqueueing a queued uuid throws', () => {
    const sim = new Sim();
    sim.add('a');
    assert.equal(sim.scheduler.has('a'), true);
    assert.equal(sim.scheduler.has('b'), false);
    assert.throws(() => sim.add('a'), /already queued/);
    assert.equal(sim.scheduler.size, 1);
    assert.deepEqual(sim.pump(), ['a']);
    assert.equal(sim.scheduler.has('a'), false);
    // Once it left the queue the uuid may be queued again.
    sim.add('a');
    assert.equal(sim.scheduler.has('a'), true);
  });
});

// ---- reprioritize --------------------------------------------------------------

describe('Scheduler.reprioritize', () => {
  test('re-sorts the queue at once', () => {
    const sim = new Sim();
    sim.add('a');
    sim.add('b');
    sim.add('c');
    assert.equal(sim.scheduler.reprioritize('c', 10), true);
    assert.equal(sim.scheduler.reprioritize('a', -5), true);
    assert.equal(sim.scheduler.size, 3);
    assert.equal(sim.scheduler.readyCount, 3);
    assert.deepEqual(drainOrder(sim.scheduler), ['c', 'b', 'a']);
  });

  test('keeps FIFO position (seq) when the priority ties', () => {
    const sim = new Sim();
    sim.add('a');
    sim.add('b', { priority: 1 });
    sim.add('c');
    sim.scheduler.reprioritize('c', 1);
    sim.scheduler.reprioritize('a', 1);
    assert.deepEqual(drainOrder(sim.scheduler), ['a', 'b', 'c']);
  });

  test('returns false for a uuid that is not queued', () => {
    const sim = new Sim();
    assert.equal(sim.scheduler.reprioritize('nope', 3), false);
    sim.add('a');
    sim.pump();
    assert.equal(sim.scheduler.reprioritize('a', 3), false);
  });

  test('raising a task whose old heap node sits above the new one still puts it first', () => {
    const sim = new Sim();
    sim.add('T', { priority: 20 });
    sim.add('X', { priority: 10 });
    sim.add('R', { priority: 9 });
    sim.scheduler.reprioritize('X', 100);
    assert.deepEqual(drainOrder(sim.scheduler), ['X', 'T', 'R']);
  });

  test('lowering a task keeps the order of the others', () => {
    const sim = new Sim();
    sim.add('T', { priority: 20 });
    sim.add('X', { priority: 10 });
    sim.add('R', { priority: 9 });
    sim.add('C', { priority: 9.5 });
    sim.scheduler.reprioritize('X', 1);
    assert.deepEqual(drainOrder(sim.scheduler), ['T', 'C', 'R', 'X']);
  });

  test('any single reprioritize of any task in a queue of 8 gives the sorted order', () => {
    const failures: string[] = [];
    for (let index = 0; index < 8; index++) {
      for (const newPriority of [-Infinity, -1, 3.5, 6, 100, Infinity]) {
        const sim = new Sim();
        const priorities = new Map<string, number>();
        for (let i = 0; i < 8; i++) {
          sim.add(`t${i}`, { priority: 10 - i, seq: i });
          priorities.set(`t${i}`, 10 - i);
        }
        sim.scheduler.reprioritize(`t${index}`, newPriority);
        priorities.set(`t${index}`, newPriority);
        const expected = [...priorities.keys()].sort((a, b) => priorities.get(b)! - priorities.get(a)! || Number(a.slice(1)) - Number(b.slice(1)));
        const actual = drainOrder(sim.scheduler);
        if (actual.join() !== expected.join()) failures.push(`t${index}→${newPriority}: got ${actual.join()} want ${expected.join()}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  test('a parked task that is reprioritized stays blocked until its condition frees, then starts', () => {
    const sim = new Sim();
    sim.add('g1', { data: { group: 'g' } });
    assert.deepEqual(sim.pump(), ['g1']);
    sim.add('g2', { data: { group: 'g' }, conditions: [group('g', 1)] });
    sim.add('other');
    assert.deepEqual(sim.pump(), ['other']);
    assert.equal(sim.scheduler.reprioritize('g2', 50), true);
    assert.equal(sim.scheduler.readyCount, 1);
    assert.deepEqual(sim.pump(), [], 'still blocked by g1');
    assert.deepEqual(sim.endAndPump('g1'), ['g2']);
  });

  test('lowering a matching task behind a before-queued waiter wakes the waiter', () => {
    const sim = new Sim();
    sim.add('blocker', { data: { group: 'g' } });
    sim.pump();
    sim.add('w', { data: { kind: 'w', group: 'g' }, priority: 1, conditions: [group('g', 1)] });
    sim.add('x', { priority: 1, conditions: [beforeQueued({ 'data.kind': 'w' }, 1)] });
    assert.deepEqual(sim.pump(), []);
    assert.equal(sim.scheduler.readyCount, 0);
    sim.scheduler.reprioritize('w', 0);
    assert.deepEqual(sim.pump(), ['x']);
  });
});

// ---- remove ----------------------------------------------------------------------

describe('Scheduler.remove', () => {
  test('takes a ready task out of the queue', () => {
    const sim = new Sim();
    sim.add('a');
    sim.add('b');
    sim.add('c');
    assert.equal(sim.scheduler.remove('b'), true);
    assert.equal(sim.scheduler.has('b'), false);
    assert.equal(sim.scheduler.size, 2);
    assert.equal(sim.scheduler.readyCount, 2);
    assert.equal(sim.scheduler.remove('b'), false);
    assert.equal(sim.scheduler.remove('never'), false);
    assert.deepEqual(drainOrder(sim.scheduler), ['a', 'c']);
  });

  test('takes a parked task out: it is never returned, even after its condition frees', () => {
    const sim = new Sim();
    sim.add('g1', { data: { group: 'g' } });
    sim.pump();
    sim.add('g2', { data: { group: 'g' }, conditions: [group('g', 1)] });
    sim.add('g3', { data: { group: 'g' }, conditions: [group('g', 1)] });
    assert.deepEqual(sim.pump(), []);
    assert.equal(sim.scheduler.size, 2);
    assert.equal(sim.scheduler.remove('g2'), true);
    assert.equal(sim.scheduler.size, 1);
    assert.deepEqual(sim.endAndPump('g1'), ['g3']);
    assert.equal(sim.scheduler.size, 0);
  });

  test('removing a matching queued task wakes the before-queued waiters behind it', () => {
    const sim = new Sim();
    sim.add('blocker', { data: { group: 'g' } });
    sim.pump();
    sim.add('w', { data: { kind: 'w', group: 'g' }, conditions: [group('g', 1)] });
    sim.add('x', { conditions: [beforeQueued({ 'data.kind': 'w' }, 1)] });
    assert.deepEqual(sim.pump(), []);
    sim.scheduler.remove('w');
    assert.equal(sim.scheduler.readyCount, 1);
    assert.deepEqual(sim.pump(), ['x']);
  });

  test('removing many tasks (stale heap nodes) keeps the rest in order', () => {
    const sim = new Sim();
    for (let i = 0; i < 500; i++) sim.add(`t${i}`, { priority: i % 5 });
    for (let i = 0; i < 500; i++) if (i % 3 !== 0) sim.scheduler.remove(`t${i}`);
    const expected: string[] = [];
    for (let p = 4; p >= 0; p--) for (let i = 0; i < 500; i++) if (i % 3 === 0 && i % 5 === p) expected.push(`t${i}`);
    assert.equal(sim.scheduler.readyCount, expected.length);
    assert.deepEqual(drainOrder(sim.scheduler), expected);
  });
});

// ---- running scope ----------------------------------------------------------------

describe("Scheduler 'running' scope", () => {
  test('limit is the most running tasks matching the query', () => {
    const sim = new Sim();
    for (const name of ['g1', 'h1', 'g2', 'g3', 'h2', 'g4', 'h3']) {
      const g = name[0]!;
      sim.add(name, { data: { group: g }, conditions: [group(g, 2)] });
    }
    assert.deepEqual(sim.pump(), ['g1', 'h1', 'g2', 'h2']);
    assert.equal(sim.scheduler.size, 3);
    assert.equal(sim.scheduler.readyCount, 0);
    assert.deepEqual(sim.endAndPump('g1'), ['g3']);
    assert.deepEqual(sim.endAndPump('h2'), ['h3']);
    assert.deepEqual(sim.endAndPump('g2'), ['g4']);
    assert.equal(sim.scheduler.size, 0);
  });

  test('running tasks that match the query count even without conditions; others do not', () => {
    const sim = new Sim();
    sim.add('plain-g', { data: { group: 'g' } });
    sim.add('plain-x', { data: { group: 'x' } });
    assert.deepEqual(sim.pump(), ['plain-g', 'plain-x']);
    sim.add('cond', { conditions: [group('g', 1)] });
    sim.add('cond2', { conditions: [group('x', 2)] });
    assert.deepEqual(sim.pump(), ['cond2']);
    assert.deepEqual(sim.endAndPump('plain-g'), ['cond']);
  });

  test('only tasks marked running count against a running-scope limit', () => {
    // Documents the contract: the scheduler only counts what was marked running.
    const sim = new Sim();
    sim.add('a', { data: { group: 'g' }, conditions: [group('g', 1)] });
    sim.add('b', { data: { group: 'g' }, conditions: [group('g', 1)] });
    const first = sim.scheduler.next();
    assert.equal(first?.entry.uuid, 'a');
    sim.scheduler.markRunning('a', { ...first!.entry.doc, status: 'running' });
    assert.equal(sim.scheduler.next(), null);

    // Without markRunning, a popped task does not hold its slot.
    const loose = new Sim();
    loose.add('a', { data: { group: 'g' }, conditions: [group('g', 1)] });
    loose.add('b', { data: { group: 'g' }, conditions: [group('g', 1)] });
    assert.deepEqual(drainOrder(loose.scheduler), ['a', 'b']);
  });

  test('parked tasks are woken only when a matching running task ends', () => {
    const sim = new Sim();
    sim.add('u', { data: { group: 'other' } });
    for (let i = 1; i <= 5; i++) sim.add(`g${i}`, { data: { group: 'g' }, conditions: [group('g', 2)] });
    assert.deepEqual(sim.pump(), ['u', 'g1', 'g2']);
    assert.equal(sim.scheduler.size, 3);
    assert.equal(sim.scheduler.readyCount, 0);

    sim.end('u');
    assert.equal(sim.scheduler.readyCount, 0, 'a non-matching end wakes nothing');
    assert.deepEqual(sim.pump(), []);

    sim.scheduler.markEnded('not-running');
    assert.equal(sim.scheduler.readyCount, 0);

    sim.end('g1');
    assert.equal(sim.scheduler.readyCount, 1, 'limit 2 - 1 running = 1 woken');
    assert.deepEqual(sim.pump(), ['g3']);
    assert.equal(sim.scheduler.readyCount, 0);
  });

  test('a matching end wakes limit minus running of the parked tasks', () => {
    const sim = new Sim();
    // Three matching tasks run without conditions; five wait under limit 3.
    for (const name of ['r1', 'r2', 'r3']) sim.add(name, { data: { group: 'g' } });
    sim.pump();
    for (let i = 1; i <= 5; i++) sim.add(`p${i}`, { data: { group: 'g' }, conditions: [group('g', 3)] });
    assert.deepEqual(sim.pump(), []);
    // Conditions count running tasks as they were when they started: a change
    // to r2's live document does not make it stop matching. The end of r1
    // leaves two matching running tasks: 3 - 2 = 1 parked task is woken.
    sim.docs.get('r2')!.data = { group: 'moved' };
    sim.end('r1');
    assert.equal(sim.scheduler.readyCount, 1);
    assert.deepEqual(sim.pump(), ['p1']);
    assert.equal(sim.scheduler.readyCount, 0);
    sim.end('r2');
    sim.end('r3');
    // Two rooms (p1 runs, limit 3): p2 and p3 start; any extra task woken re-parks.
    assert.deepEqual(sim.pump(), ['p2', 'p3']);
    assert.equal(sim.scheduler.readyCount, 0);
  });

  test('an ended task is matched as it was while running, even if its live document changed at the end', () => {
    const sim = new Sim();
    const lockQuery = { operation: 'w', status: 'running' };
    const lock = { scope: 'running' as const, query: lockQuery, limit: 1 };
    sim.add('a', { operation: 'w', conditions: [lock] });
    sim.add('b', { operation: 'w', conditions: [lock] });
    assert.deepEqual(sim.pump(), ['a']);
    // The engine marks the document ended before telling the scheduler.
    sim.docs.get('a')!.status = 'done';
    sim.running.delete('a');
    sim.scheduler.markEnded('a');
    assert.deepEqual(sim.pump(), ['b']);
  });

  test('markEnded of a task never marked running is a no-op', () => {
    const sim = new Sim();
    sim.add('g1', { data: { group: 'g' } });
    sim.pump();
    sim.add('g2', { data: { group: 'g' }, conditions: [group('g', 1)] });
    sim.pump();
    sim.scheduler.markEnded('g2');
    sim.scheduler.markEnded('zzz');
    assert.equal(sim.scheduler.readyCount, 0);
    assert.deepEqual(sim.pump(), []);
  });

  test('a blocked task does not block the tasks behind it', () => {
    const sim = new Sim();
    sim.add('g0', { data: { group: 'g' } });
    sim.pump();
    for (let i = 0; i < 50; i++) sim.add(`blocked${i}`, { priority: 10, data: { group: 'g' }, conditions: [group('g', 1)] });
    sim.add('free-low', { priority: -10 });
    sim.add('h', { priority: 5, data: { group: 'h' }, conditions: [group('h', 1)] });
    assert.deepEqual(sim.pump(), ['h', 'free-low']);
    assert.equal(sim.scheduler.size, 50);
    assert.deepEqual(sim.endAndPump('g0'), ['blocked0']);
  });

  test('with a thread limit, next() is not called and nothing is lost', () => {
    const sim = new Sim(2);
    for (let i = 0; i < 6; i++) sim.add(`t${i}`);
    assert.deepEqual(sim.pump(), ['t0', 't1']);
    assert.deepEqual(sim.endAndPump('t0'), ['t2']);
    assert.equal(sim.scheduler.size, 3);
  });

  test('when the last matching running task ends, every waiting task whose condition now holds starts', () => {
    const sim = new Sim();
    sim.add('lock', { data: { lock: true } });
    sim.pump();
    for (const name of ['a', 'b', 'c']) sim.add(name, { conditions: [running({ 'data.lock': true }, 1)] });
    assert.deepEqual(sim.pump(), []);
    assert.deepEqual(sim.endAndPump('lock'), ['a', 'b', 'c']);
  });

  test('a woken task that parks under another condition does not strand the next parked task', () => {
    const sim = new Sim();
    sim.add('A', { data: { g: 'g' } });
    sim.add('B', { data: { k: 'other' } });
    sim.pump();
    const K = running({ 'data.g': 'g' }, 1);
    const K2 = running({ 'data.k': 'other' }, 1);
    sim.add('X', { priority: 5, conditions: [K, K2] });
    sim.add('Y', { conditions: [K] });
    assert.deepEqual(sim.pump(), []);
    // Nothing matching data.g runs any more: Y may start (X is still held by B).
    assert.deepEqual(sim.endAndPump('A'), ['Y']);
  });

  test('a woken task removed before it is evaluated does not strand the next parked task', () => {
    const sim = new Sim();
    sim.add('A', { data: { g: 'g' } });
    sim.pump();
    const K = running({ 'data.g': 'g' }, 1);
    sim.add('X', { conditions: [K] });
    sim.add('Y', { conditions: [K] });
    assert.deepEqual(sim.pump(), []);
    sim.end('A');
    sim.scheduler.remove('X'); // e.g. aborted before the engine pumped
    assert.deepEqual(sim.pump(), ['Y']);
  });
});

// ---- before-queued scope ----------------------------------------------------------

describe("Scheduler 'before-queued' scope", () => {
  test('a task starts only while fewer than limit matching tasks ahead of it are waiting', () => {
    const sim = new Sim();
    sim.add('blocker', { data: { group: 'g' } });
    sim.pump();
    const w = (name: string): void => void sim.add(name, { data: { kind: 'w', group: 'g' }, conditions: [group('g', 1)] });
    w('w1');
    sim.add('x1', { conditions: [beforeQueued({ 'data.kind': 'w' }, 1)] });
    sim.add('y2', { conditions: [beforeQueued({ 'data.kind': 'w' }, 2)] });
    sim.add('nonmatching', { data: { kind: 'r', group: 'g' }, conditions: [group('g', 1)] });
    w('w2');
    sim.add('z2', { conditions: [beforeQueued({ 'data.kind': 'w' }, 2)] });
    // x1: 1 ahead (w1) → waits; y2: 1 ahead < 2 → starts; z2: 2 ahead (w1, w2) → waits.
    assert.deepEqual(sim.pump(), ['y2']);
    assert.equal(sim.scheduler.size, 5);
    assert.equal(sim.scheduler.readyCount, 0);

    // blocker ends: w1 starts and leaves the queue; x1 (0 ahead) and z2 (1 ahead) wake.
    assert.deepEqual(sim.endAndPump('blocker'), ['w1', 'x1', 'z2']);
    assert.equal(sim.scheduler.size, 2);
    assert.deepEqual(sim.endAndPump('w1'), ['nonmatching']);
    assert.deepEqual(sim.endAndPump('nonmatching'), ['w2']);
  });

  test('matching tasks behind it, or already running, do not count', () => {
    const sim = new Sim();
    sim.add('w-running', { data: { kind: 'w' } });
    sim.pump();
    sim.add('x', { conditions: [beforeQueued({ 'data.kind': 'w' }, 1)] });
    sim.add('w-behind', { data: { kind: 'w' }, conditions: [running({ never: true }, 1)] });
    sim.add('w-behind2', { priority: -1, data: { kind: 'w' } });
    assert.deepEqual(sim.pump(), ['x', 'w-behind', 'w-behind2']);
  });

  test('"ahead" is queue order: a later matching task with a higher priority is ahead', () => {
    const sim = new Sim();
    sim.add('blocker', { data: { group: 'g' } });
    sim.pump();
    sim.add('x', { conditions: [beforeQueued({ 'data.kind': 'w' }, 1)] });
    sim.add('w', { priority: 5, data: { kind: 'w', group: 'g' }, conditions: [group('g', 1)] });
    assert.deepEqual(sim.pump(), []);
    assert.deepEqual(sim.endAndPump('blocker'), ['w', 'x']);
  });

  test('a before-queued condition added after matching tasks were queued counts them', () => {
    const sim = new Sim();
    sim.add('blocker', { data: { group: 'g' } });
    sim.pump();
    // The first before-queued condition on this query arrives after w was queued.
    sim.add('w', { data: { kind: 'w', group: 'g' }, conditions: [group('g', 1)] });
    assert.deepEqual(sim.pump(), []);
    sim.add('x', { conditions: [beforeQueued({ 'data.kind': 'w' }, 1)] });
    assert.deepEqual(sim.pump(), []);
    assert.deepEqual(sim.endAndPump('blocker'), ['w', 'x']);
    // The condition's bookkeeping was released; a new one starts fresh and still counts.
    sim.add('w2', { data: { kind: 'w', group: 'g' }, conditions: [group('g', 1)] });
    sim.add('x2', { conditions: [beforeQueued({ 'data.kind': 'w' }, 1)] });
    sim.add('x3', { conditions: [beforeQueued({ 'data.kind': 'w' }, 2)] });
    assert.deepEqual(sim.pump(), ['x3']);
    assert.deepEqual(sim.endAndPump('w'), ['w2', 'x2']);
  });
});

// ---- readers / writers -------------------------------------------------------------

const writerConditions = (book: string): ConcurrencyCondition[] => [running({ 'data.book': book }, 1)];
const readerConditions = (book: string): ConcurrencyCondition[] => [
  running({ 'data.book': book, operation: 'write' }, 1),
  running({ 'data.book': book, operation: 'read' }, 2),
  beforeQueued({ 'data.book': book, operation: 'write' }, 1),
];

class Library extends Sim {
  /** Everything ever enqueued, in enqueue order, with its kind. */
  readonly log: Array<{ uuid: string; operation: 'read' | 'write'; book: string }> = [];

  reader(uuid: string, book = 'b'): void {
    this.add(uuid, { operation: 'read', data: { book }, conditions: readerConditions(book) });
    this.log.push({ uuid, operation: 'read', book });
  }

  writer(uuid: string, book = 'b'): void {
    this.add(uuid, { operation: 'write', data: { book }, conditions: writerConditions(book) });
    this.log.push({ uuid, operation: 'write', book });
  }

  override pump(): string[] {
    const startedBefore = new Set(this.started);
    const out = super.pump();
    this.checkInvariants(startedBefore, out);
    return out;
  }

  checkInvariants(startedBefore: Set<string>, justStarted: string[]): void {
    const books = new Set([...this.running.values()].map((d) => d.data['book'] as string));
    for (const book of books) {
      const readers = this.runningWhere((d) => d.data['book'] === book && d.operation === 'read');
      const writers = this.runningWhere((d) => d.data['book'] === book && d.operation === 'write');
      assert.ok(readers.length <= 2, `at most 2 readers of ${book}, got ${readers.join()}`);
      assert.ok(writers.length <= 1, `at most 1 writer of ${book}, got ${writers.join()}`);
      if (writers.length === 1) assert.deepEqual(readers, [], `writer ${writers[0]} of ${book} runs alone`);
    }
    // No reader overtakes a writer of the same book enqueued before it.
    for (const uuid of justStarted) {
      const index = this.log.findIndex((e) => e.uuid === uuid);
      const me = this.log[index]!;
      if (me.operation !== 'read') continue;
      for (const earlier of this.log.slice(0, index)) {
        if (earlier.operation === 'write' && earlier.book === me.book) {
          const hadStarted = startedBefore.has(earlier.uuid) || justStarted.indexOf(earlier.uuid) < justStarted.indexOf(uuid) && justStarted.includes(earlier.uuid);
          assert.ok(hadStarted, `reader ${uuid} overtook writer ${earlier.uuid}`);
        }
      }
    }
  }
}

const randomRuns = new Map<number, { lib: Library; n: number }>();

/** A random mix of enqueues and ends on two books, then every running task ends (computed once per seed). */
function randomLibrary(seed: number): { lib: Library; n: number } {
  let run = randomRuns.get(seed);
  if (run === undefined) randomRuns.set(seed, (run = simulateLibrary(seed)));
  return run;
}

function simulateLibrary(seed: number): { lib: Library; n: number } {
  const random = prng(seed);
  const lib = new Library();
  let n = 0;
  for (let step = 0; step < 3000; step++) {
    const roll = random();
    if (roll < 0.45) {
      const book = random() < 0.7 ? 'b' : 'c';
      if (random() < 0.25) lib.writer(`w${n++}`, book);
      else lib.reader(`r${n++}`, book);
    } else if (lib.running.size > 0) {
      const uuids = [...lib.running.keys()];
      lib.end(uuids[Math.floor(random() * uuids.length)]!);
    }
    lib.pump();
  }
  while (lib.running.size > 0) lib.endAndPump([...lib.running.keys()][0]!);
  return { lib, n };
}

describe('Scheduler readers/writers', () => {
  test('a writer is not overtaken by later readers of the same book', () => {
    const lib = new Library();
    lib.reader('r1');
    assert.deepEqual(lib.pump(), ['r1']);
    lib.writer('w');
    lib.reader('r2');
    lib.reader('r3');
    // r2/r3 would fit next to r1 (limit 2) but w is waiting ahead of them.
    assert.deepEqual(lib.pump(), []);
    assert.equal(lib.scheduler.size, 3);
    assert.deepEqual(lib.endAndPump('r1'), ['w']);
    assert.deepEqual(lib.pump(), [], 'readers wait while the writer runs');
    const afterWriter = lib.endAndPump('w');
    assert.ok(afterWriter.length >= 1 && afterWriter[0] === 'r2', `r2 starts after the writer, got ${afterWriter.join()}`);
  });

  test('both readers waiting for a writer start when it ends', () => {
    const lib = new Library();
    lib.writer('w');
    assert.deepEqual(lib.pump(), ['w']);
    lib.reader('r1');
    lib.reader('r2');
    assert.deepEqual(lib.pump(), []);
    assert.deepEqual(lib.endAndPump('w'), ['r1', 'r2']);
  });

  test('at most 2 readers of a book run at once; other books are independent', () => {
    const lib = new Library();
    for (let i = 1; i <= 5; i++) lib.reader(`r${i}`);
    lib.reader('c1', 'c');
    lib.reader('c2', 'c');
    lib.reader('c3', 'c');
    assert.deepEqual(lib.pump(), ['r1', 'r2', 'c1', 'c2']);
    assert.deepEqual(lib.endAndPump('r1'), ['r3']);
    assert.deepEqual(lib.endAndPump('c2'), ['c3']);
    assert.deepEqual(lib.endAndPump('r2'), ['r4']);
    assert.deepEqual(lib.endAndPump('r4'), ['r5']);
    assert.equal(lib.scheduler.size, 0);
  });

  test('a writer runs alone: readers and writers of the same book wait, other books do not', () => {
    const lib = new Library();
    lib.writer('w1');
    assert.deepEqual(lib.pump(), ['w1']);
    lib.reader('r1');
    lib.writer('w2');
    lib.reader('r2');
    lib.reader('rc', 'c');
    lib.writer('wc', 'c');
    assert.deepEqual(lib.pump(), ['rc']);
    assert.deepEqual(lib.endAndPump('w1'), ['r1']);
    assert.deepEqual(lib.endAndPump('r1'), ['w2']);
    assert.deepEqual(lib.endAndPump('rc'), ['wc']);
    assert.deepEqual(lib.endAndPump('w2'), ['r2']);
    assert.deepEqual(lib.endAndPump('r2'), []);
    assert.deepEqual(lib.endAndPump('wc'), []);
    assert.equal(lib.scheduler.size, 0);
    assert.equal(lib.running.size, 0);
  });

  test('random readers/writers: invariants hold at every step', () => {
    const { lib, n } = randomLibrary(12345);
    // Every task either started or is still queued; none started twice (Sim.pump checks).
    assert.equal(lib.started.length + lib.scheduler.size, n);
    assert.ok(lib.started.length > n / 2, `${lib.started.length} of ${n} started`);
  });

  test('random readers/writers: everything drains', () => {
    const { lib, n } = randomLibrary(12345);
    assert.equal(lib.scheduler.size, 0, 'every task started');
    assert.equal(lib.started.length, n);
  });
});

// ---- errors ----------------------------------------------------------------------

describe('Scheduler condition errors', () => {
  test('a task whose condition throws at evaluation is returned with the error and leaves the queue', () => {
    const sim = new Sim();
    // sift compiles an unknown $type, and throws only when it meets a value at that path.
    const badType = { scope: 'running' as const, query: { 'data.v': { $type: 'no-such-type' } }, limit: 1 };
    sim.scheduler.markRunning('bad', { uuid: 'bad', operation: 'op', status: 'running', priority: 0, data: { v: 1 } });
    sim.add('x', { priority: 1, conditions: [badType] });
    sim.add('y');
    const first = sim.scheduler.next();
    assert.ok(first !== null);
    assert.equal(first.entry.uuid, 'x');
    assert.ok(first.error instanceof Error);
    assert.match(first.error.message, /type/i);
    assert.equal(sim.scheduler.has('x'), false);
    assert.equal(sim.scheduler.size, 1);
    const second = sim.scheduler.next();
    assert.equal(second?.entry.uuid, 'y');
    assert.equal(second?.error, undefined);
    // Ending the bad document is safe (matching errors are swallowed there).
    sim.scheduler.markEnded('bad');
    assert.equal(sim.scheduler.next(), null);
  });
});

// ---- scale -----------------------------------------------------------------------

/** A document whose `data` reads are counted: one read per query evaluation on it. */
function countingDoc(uuid: string, data: Record<string, unknown>, counter: { reads: number }): Doc {
  const doc = { uuid, operation: 'op', status: 'new', priority: 0 } as Doc;
  Object.defineProperty(doc, 'data', {
    enumerable: true,
    get() {
      counter.reads++;
      return data;
    },
  });
  return doc;
}

describe('Scheduler at scale', () => {
  test('drains 20,000 tasks with running-scope conditions in O(n log n) evaluations', () => {
    const N = 20_000;
    const GROUPS = 10;
    const THREADS = 8;
    const counter = { reads: 0 };
    const scheduler = new Scheduler();
    const docs = new Map<string, Doc>();
    for (let i = 0; i < N; i++) {
      const g = `g${i % GROUPS}`;
      const doc = countingDoc(`t${i}`, { group: g }, counter);
      docs.set(doc.uuid, doc);
      scheduler.enqueue({ uuid: doc.uuid, doc, priority: i % 3, seq: i, conditions: [group(g, 2)] });
    }
    const enqueueReads = counter.reads;
    const runningNow: string[] = [];
    const perGroup = new Map<string, number>();
    let started = 0;
    let pumps = 0;
    for (;;) {
      while (runningNow.length < THREADS) {
        const next = scheduler.next();
        if (next === null) break;
        assert.equal(next.error, undefined);
        const doc = next.entry.doc as Doc;
        const g = (next.entry.conditions[0]!.query as { 'data.group': string })['data.group'];
        const count = (perGroup.get(g) ?? 0) + 1;
        assert.ok(count <= 2, `group ${g} has ${count} running`);
        perGroup.set(g, count);
        doc.status = 'running';
        scheduler.markRunning(doc.uuid, doc);
        runningNow.push(doc.uuid);
        started++;
      }
      pumps++;
      const finished = runningNow.shift();
      if (finished === undefined) break;
      const g = `g${Number(finished.slice(1)) % GROUPS}`;
      perGroup.set(g, perGroup.get(g)! - 1);
      docs.get(finished)!.status = 'done';
      scheduler.markEnded(finished);
    }
    assert.equal(started, N);
    assert.equal(scheduler.size, 0);
    assert.equal(enqueueReads, 0, 'running-scope conditions are not evaluated at enqueue');
    // A naive rescan of the parked tasks after every end would cost ~N²/2 evaluations.
    // Here each start/park evaluates at most THREADS running documents a few times.
    assert.ok(counter.reads < N * THREADS * 4, `${counter.reads} query evaluations on documents`);
    assert.ok(pumps <= N + 1);
  });

  test('drains 20,000 tasks with before-queued conditions, keeping their order rules', () => {
    const N = 20_000;
    const THREADS = 8;
    const scheduler = new Scheduler();
    const counter = { reads: 0 };
    // Every 10th task is "urgent": urgent tasks run one at a time. The others (3
    // groups) may only start while no urgent task of their group waits ahead.
    const docs = new Map<string, Doc>();
    const urgentOf: number[][] = [[], [], []];
    for (let i = 0; i < N; i++) {
      const g = i % 3;
      const urgent = i % 10 === 0;
      if (urgent) urgentOf[g]!.push(i);
      const doc = countingDoc(`t${i}`, { group: `g${g}`, urgent }, counter);
      docs.set(doc.uuid, doc);
      const conditions = urgent
        ? [running({ 'data.urgent': true }, 1)]
        : [beforeQueued({ 'data.group': `g${g}`, 'data.urgent': true }, 1)];
      scheduler.enqueue({ uuid: doc.uuid, doc, priority: 0, seq: i, conditions });
    }
    // Each enqueue tests the new document once against each before-queued query
    // (3 of them, each reading `data` once per field: at most 2).
    assert.ok(counter.reads <= N * 3 * 2, `${counter.reads} data reads at enqueue`);
    const readsBefore = counter.reads;

    const startedSet = new Set<number>();
    const firstWaiting = [0, 0, 0];
    const runningNow: number[] = [];
    let urgentRunning = 0;
    for (;;) {
      while (runningNow.length < THREADS) {
        const next = scheduler.next();
        if (next === null) break;
        assert.equal(next.error, undefined);
        const i = Number(next.entry.uuid.slice(1));
        const g = i % 3;
        if (i % 10 === 0) {
          urgentRunning++;
          assert.equal(urgentRunning, 1, 'urgent tasks run one at a time');
        } else {
          const urgents = urgentOf[g]!;
          while (firstWaiting[g]! < urgents.length && startedSet.has(urgents[firstWaiting[g]!]!)) firstWaiting[g]!++;
          const firstWaitingUrgent = urgents[firstWaiting[g]!];
          assert.ok(firstWaitingUrgent === undefined || firstWaitingUrgent > i, `t${i} overtook urgent t${firstWaitingUrgent}`);
        }
        startedSet.add(i);
        const doc = docs.get(next.entry.uuid)!;
        doc.status = 'running';
        scheduler.markRunning(doc.uuid, doc);
        runningNow.push(i);
      }
      const finished = runningNow.shift();
      if (finished === undefined) break;
      if (finished % 10 === 0) urgentRunning--;
      docs.get(`t${finished}`)!.status = 'done';
      scheduler.markEnded(`t${finished}`);
    }
    assert.equal(startedSet.size, N);
    assert.equal(scheduler.size, 0);
    // Each start or park evaluates the urgent query on at most THREADS running documents.
    assert.ok(counter.reads - readsBefore < N * THREADS, `${counter.reads - readsBefore} data reads while draining`);
  });

  test('drains 20,000 readers/writers tasks completely', () => {
    const N = 20_000;
    const lib = new Sim(16);
    for (let i = 0; i < N; i++) {
      const book = `b${i % 5}`;
      if (i % 7 === 0) lib.add(`w${i}`, { operation: 'write', data: { book }, conditions: writerConditions(book) });
      else lib.add(`r${i}`, { operation: 'read', data: { book }, conditions: readerConditions(book) });
    }
    lib.pump();
    while (lib.running.size > 0) lib.endAndPump([...lib.running.keys()][0]!);
    assert.equal(lib.started.length, N);
    assert.equal(lib.scheduler.size, 0);
  });
});
