/**
 * Concurrency conditions and queries, on real worker threads.
 *
 * Tasks run the `gate` fixture: it logs 'started', then holds its thread
 * until the test posts `release:<name>` on the BroadcastChannel named in
 * `data.channel`. The test releases one task at a time and, after every
 * `task.run` / `task.ended` event, checks the set of running tasks. Waits are
 * on events; the only timers are safety nets that fail the test.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import { ErrorCodes, type ConcurrencyCondition, type Tasker, type TaskSort } from 'tasker';
import { runner } from '../helpers/fixtures.js';
import { createTasker } from '../helpers/tasker.js';

const SAFETY_NET_MS = 10_000;

interface GateSpec {
  name: string;
  operation: string;
  priority: number;
  book: string;
  concurrency?: ConcurrencyCondition[];
}

interface Added extends GateSpec {
  uuid: string;
  /** Order of addTask calls, for FIFO among equal priorities. */
  addIndex: number;
}

/** Queue order: true when `a` is ahead of `b` (higher priority, or equal priority and added first). */
function aheadInQueue(a: Added, b: Added): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.addIndex < b.addIndex;
}

/**
 * Tracks gate tasks by name from the tasker's events. Tasks must be added
 * while the tasker is stopped, so that every `task.run` carries a known uuid.
 */
class GateBoard {
  readonly channel = `gate-${randomUUID()}`;
  readonly tasks = new Map<string, Added>();
  readonly running = new Set<string>();
  readonly everStarted = new Set<string>();
  readonly logged = new Set<string>();
  readonly ended = new Map<string, string>();
  readonly history: string[] = [];
  readonly violations: string[] = [];
  /** Most tasks running together, per operation. */
  readonly peak = new Map<string, number>();
  readonly #byUuid = new Map<string, Added>();
  readonly #bc: BroadcastChannel;
  readonly #tasker: Tasker;
  readonly #watchers = new Set<() => void>();
  readonly #onRun: (board: GateBoard, task: Added) => void;

  constructor(t: TestContext, tasker: Tasker, onRun: (board: GateBoard, task: Added) => void = () => {}) {
    this.#tasker = tasker;
    this.#onRun = onRun;
    this.#bc = new BroadcastChannel(this.channel);
    t.after(() => this.#bc.close());
    tasker.on('task.run', (uuid) => {
      const task = this.#byUuid.get(uuid);
      if (task === undefined) return; // not a gate task of this board
      if (this.everStarted.has(task.name)) this.violations.push(`${task.name} started twice`);
      this.running.add(task.name);
      this.everStarted.add(task.name);
      this.history.push(`run ${task.name} -> {${this.runningNames().join(',')}}`);
      const count = this.runningTasks().filter((other) => other.operation === task.operation).length;
      this.peak.set(task.operation, Math.max(this.peak.get(task.operation) ?? 0, count));
      this.#onRun(this, task);
      this.#notify();
    });
    tasker.on('task.ended', (uuid, status) => {
      const task = this.#byUuid.get(uuid);
      if (task === undefined) return;
      this.running.delete(task.name);
      this.ended.set(task.name, status);
      this.history.push(`end ${task.name} ${status} -> {${this.runningNames().join(',')}}`);
      this.#notify();
    });
    tasker.on('task.log', (uuid, log) => {
      const task = this.#byUuid.get(uuid);
      if (task === undefined || log.message !== 'started') return;
      this.logged.add(task.name);
      this.#notify();
    });
  }

  async add(spec: GateSpec): Promise<Added> {
    const uuid = await this.#tasker.addTask({
      operation: spec.operation,
      priority: spec.priority,
      data: { book: spec.book, channel: this.channel, name: spec.name },
      ...(spec.concurrency === undefined ? {} : { concurrency: spec.concurrency }),
    });
    const added: Added = { ...spec, uuid, addIndex: this.tasks.size };
    this.tasks.set(spec.name, added);
    this.#byUuid.set(uuid, added);
    return added;
  }

  runningNames(): string[] {
    return [...this.running].sort();
  }

  runningTasks(): Added[] {
    return [...this.running].map((name) => this.tasks.get(name)!);
  }

  /** Resolves once `predicate` holds, checked now and after every event; fails fast on a violation. */
  waitFor(label: string, predicate: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#watchers.delete(check);
      };
      const check = (): void => {
        if (this.violations.length > 0) {
          cleanup();
          reject(new Error(`${label}: ${this.violations.join('; ')}\n${this.history.join('\n')}`));
        } else if (predicate()) {
          cleanup();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`safety net: ${label} not reached in ${SAFETY_NET_MS} ms; running {${this.runningNames().join(',')}}\n${this.history.join('\n')}`));
      }, SAFETY_NET_MS);
      this.#watchers.add(check);
      check();
    });
  }

  /** Waits until exactly `names` are running. */
  expectRunning(names: string[]): Promise<void> {
    const want = [...names].sort();
    return this.waitFor(`running = {${want.join(',')}}`, () => {
      const have = this.runningNames();
      return have.length === want.length && have.every((name, i) => name === want[i]);
    });
  }

  /** Releases a running gate task (once its channel listens) and waits for its end. */
  async release(name: string): Promise<void> {
    await this.waitFor(`${name} logged 'started'`, () => this.logged.has(name));
    this.#bc.postMessage(`release:${name}`);
    await this.waitFor(`${name} ended`, () => this.ended.has(name));
    assert.equal(this.ended.get(name), 'done', `${name} should end done`);
  }

  addViolation(message: string): void {
    this.violations.push(message);
    this.#notify();
  }

  #notify(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }
}

