import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoreChange, StoredTask, TaskStore } from 'tasker';
import { runner } from '../helpers/fixtures.js';
import { createTasker } from '../helpers/tasker.js';

/** A store whose next commits can be made to fail; it records what it was asked to write. */
class FlakyStore implements TaskStore {
  failNext = 0;
  readonly committed: StoreChange[] = [];
  async load(): Promise<StoredTask[]> {
    return [];
  }
  async commit(changes: readonly StoreChange[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    }
    this.committed.push(...changes);
  }
  async close(): Promise<void> {}
}

test('an addTask whose write fails rejects with ERR_STORE_WRITE_FAILED and leaves no task behind', async (t) => {
  const store = new FlakyStore();
  const errors: unknown[][] = [];
  const tasker = createTasker(t, {
    store,
    logger: { error: (...args: unknown[]) => errors.push(args), warn() {}, info() {}, debug() {} },
  });
  tasker.assignRunner('echo', runner('echo'));
  const added: string[] = [];
  tasker.on('task.added', (uuid) => added.push(uuid));
  await tasker.start();

  store.failNext = 1;
  await assert.rejects(tasker.addTask({ operation: 'echo', data: 'lost' }), (error: NodeJS.ErrnoException) => {
    assert.equal(error.code, 'ERR_STORE_WRITE_FAILED');
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENOSPC');
    return true;
  });
  assert.equal(await tasker.countTasks({}), 0);
  assert.deepEqual(added, []);
  assert.equal(errors.length, 1, 'the failure is reported to the logger');

  // The engine keeps going: the next task is stored, runs, and ends done.
  const uuid = await tasker.addTask({ operation: 'echo', data: 'kept' });
  assert.equal(await tasker.waitForTaskOutputData(uuid), 'kept');
  assert.deepEqual(added, [uuid]);
  const removed = store.committed.filter((change) => change.type === 'remove');
  assert.equal(removed.length, 1, 'the failed task is removed from the store too');
  assert.equal(await tasker.countTasks({}), 1);
});
