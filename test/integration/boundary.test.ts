import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AbortError, Tasker, type StoredTask, type TaskStore } from 'tasker';
import { rejectsWith } from '../helpers/assertions.js';
import { runner } from '../helpers/fixtures.js';
import { createTasker, tempDir } from '../helpers/tasker.js';


test('listenTaskLogs with malformed options fails through its iterator, never crashing the process', async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  const uuid = await tasker.addTask({ operation: 'none' });
  const bad: unknown[] = [{ abortSignal: 5 }, { abortSignal: {} }, { fromBeginning: 'yes' }, { follow: true }, 5, 'x', null];
  for (const options of bad) {
    const stream = tasker.listenTaskLogs(uuid, options as never);
    await assert.rejects(stream.next(), rejectsWith('ERR_INVALID_QUERY'), `options ${JSON.stringify(options)}`);
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
  }
});

test('unknown read options are refused rather than ignored', async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  const uuid = await tasker.addTask({ operation: 'none' });
  await assert.rejects(tasker.getTask(uuid, { withlogs: true } as never), rejectsWith('ERR_INVALID_QUERY'));
  await assert.rejects(tasker.findTasks({}, { limt: 1 } as never), rejectsWith('ERR_INVALID_QUERY'));
  await assert.rejects(tasker.findTask({}, { limit: 1 } as never), rejectsWith('ERR_INVALID_QUERY'));
  await assert.rejects(tasker.findTasks({}, null as never), rejectsWith('ERR_INVALID_QUERY'));
  assert.equal((await tasker.findTasks({}, { limit: 1 })).length, 1);
});

test('prioritizeTask without a priority rejects and changes nothing', async (t) => {
  const tasker = createTasker(t, { onMissingRunner: 'queue' });
  const uuid = await tasker.addTask({ operation: 'none', priority: 5 });
  await assert.rejects((tasker.prioritizeTask as (uuid: string) => Promise<void>)(uuid), rejectsWith('ERR_INVALID_OPTION'));
  await assert.rejects(tasker.prioritizeTask(uuid, undefined as never), rejectsWith('ERR_INVALID_OPTION'));
  assert.equal((await tasker.getTask(uuid)).priority, 5);
});

test('a store that cannot be opened rejects calls with ERR_STORE_OPEN_FAILED, with the cause', async (t) => {
  const dir = await tempDir(t);
  const isDirError = (error: Error & { code?: string; cause?: { code?: string } }) => {
    assert.equal(error.code, 'ERR_STORE_OPEN_FAILED');
    assert.equal(error.cause?.code, 'EISDIR');
    return true;
  };
  // snapshot.json is a directory.
  await mkdir(join(dir, 'snapshot-as-dir', 'snapshot.json'), { recursive: true });
  const snapshotAsDir = new Tasker({ persistDir: join(dir, 'snapshot-as-dir') });
  await assert.rejects(snapshotAsDir.getTask('x'), isDirError);
  // A journal is a directory.
  await mkdir(join(dir, 'journal-as-dir', 'journal-0.jsonl'), { recursive: true });
  const journalAsDir = new Tasker({ persistDir: join(dir, 'journal-as-dir') });
  await assert.rejects(journalAsDir.getTask('x'), isDirError);
  // persistDir is a file.
  await writeFile(join(dir, 'a-file'), 'not a directory');
  const asFile = new Tasker({ persistDir: join(dir, 'a-file') });
  await assert.rejects(asFile.start(), rejectsWith('ERR_STORE_OPEN_FAILED'));
  // A custom store whose load throws.
  const store: TaskStore = {
    load: async (): Promise<StoredTask[]> => {
      throw new Error('nope');
    },
    commit: async () => {},
    close: async () => {},
  };
  const custom = new Tasker({ store });
  await assert.rejects(custom.addTask({ operation: 'x' }), rejectsWith('ERR_STORE_OPEN_FAILED'));
  await assert.rejects(custom.onIdle(), rejectsWith('ERR_STORE_OPEN_FAILED'));
  // stop() and close() always resolve, so that shutdown paths never throw.
  for (const tasker of [custom, snapshotAsDir, journalAsDir, asFile]) {
    await tasker.stop();
    await tasker.close();
  }
  // The failed opens released their lock.
  assert.deepEqual(await readdir(join(dir, 'snapshot-as-dir')), ['snapshot.json']);
  assert.deepEqual(await readdir(join(dir, 'journal-as-dir')), ['journal-0.jsonl']);
});

test('onIdle rejects on a corrupt store; the file is left untouched', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'snapshot.json');
  const content = '{"format":"tasker-snapshot","version":1,"generation":0}\n{"task":{"uuid":1},"logs":[]}\n';
  await writeFile(file, content);
  const tasker = new Tasker({ persistDir: dir });
  await assert.rejects(tasker.onIdle(), rejectsWith('ERR_STORE_CORRUPT'));
  await tasker.stop();
  await tasker.close();
  assert.equal(await readFile(file, 'utf8'), content);
  assert.deepEqual(await readdir(dir), ['snapshot.json'], 'nothing else was written, and the lock was released');
});

test('the cause of an aborted task is an AbortError instance carrying its code, here and in the runner', async (t) => {
  const tasker = createTasker(t);
  tasker.assignRunner('reason', runner('report-abort-reason'));
  await tasker.start();
  const uuid = await tasker.addTask({ operation: 'reason' });
  const logged = new Promise<void>((resolve) => tasker.once(`task.${uuid}.log`, () => resolve()));
  await logged;
  await tasker.abortTask(uuid, 'enough');
  await assert.rejects(tasker.waitForTaskOutputData(uuid), (error: Error & { code?: string; cause?: unknown }) => {
    assert.equal(error.code, 'ERR_TASK_ABORTED');
    assert.ok(error.cause instanceof AbortError);
    assert.equal((error.cause as AbortError).code, 'ERR_TASK_ABORT_REQUESTED');
    assert.equal((error.cause as AbortError).message, 'enough');
    return true;
  });
  const task = await tasker.getTask(uuid, { withLogs: true });
  // The runner saw an AbortError from the package's own class, with the same code.
  assert.deepEqual(task.logs?.at(-1)?.data, { isAbortError: true, name: 'AbortError', code: 'ERR_TASK_ABORT_REQUESTED' });
});