function writerOf(book: string): ConcurrencyCondition[] {
  return [{ scope: 'running', query: { 'data.book': book }, limit: 1 }];
}

function readerOf(book: string): ConcurrencyCondition[] {
  return [
    { scope: 'running', query: { 'data.book': book, operation: 'write' }, limit: 1 },
    { scope: 'running', query: { 'data.book': book, operation: 'read' }, limit: 2 },
    { scope: 'before-queued', query: { 'data.book': book, operation: 'write' }, limit: 1 },
  ];
}

/** The readers/writers rules, checked at every start. */
function readersWriters(board: GateBoard, started: Added): void {
  const onBook = board.runningTasks().filter((task) => task.book === started.book);
  const writers = onBook.filter((task) => task.operation === 'write');
  const readers = onBook.filter((task) => task.operation === 'read');
  if (writers.length > 0 && onBook.length > 1) {
    board.addViolation(`a writer runs with others on ${started.book}: {${onBook.map((task) => task.name).join(',')}}`);
  }
  if (readers.length > 2) board.addViolation(`more than 2 readers on ${started.book}: {${readers.map((task) => task.name).join(',')}}`);
  if (started.operation === 'read') {
    for (const writer of board.tasks.values()) {
      if (writer.operation === 'write' && writer.book === started.book && aheadInQueue(writer, started) && !board.everStarted.has(writer.name)) {
        board.addViolation(`reader ${started.name} overtook the waiting writer ${writer.name}`);
      }
    }
  }
}

function setupGates(t: TestContext, maxThreads: number, onRun?: (board: GateBoard, task: Added) => void): { tasker: Tasker; board: GateBoard } {
  const tasker = createTasker(t, { maxThreads });
  const gate = runner('gate');
  for (const operation of ['read', 'write', 'solo', 'duo', 'other']) tasker.assignRunner(operation, gate);
  return { tasker, board: new GateBoard(t, tasker, onRun) };
}

test('readers/writers on book b1: a writer runs alone, at most 2 readers, no reader overtakes a waiting writer, another book is not held back', async (t) => {
  const { tasker, board } = setupGates(t, 4, readersWriters);
  const specs: GateSpec[] = [
    { name: 'R1', operation: 'read', priority: 60, book: 'b1', concurrency: readerOf('b1') },
    { name: 'W1', operation: 'write', priority: 50, book: 'b1', concurrency: writerOf('b1') },
    { name: 'R2', operation: 'read', priority: 40, book: 'b1', concurrency: readerOf('b1') },
    { name: 'R3', operation: 'read', priority: 30, book: 'b1', concurrency: readerOf('b1') },
    { name: 'W2', operation: 'write', priority: 20, book: 'b1', concurrency: writerOf('b1') },
    { name: 'R4', operation: 'read', priority: 10, book: 'b1', concurrency: readerOf('b1') },
    // Behind every b1 task in the queue, on another book: must not be held back by them.
    { name: 'X', operation: 'write', priority: 0, book: 'b2', concurrency: writerOf('b2') },
  ];
  // Added out of priority order, so that the run order comes from the priorities.
  for (const name of ['R4', 'W2', 'X', 'R2', 'W1', 'R3', 'R1']) await board.add(specs.find((spec) => spec.name === name)!);
  await tasker.start();

  await board.expectRunning(['R1', 'X']); // W1 waits for R1; R2..R4 wait behind W1; X (book b2) runs anyway
  await board.release('X');
  await board.expectRunning(['R1']);
  await board.release('R1');
  await board.expectRunning(['W1']); // alone
  await board.release('W1');
  await board.expectRunning(['R2', 'R3']); // two readers together; R4 waits behind W2; W2 waits for the readers
  await board.release('R2');
  await board.expectRunning(['R3']);
  await board.release('R3');
  await board.expectRunning(['W2']);
  await board.release('W2');
  await board.expectRunning(['R4']);
  await board.release('R4');
  await board.expectRunning([]);

  assert.deepEqual(board.violations, []);
  assert.equal(board.peak.get('read'), 2, 'two readers did run together');
  for (const spec of specs) {
    const task = await tasker.getTask(board.tasks.get(spec.name)!.uuid);
    assert.equal(task.status, 'done', spec.name);
    assert.equal(task.result, spec.name);
  }
});

