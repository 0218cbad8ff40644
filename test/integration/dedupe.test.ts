import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DuplicateTaskError, Tasker, type AddTaskDef } from 'tasker';
import { rejectsWith } from '../helpers/assertions.js';
import { recordEvents } from '../helpers/events.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { runner } from '../helpers/fixtures.js';
import { createTasker, tempDir } from '../helpers/tasker.js';

const T = { timeout: 20_000 };

/** A tasker (not started: its tasks stay `new`) with an echo runner. */
function stoppedTasker(t: Parameters<typeof createTasker>[0], options: Parameters<typeof createTasker>[1] = {}): Tasker {
  const tasker = createTasker(t, options);
  tasker.assignRunner('echo', runner('echo'));
  return tasker;
}

const duplicateOf = (uuid: string) =>
  rejectsWith('ERR_DUPLICATE_TASK', (error) => {
    assert.ok(error instanceof DuplicateTaskError);
    assert.equal((error as DuplicateTaskError).existingUuid, uuid);
    assert.ok(error.message.includes(uuid), 'the message names the existing task');
  });

test("mode 'reject' (default): a duplicate key of a new or running task rejects ERR_DUPLICATE_TASK naming it", T, async (t) => {
  const tasker = stoppedTasker(t);
  const first = await tasker.addTask({ operation: 'echo', data: 1, dedupe: { key: 'report:42' } });
  assert.equal((await tasker.getTask(first)).dedupeKey, 'report:42', 'the key is stored on the task');
  await assert.rejects(tasker.addTask({ operation: 'echo', data: 2, dedupe: { key: 'report:42' } }), duplicateOf(first));
  await assert.rejects(tasker.addTask({ operation: 'echo', dedupe: { key: 'report:42', mode: 'reject' } }), duplicateOf(first));
  const other = await tasker.addTask({ operation: 'echo', dedupe: { key: 'report:43' } });
  assert.notEqual(other, first);
  // Without dedupe, nothing is checked.
  await tasker.addTask({ operation: 'echo', data: 3 });
  assert.equal(await tasker.countTasks(), 3);
  // Once it has ended, it is out of scope (no includeEnded).
  await tasker.start();
  await tasker.waitForTaskOutputData(first);
  const again = await tasker.addTask({ operation: 'echo', dedupe: { key: 'report:42' } });
  await tasker.waitForTaskOutputData(again);
});

test("mode 'return-existing' resolves to the existing uuid, adds nothing and emits nothing", T, async (t) => {
  const tasker = stoppedTasker(t);
  const first = await tasker.addTask({ operation: 'echo', dedupe: { key: 'k' } });
  const events = recordEvents(tasker, ['task.add', 'task.added']);
  assert.equal(await tasker.addTask({ operation: 'echo', dedupe: { key: 'k', mode: 'return-existing' } }), first);
  assert.deepEqual(events, []);
  assert.equal(await tasker.countTasks(), 1);
});

test("mode 'replace' aborts the new or running duplicate (ERR_TASK_REPLACED), then adds the new task", T, async (t) => {
  const tasker = createTasker(t, { maxThreads: 1 });
  tasker.assignRunner('gate', runner('gate'));
  tasker.assignRunner('echo', runner('echo'));
  // A new duplicate is aborted at once.
  const queued = await tasker.addTask({ operation: 'echo', data: 'old', dedupe: { key: 'q' } });
  const replacement = await tasker.addTask({ operation: 'echo', data: 'new', dedupe: { key: 'q', mode: 'replace' } });
  const old = await tasker.getTask(queued);
  assert.equal(old.status, 'aborted');
  assert.equal(old.abortReason?.code, 'ERR_TASK_REPLACED');
  assert.ok(old.abortReason?.message.includes(replacement));
  assert.equal((await tasker.getTask(replacement)).status, 'new');

  // A running duplicate gets its abort signal; the add resolves once it has ended.
  await tasker.start();
  await tasker.waitForTaskOutputData(replacement);
  const channel = `dedupe-${process.pid}-${Date.now()}`;
  const started = new Promise((resolve) => tasker.once('task.log', resolve));
  const running = await tasker.addTask({ operation: 'gate', data: { channel, name: 'g' }, dedupe: { key: 'g' } });
  await started;
  const ended = recordEvents(tasker, ['task.aborted', 'task.added']);
  const next = await tasker.addTask({ operation: 'echo', data: 'after', dedupe: { key: 'g', mode: 'replace' } });
  assert.equal(ended[0]?.[0], 'task.aborted', 'the old one ended before the new one was added');
  assert.equal((ended[0]?.[2] as { code?: string }).code, 'ERR_TASK_REPLACED');
  await assert.rejects(tasker.waitForTaskOutputData(running), rejectsWith('ERR_TASK_ABORTED', (error) => {
    assert.equal((error.cause as { code?: string }).code, 'ERR_TASK_REPLACED');
  }));
  assert.equal(await tasker.waitForTaskOutputData(next), 'after');
});

