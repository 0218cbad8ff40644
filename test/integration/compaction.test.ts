/**
 * Compaction of a persisted store while the tasker works. The JournalStore
 * keeps no copy of the tasks: it writes each snapshot from the engine's live
 * state. These tests check, through a restart and through an independent read
 * of the files, that nothing is lost or duplicated by a snapshot taken while
 * tasks are added, changed, removed and logged to.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tasker, type Task } from 'tasker';
import { readStore } from '../../dist/src/cli/reader.js';
import { JournalStore } from '../../dist/src/store/journal-store.js';
import { runner } from '../helpers/fixtures.js';
import { readStoreFiles } from '../helpers/store-files.js';
import { createTasker, tempDir } from '../helpers/tasker.js';

const T = { timeout: 30_000 };
const quiet = { error() {}, warn() {}, info() {}, debug() {} };

/** Every task with its logs, by uuid. */
async function liveState(tasker: Tasker): Promise<Map<string, Task>> {
  const tasks = (await tasker.findTasks({}, { withLogs: true })) as Task[];
  return new Map(tasks.map((task) => [task.uuid, task]));
}

function assertSameTasks(actual: Map<string, Task>, expected: Map<string, Task>, label: string): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${label}: the same tasks`);
  for (const [uuid, task] of expected) assert.deepEqual(actual.get(uuid), task, `${label}: task ${uuid}, its latest document and each log entry once`);
}

test('a task added by the very batch that makes the journal outgrow compactAfterBytes survives a restart', T, async (t) => {
  // The engine registers a new task once its put is durable, after the commit that wrote it: a snapshot of the
  // live state taken inside that commit would miss the task, and then delete the journal that holds it.
  const dir = await tempDir(t);
  const store = new JournalStore(dir, { compactAfterBytes: 1, logger: quiet });
  const first = createTasker(t, { store, onMissingRunner: 'queue' });
  const uuid = await first.addTask({ operation: 'later', data: { n: 1 } });
  await first.close();
  assert.equal(store.generation, 1, 'one compaction, on close()');

  const second = createTasker(t, { persistDir: dir, onMissingRunner: 'queue' });
  const task = await second.getTask(uuid);
  assert.equal(task.status, 'new');
  assert.deepEqual(task.data, { n: 1 });
});

test('tasks added, changed, removed and logged to during compactions are stored once each, in their latest state', T, async (t) => {
  const dir = await tempDir(t);
  // Small enough that the store compacts many times while the tasks run.
  const store = new JournalStore(dir, { compactAfterBytes: 4_096, durability: 'none', logger: quiet });
  const first = createTasker(t, { store, maxThreads: 2, onMissingRunner: 'queue' });
  first.assignRunner('burst', runner('log-burst'));

  // Tasks that stay queued (no runner) and are reprioritized as the others end: documents changed meanwhile.
  const waiting: string[] = [];
  for (let i = 0; i < 5; i++) waiting.push(await first.addTask({ operation: 'waiting', data: { i } }));
  const changes: Promise<unknown>[] = [];
  let ended = 0;
  first.on('task.ended', (uuid: string) => {
    ended++;
    changes.push(first.prioritizeTask(waiting[ended % waiting.length]!, ended));
    // Every third ended task is removed.
    if (ended % 3 === 0) changes.push(first.removeTask(uuid));
  });
  const COUNT = 40;
  const burst: string[] = [];
  for (let i = 0; i < 30; i++) burst.push(await first.addTask({ operation: 'burst', data: { count: COUNT } }));
  await first.start();
  await first.onIdle();
  // A change may be pushed by the last event before onIdle resolves: wait for all of them, and theirs.
  for (let settled = 0; settled < changes.length; ) {
    const batch = changes.slice(settled);
    settled = changes.length;
    await Promise.all(batch);
  }
  assert.equal(ended, burst.length);
  // How many times depends on timing (a compaction under way defers the next); the unit tests pin the interleavings.
  assert.ok(store.generation >= 1, 'the store compacted while the tasks ran');

  const live = await liveState(first);
  assert.equal(live.size, waiting.length + burst.length - Math.floor(burst.length / 3));
  for (const task of live.values()) {
    if (task.operation === 'burst') assert.deepEqual(task.logs!.map((entry) => entry.message), Array.from({ length: COUNT }, (_, i) => `line ${i}`));
  }

  // The files as they are now — the last snapshot taken while the tasks ran, plus the journal since — replay to the
  // live state: what a restart after a crash at this point would load. (The CLI's reader reads again if a
  // compaction completes meanwhile.)
  const view = await readStore(dir);
  assertSameTasks(new Map(view.tasks.map((task) => [task.uuid, task as Task])), live, 'read while open');

  await first.close();
  assert.deepEqual([...readStoreFiles(dir).tasks.keys()].sort(), [...live.keys()].sort(), 'after close(), an independent replay');
  const second = createTasker(t, { persistDir: dir, onMissingRunner: 'queue' });
  assertSameTasks(await liveState(second), live, 'after a restart');
});