test('readers parked under a running-scope condition they do not match are all started when it frees (no lost wake-up)', async (t) => {
  // W holds the book; Ra and Rb wait only for "no writer running"; Z (lowest
  // priority) waits on another key that W's end also frees. When W ends, Ra,
  // Rb and Z all become runnable with 3 free threads: by priority order, Ra and
  // Rb must have started by the time Z starts.
  const { tasker, board } = setupGates(t, 3, (b, started) => {
    if (started.name === 'Z') {
      for (const name of ['Ra', 'Rb']) if (!b.everStarted.has(name)) b.addViolation(`Z (lower priority) started while runnable ${name} did not`);
    }
  });
  const noWriter: ConcurrencyCondition[] = [{ scope: 'running', query: { 'data.book': 'b1', operation: 'write' }, limit: 1 }];
  await board.add({ name: 'W', operation: 'write', priority: 3, book: 'b1', concurrency: writerOf('b1') });
  await board.add({ name: 'Ra', operation: 'read', priority: 2, book: 'b1', concurrency: noWriter });
  await board.add({ name: 'Rb', operation: 'read', priority: 2, book: 'b1', concurrency: noWriter });
  await board.add({ name: 'Z', operation: 'other', priority: 1, book: 'elsewhere', concurrency: [{ scope: 'running', query: { operation: 'write' }, limit: 1 }] });
  await tasker.start();
  await board.expectRunning(['W']);
  await board.release('W');
  await board.expectRunning(['Ra', 'Rb', 'Z']);
  for (const name of ['Ra', 'Rb', 'Z']) await board.release(name);
  assert.deepEqual(board.violations, []);
});

test("running-scope limit 1 allows exactly one matching task at once (ours counts all matching running tasks; the original counted the others with <=, allowing limit+1 = 2)", async (t) => {
  const { tasker, board } = setupGates(t, 3, (b, started) => {
    if (started.operation === 'solo' && b.runningTasks().filter((task) => task.operation === 'solo').length > 1) {
      b.addViolation(`two solo tasks run together: {${b.runningNames().join(',')}}`);
    }
  });
  const solo: ConcurrencyCondition[] = [{ scope: 'running', query: { operation: 'solo' }, limit: 1 }];
  for (const name of ['S1', 'S2', 'S3']) await board.add({ name, operation: 'solo', priority: 1, book: 'b', concurrency: solo });
  // Behind them and unconstrained: once it starts, the scheduler has passed S2 and S3 over.
  await board.add({ name: 'Z', operation: 'other', priority: 0, book: 'b' });
  await tasker.start();
  await board.expectRunning(['S1', 'Z']);
  await board.release('S1');
  await board.expectRunning(['S2', 'Z']);
  await board.release('S2');
  await board.expectRunning(['S3', 'Z']);
  await board.release('S3');
  await board.release('Z');
  assert.deepEqual(board.violations, []);
  assert.equal(board.peak.get('solo'), 1);
});