test('20 concurrent adds with one key make exactly one task (persisted, so that each write takes time)', T, async (t) => {
  const dir = await tempDir(t);
  const tasker = stoppedTasker(t, { persistDir: dir });
  const def = (i: number, mode?: 'reject' | 'return-existing'): AddTaskDef => ({
    operation: 'echo',
    data: i,
    dedupe: mode === undefined ? { key: 'same' } : { key: 'same', mode },
  });
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => tasker.addTask(def(i))));
  const added = results.filter((r): r is PromiseFulfilledResult<string> => r.status === 'fulfilled').map((r) => r.value);
  assert.equal(added.length, 1);
  for (const r of results) {
    if (r.status === 'rejected') duplicateOf(added[0]!)(r.reason);
  }
  assert.equal(await tasker.countTasks(), 1);

  const returned = await Promise.all(Array.from({ length: 20 }, (_, i) => tasker.addTask({ ...def(i, 'return-existing'), dedupe: { key: 'other', mode: 'return-existing' } })));
  assert.equal(new Set(returned).size, 1);
  assert.equal(await tasker.countTasks(), 2);

  // By query, an add still being written counts too.
  const byQuery = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => tasker.addTask({ operation: 'echo', data: { file: 'a.jpg', i }, dedupe: { query: { operation: 'echo', 'data.file': 'a.jpg' } } })),
  );
  assert.equal(byQuery.filter((r) => r.status === 'fulfilled').length, 1);
  assert.equal(await tasker.countTasks({ 'data.file': 'a.jpg' }), 1);
});

test('20 concurrent replaces with one key leave exactly one task new, the others aborted as replaced', T, async (t) => {
  const tasker = stoppedTasker(t);
  const uuids = await Promise.all(Array.from({ length: 20 }, (_, i) => tasker.addTask({ operation: 'echo', data: i, dedupe: { key: 'r', mode: 'replace' } })));
  assert.equal(new Set(uuids).size, 20);
  assert.equal(await tasker.countTasks({ status: 'new' }), 1);
  assert.equal(await tasker.countTasks({ status: 'aborted', 'abortReason.code': 'ERR_TASK_REPLACED' }), 19);
});

test('a dedupe key survives a restart (stored in the document)', T, async (t) => {
  const dir = await tempDir(t);
  const first = new Tasker({ persistDir: dir });
  first.assignRunner('echo', runner('echo'));
  const uuid = await first.addTask({ operation: 'echo', dedupe: { key: 'nightly' } });
  await first.close();
  const second = stoppedTasker(t, { persistDir: dir });
  assert.equal((await second.getTask(uuid)).dedupeKey, 'nightly');
  await assert.rejects(second.addTask({ operation: 'echo', dedupe: { key: 'nightly' } }), duplicateOf(uuid));
  assert.equal(await second.addTask({ operation: 'echo', dedupe: { key: 'nightly', mode: 'return-existing' } }), uuid);
});

test('includeEnded: a task that ended within the window is a duplicate, by key and by query (fake clock)', T, async (t) => {
  const clock = new FakeClock();
  const tasker = stoppedTasker(t, { clock });
  await tasker.start();
  const done = await tasker.addTask({ operation: 'echo', data: { file: 'x' }, dedupe: { key: 'w' } });
  await tasker.waitForTaskOutputData(done);
  clock.advance(500);
  await assert.rejects(tasker.addTask({ operation: 'echo', dedupe: { key: 'w', includeEnded: 1000 } }), duplicateOf(done));
  await assert.rejects(tasker.addTask({ operation: 'echo', dedupe: { query: { 'data.file': 'x' }, includeEnded: 1000 } }), duplicateOf(done));
  assert.equal(await tasker.addTask({ operation: 'echo', dedupe: { key: 'w', includeEnded: 1000, mode: 'return-existing' } }), done);
  clock.advance(501);
  const later = await tasker.addTask({ operation: 'echo', dedupe: { key: 'w', includeEnded: 1000 } });
  assert.notEqual(later, done);
  await tasker.waitForTaskOutputData(later);
  // 'replace' leaves an ended duplicate as it is and adds the new task.
  const replaced = await tasker.addTask({ operation: 'echo', dedupe: { key: 'w', includeEnded: 1000, mode: 'replace' } });
  assert.equal((await tasker.getTask(later)).status, 'done');
  await tasker.waitForTaskOutputData(replaced);
});

test('a removed task is no longer a duplicate', T, async (t) => {
  const tasker = stoppedTasker(t);
  await tasker.start();
  const a = await tasker.addTask({ operation: 'echo', dedupe: { key: 'gone' } });
  await tasker.waitForTaskOutputData(a);
  await assert.rejects(tasker.addTask({ operation: 'echo', dedupe: { key: 'gone', includeEnded: 60_000 } }), duplicateOf(a));
  await tasker.removeTask(a);
  const b = await tasker.addTask({ operation: 'echo', dedupe: { key: 'gone', includeEnded: 60_000 } });
  await tasker.waitForTaskOutputData(b);
});

test('bad dedupe options reject ERR_INVALID_TASK', async (t) => {
  const tasker = stoppedTasker(t);
  const bad: unknown[] = [
    null,
    'key',
    {},
    { key: 'a', query: { operation: 'x' } },
    { key: '' },
    { key: 1 },
    { query: 'x' },
    { query: { $where: 'true' } },
    { query: { n: { $nope: 1 } } },
    { key: 'a', mode: 'merge' },
    { key: 'a', includeEnded: -1 },
    { key: 'a', includeEnded: Infinity },
    { key: 'a', other: 1 },
  ];
  for (const dedupe of bad) {
    await assert.rejects(tasker.addTask({ operation: 'echo', dedupe } as never), rejectsWith('ERR_INVALID_TASK'), JSON.stringify(dedupe));
  }
  assert.equal(await tasker.countTasks(), 0);
});