test('running-scope limit 2 lets exactly two matching tasks run together, not three (the original allowed 3)', async (t) => {
  const { tasker, board } = setupGates(t, 4, (b, started) => {
    if (started.operation === 'duo' && b.runningTasks().filter((task) => task.operation === 'duo').length > 2) {
      b.addViolation(`three duo tasks run together: {${b.runningNames().join(',')}}`);
    }
  });
  const duo: ConcurrencyCondition[] = [{ scope: 'running', query: { operation: 'duo' }, limit: 2 }];
  for (const name of ['D1', 'D2', 'D3', 'D4']) await board.add({ name, operation: 'duo', priority: 1, book: 'b', concurrency: duo });
  await board.add({ name: 'Z', operation: 'other', priority: 0, book: 'b' });
  await tasker.start();
  await board.expectRunning(['D1', 'D2', 'Z']);
  await board.release('D1');
  await board.expectRunning(['D2', 'D3', 'Z']);
  await board.release('D2');
  await board.expectRunning(['D3', 'D4', 'Z']);
  await board.release('D3');
  await board.release('D4');
  await board.release('Z');
  assert.deepEqual(board.violations, []);
  assert.equal(board.peak.get('duo'), 2);
});

test('a condition that throws while evaluated fails only its task with ERR_CONDITION_FAILED; the scheduler keeps going (original bug 3)', async (t) => {
  const { tasker, board } = setupGates(t, 3);
  tasker.assignRunner('echo', runner('echo'));
  // `$type: 'no-such-type'` compiles, so addTask accepts it, but sift throws as
  // soon as the query is tested against a document: here, the running H.
  const bad: ConcurrencyCondition[] = [{ scope: 'running', query: { 'data.book': { $type: 'no-such-type' } }, limit: 1 }];
  const failed: string[] = [];
  tasker.on('task.failed', (uuid) => failed.push(uuid));
  const hold = await board.add({ name: 'H', operation: 'other', priority: 3, book: 'b1' });
  const badUuid = await tasker.addTask({ operation: 'echo', priority: 2, data: 'bad', concurrency: bad });
  const after = await tasker.addTask({ operation: 'echo', priority: 1, data: 'after' });
  await tasker.start();

  await assert.rejects(tasker.waitForTaskOutputData(badUuid), (error: { code?: string; cause?: { code?: string } }) => {
    assert.equal(error.code, ErrorCodes.TASK_FAILED);
    assert.equal(error.cause?.code, ErrorCodes.CONDITION_FAILED);
    return true;
  });
  const badTask = await tasker.getTask(badUuid);
  assert.equal(badTask.status, 'failed');
  assert.equal((badTask.error as { code?: string }).code, ErrorCodes.CONDITION_FAILED);
  assert.equal(badTask.startedAt, undefined, 'it never ran');
  assert.deepEqual(failed, [badUuid]);
  // Tasks behind it, and tasks added later, still run.
  assert.equal(await tasker.waitForTaskOutputData(after), 'after');
  const later = await tasker.addTask({ operation: 'echo', data: 'later' });
  assert.equal(await tasker.waitForTaskOutputData(later), 'later');
  await board.release('H');
  assert.equal((await tasker.getTask(hold.uuid)).status, 'done');
});

test('a condition with an unknown operator is refused at addTask with ERR_INVALID_TASK (cause ERR_INVALID_QUERY) and nothing is stored', async (t) => {
  const tasker = createTasker(t);
  await assert.rejects(
    tasker.addTask({ operation: 'echo', concurrency: [{ scope: 'running', query: { 'data.book': { $nope: 1 } }, limit: 1 }] }),
    (error: { code?: string; cause?: { code?: string } }) => {
      assert.equal(error.code, ErrorCodes.INVALID_TASK);
      assert.equal(error.cause?.code, ErrorCodes.INVALID_QUERY);
      return true;
    },
  );
  assert.equal(await tasker.countTasks(), 0);
});

test('$where is refused with ERR_INVALID_QUERY by findTasks, findTask, hasTask, countTasks, and in a concurrency condition at addTask', async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('echo', runner('echo'));
  await tasker.addTask({ operation: 'echo', data: { x: 1 } });
  const queries = [{ $where: 'true' }, { $where: 'this.data.x === 1' }, { data: { $where: 'true' } }, { $or: [{ $where: 'true' }] }];
  for (const query of queries) {
    const label = JSON.stringify(query);
    await assert.rejects(tasker.findTasks(query), { code: ErrorCodes.INVALID_QUERY }, `findTasks ${label}`);
    await assert.rejects(tasker.findTask(query), { code: ErrorCodes.INVALID_QUERY }, `findTask ${label}`);
    await assert.rejects(tasker.hasTask(query), { code: ErrorCodes.INVALID_QUERY }, `hasTask ${label}`);
    await assert.rejects(tasker.countTasks(query), { code: ErrorCodes.INVALID_QUERY }, `countTasks ${label}`);
    for (const scope of ['running', 'before-queued'] as const) {
      await assert.rejects(
        tasker.addTask({ operation: 'echo', concurrency: [{ scope, query, limit: 1 }] }),
        (error: { code?: string; cause?: { code?: string } }) => {
          assert.equal(error.code, ErrorCodes.INVALID_TASK, `addTask ${scope} ${label}`);
          assert.equal(error.cause?.code, ErrorCodes.INVALID_QUERY, `addTask ${scope} ${label}`);
          return true;
        },
      );
    }
  }
  assert.equal(await tasker.countTasks(), 1, 'no refused task was stored');
});

test('hasTask / countTasks / findTask / findTasks: dot paths into data and id, sort, skip, limit, and the default order', async (t) => {
  const tasker = createTasker(t, { maxThreads: 2 });
  const channel = `gate-${randomUUID()}`;
  const bc = new BroadcastChannel(channel);
  t.after(() => bc.close());
  tasker.assignRunner('gate', runner('gate'));
  tasker.assignRunner('echo', runner('echo'));
  tasker.assignRunner('fail', runner('fail'));
  const gateStarted = (name: string): Promise<void> =>
    new Promise((resolve) => {
      const onLog = (_uuid: string, log: { message: string; data?: unknown }): void => {
        if (log.message === 'started' && (log.data as { name?: unknown } | undefined)?.name === name) {
          tasker.off('task.log', onLog);
          resolve();
        }
      };
      tasker.on('task.log', onLog);
    });
  await tasker.start();

  // Two ended tasks (E1 ends before E2), two running (G1 starts before G2)...
  const e1 = await tasker.addTask({ operation: 'echo', id: { n: 1, book: 'b1' }, data: { book: 'b1', tags: ['x'] }, priority: 3 });
  assert.deepEqual(await tasker.waitForTaskOutputData(e1), { book: 'b1', tags: ['x'] });
  const e2 = await tasker.addTask({ operation: 'fail', id: { n: 2, book: 'b2' }, data: { book: 'b2' }, priority: 100 });
  await assert.rejects(tasker.waitForTaskOutputData(e2), { code: ErrorCodes.TASK_FAILED });
  const g1Started = gateStarted('G1');
  const g1 = await tasker.addTask({ operation: 'gate', id: { n: 3, book: 'b1' }, data: { book: 'b1', channel, name: 'G1' }, priority: -5 });
  await g1Started;
  const g2Started = gateStarted('G2');
  const g2 = await tasker.addTask({ operation: 'gate', id: { n: 4, book: 'b2' }, data: { book: 'b2', channel, name: 'G2', tags: ['x', 'y'] }, priority: 50 });
  await g2Started;
  // ...and five new ones, held by the two busy threads.
  const n1 = await tasker.addTask({ operation: 'echo', id: { n: 5, book: 'b1' }, data: { book: 'b1' }, priority: 0 });
  const n2 = await tasker.addTask({ operation: 'echo', id: { n: 6, book: 'b2' }, data: { book: 'b2' }, priority: 5 });
  const n3 = await tasker.addTask({ operation: 'echo', id: { n: 7, book: 'b1' }, data: { book: 'b1', tags: ['y'] }, priority: 0 });
  const n4 = await tasker.addTask({ operation: 'echo', id: { n: 8, book: 'b3' }, data: { book: 'b3' }, priority: -Infinity });
  const n5 = await tasker.addTask({ operation: 'echo', id: { n: 9, book: 'b1' }, data: { book: 'b1' }, priority: Infinity });

  // Default order: new tasks in run order, then running by start, then ended by end.
  const all = await tasker.findTasks();
  assert.deepEqual(all.map((task) => task.uuid), [n5, n2, n1, n3, n4, g1, g2, e1, e2]);
  assert.deepEqual(all.map((task) => task.status), ['new', 'new', 'new', 'new', 'new', 'running', 'running', 'done', 'failed']);

  // Dot paths into data and id.
  const b1 = await tasker.findTasks({ 'data.book': 'b1' });
  assert.deepEqual(b1.map((task) => task.uuid), [n5, n1, n3, g1, e1]);
  assert.deepEqual((await tasker.findTasks({ 'id.book': 'b2' })).map((task) => task.uuid), [n2, g2, e2]);
  assert.deepEqual((await tasker.findTasks({ 'id.n': { $gte: 7 } })).map((task) => task.uuid), [n5, n3, n4]);
  assert.deepEqual((await tasker.findTasks({ 'data.tags': 'x' })).map((task) => task.uuid), [g2, e1], 'array membership');
  assert.deepEqual((await tasker.findTasks({ 'data.book': 'b1', status: { $in: ['running', 'done'] } })).map((task) => task.uuid), [g1, e1]);
  assert.deepEqual((await tasker.findTasks({ id: { n: 6, book: 'b2' } })).map((task) => task.uuid), [n2], 'whole-object equality on id');

  assert.equal(await tasker.hasTask({ 'id.book': 'b3' }), true);
  assert.equal(await tasker.hasTask({ 'id.book': 'b4' }), false);
  assert.equal(await tasker.hasTask({ 'data.book': 'b2', status: 'failed' }), true);
  assert.equal(await tasker.countTasks(), 9);
  assert.equal(await tasker.countTasks({ status: 'new' }), 5);
  assert.equal(await tasker.countTasks({ 'data.book': 'b1' }), 5);
  assert.equal(await tasker.countTasks({ 'id.n': { $lt: 3 } }), 2);
  assert.equal(await tasker.countTasks({ 'data.book': 'nope' }), 0);

  // findTask: the first match in the default order, or undefined.
  assert.equal((await tasker.findTask({ 'data.book': 'b1' }))?.uuid, n5);
  assert.equal((await tasker.findTask({ 'data.book': 'b1', status: { $ne: 'new' } }))?.uuid, g1);
  assert.equal((await tasker.findTask({ 'id.book': 'b1' }, { sort: { 'id.n': 1 } }))?.uuid, e1);
  assert.equal(await tasker.findTask({ operation: 'nope' }), undefined);

  // sort, skip, limit.
  const byN = (await tasker.findTasks({}, { sort: { 'id.n': -1 } })).map((task) => (task.id as { n: number }).n);
  assert.deepEqual(byN, [9, 8, 7, 6, 5, 4, 3, 2, 1]);
  const page = await tasker.findTasks({}, { sort: { 'id.n': 1 }, skip: 2, limit: 3 });
  assert.deepEqual(page.map((task) => task.uuid), [g1, g2, n1]);
  assert.deepEqual((await tasker.findTasks({}, { skip: 7 })).map((task) => task.uuid), [e1, e2]);
  assert.deepEqual((await tasker.findTasks({}, { limit: 2 })).map((task) => task.uuid), [n5, n2]);
  assert.deepEqual(await tasker.findTasks({}, { skip: 9 }), []);
  assert.deepEqual(await tasker.findTasks({}, { limit: 0 }), []);
  const byPriority = await tasker.findTasks({ 'data.book': 'b2' }, { sort: { priority: 1 } });
  assert.deepEqual(byPriority.map((task) => task.uuid), [n2, g2, e2]);
  const byBookThenN = await tasker.findTasks({ status: 'new' }, { sort: { 'data.book': -1, 'id.n': -1 } });
  assert.deepEqual(byBookThenN.map((task) => task.uuid), [n4, n2, n5, n3, n1]);

  // Malformed options.
  await assert.rejects(tasker.findTasks({}, { limit: -1 }), { code: ErrorCodes.INVALID_QUERY });
  await assert.rejects(tasker.findTasks({}, { skip: 1.5 }), { code: ErrorCodes.INVALID_QUERY });
  await assert.rejects(tasker.findTasks({}, { sort: { priority: 2 } as unknown as TaskSort }), { code: ErrorCodes.INVALID_QUERY });

  // Results are copies.
  const copy = await tasker.findTask({ uuid: n1 });
  (copy!.data as { book: string }).book = 'changed';
  assert.equal(((await tasker.getTask(n1)).data as { book: string }).book, 'b1');

  // Release the gates: the new tasks then run in the default order shown above.
  const runOrder: string[] = [];
  tasker.on('task.run', (uuid) => runOrder.push(uuid));
  const idle = new Promise<void>((resolve) => tasker.once('idle', () => resolve()));
  bc.postMessage('release');
  await idle;
  assert.deepEqual(runOrder, [n5, n2, n1, n3, n4]);
  assert.equal((await tasker.findTasks({ status: 'done' })).length, 8);
  assert.deepEqual(
    (await tasker.findTasks({ uuid: { $in: [g1, g2] } }, { sort: { 'id.n': 1 } })).map((task) => task.result),
    ['G1', 'G2'],
  );
});
