import assert from 'node:assert/strict';
import { BroadcastChannel } from 'node:worker_threads';
import { test } from 'node:test';
import { Tasker, type TaskerOptions } from 'tasker';
import { rejectsWith } from '../helpers/assertions.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { runner } from '../helpers/fixtures.js';
import { readStoreFiles } from '../helpers/store-files.js';
import { createTasker, tempDir } from '../helpers/tasker.js';

const T = { timeout: 20_000 };

/** Resolves with the uuids of the next `count` task.removed events, in order. */
function removals(tasker: Tasker, count: number): Promise<string[]> {
  const seen: string[] = [];
  return new Promise((resolve) => {
    const on = (uuid: string): void => {
      seen.push(uuid);
      if (seen.length === count) {
        tasker.off('task.removed', on);
        resolve(seen);
      }
    };
    tasker.on('task.removed', on);
  });
}

/** Adds a task and waits until it has ended (done or failed), whatever its outcome. */
async function runToEnd(tasker: Tasker, def: Parameters<Tasker['addTask']>[0]): Promise<string> {
  const uuid = await tasker.addTask(def);
  await tasker.waitForTaskOutputData(uuid).catch(() => {});
  return uuid;
}

const ids = async (tasker: Tasker): Promise<string[]> => (await tasker.findTasks({})).map((task) => task.uuid).sort();

test('maxAge: ended tasks are removed once endedAt + maxAge has passed, at the next sweep, with task.removed', T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { clock, retention: { maxAge: 1000, interval: 500 } });
  tasker.assignRunner('echo', runner('echo'));
  await tasker.start();
  const a = await runToEnd(tasker, { operation: 'echo', data: 1 });
  clock.advance(300);
  const b = await runToEnd(tasker, { operation: 'echo', data: 2 });
  clock.advance(200); // +500: a sweep, nothing is 1000 ms old yet
  assert.deepEqual(await ids(tasker), [a, b].sort());
  const first = removals(tasker, 1);
  clock.advance(500); // +1000: a is due
  assert.deepEqual(await first, [a]);
  await assert.rejects(tasker.getTask(a), rejectsWith('ERR_TASK_NOT_FOUND'));
  const second = removals(tasker, 1);
  clock.advance(500); // +1500: b (ended at +300) is due
  assert.deepEqual(await second, [b]);
  assert.equal(await tasker.countTasks(), 0);
  await tasker.stop();
  assert.equal(clock.pendingTimers, 0, 'stop clears the retention timer');
});

test('maxCount keeps the newest N ended tasks of each status', T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { clock, maxThreads: 1, retention: { maxCount: { done: 2, failed: 1 }, interval: 1000 } });
  tasker.assignRunner('echo', runner('echo'));
  tasker.assignRunner('fail', runner('fail'));
  // Aborted while new, before start: the aborted status has no count, so it is kept.
  const aborted = await tasker.addTask({ operation: 'echo', data: 'never' });
  await tasker.abortTask(aborted);
  await tasker.start();
  const done: string[] = [];
  const failed: string[] = [];
  for (let i = 0; i < 4; i++) {
    done.push(await runToEnd(tasker, { operation: 'echo', data: i }));
    clock.advance(1); // distinct endedAt; no sweep due before +1000
    if (i < 3) failed.push(await runToEnd(tasker, { operation: 'fail' }));
    clock.advance(1);
  }
  assert.equal(await tasker.countTasks(), 8);
  const removed = removals(tasker, 4);
  clock.advance(1000);
  assert.deepEqual((await removed).sort(), [done[0]!, done[1]!, failed[0]!, failed[1]!].sort());
  assert.deepEqual(await ids(tasker), [aborted, done[2]!, done[3]!, failed[2]!].sort());
});

test('a per-task maxAge overrides the tasker maxAge, and works without any tasker retention', T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { clock, retention: { maxAge: 1000, interval: 1000 } });
  tasker.assignRunner('echo', runner('echo'));
  await tasker.start();
  const longer = await runToEnd(tasker, { operation: 'echo', retention: { maxAge: 5000 } });
  const usual = await runToEnd(tasker, { operation: 'echo' });
  const shorter = await runToEnd(tasker, { operation: 'echo', retention: { maxAge: 0 } });
  assert.deepEqual((await tasker.getTask(longer)).retention, { maxAge: 5000 }, 'stored on the task');
  const firstTwo = removals(tasker, 2);
  clock.advance(1000);
  assert.deepEqual((await firstTwo).sort(), [usual, shorter].sort());
  const last = removals(tasker, 1);
  clock.advance(4000);
  assert.deepEqual(await last, [longer]);

  const clock2 = new FakeClock();
  const bare = createTasker(t, { clock: clock2 });
  bare.assignRunner('echo', runner('echo'));
  await bare.start();
  const kept = await runToEnd(bare, { operation: 'echo' });
  const own = await runToEnd(bare, { operation: 'echo', retention: { maxAge: 10 } });
  const gone = removals(bare, 1);
  clock2.advance(60_000); // the default interval
  assert.deepEqual(await gone, [own]);
  assert.deepEqual(await ids(bare), [kept]);
});

test('running and new tasks are never removed, whatever the policy', T, async (t) => {
  const clock = new FakeClock();
  const tasker = createTasker(t, { clock, maxThreads: 1, retention: { maxAge: 0, maxCount: 0, interval: 100 } });
  tasker.assignRunner('gate', runner('gate'));
  tasker.assignRunner('echo', runner('echo'));
  await tasker.start();
  const channelName = `retention-${process.pid}-${Date.now()}`;
  const started = new Promise((resolve) => tasker.once('task.log', resolve));
  const running = await tasker.addTask({ operation: 'gate', data: { channel: channelName, name: 'g' }, retention: { maxAge: 0 } });
  await started;
  const queued = await tasker.addTask({ operation: 'echo', retention: { maxAge: 0 } });
  for (let i = 0; i < 5; i++) clock.advance(100);
  assert.deepEqual(await ids(tasker), [running, queued].sort());
  assert.equal((await tasker.getTask(running)).status, 'running');
  assert.equal((await tasker.getTask(queued)).status, 'new');
  const both = removals(tasker, 2);
  const channel = new BroadcastChannel(channelName);
  channel.postMessage('release');
  channel.close();
  await tasker.waitForTaskOutputData(queued);
  clock.advance(100);
  assert.deepEqual((await both).sort(), [running, queued].sort());
});

test('retention removals are stored: removed tasks stay gone after a restart; a restart sweeps at start()', T, async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock();
  const options = (more: TaskerOptions = {}): TaskerOptions => ({ persistDir: dir, clock, maxThreads: 1, ...more });

  // 1. No tasker retention: the tasks are kept; `a` carries its own maxAge in its document.
  const first = new Tasker(options());
  first.assignRunner('echo', runner('echo'));
  await first.start();
  const a = await runToEnd(first, { operation: 'echo', retention: { maxAge: 5000 } });
  clock.advance(1);
  const b = await runToEnd(first, { operation: 'echo' });
  clock.advance(1);
  const c = await runToEnd(first, { operation: 'echo' });
  await first.close();

  // 2. Reopened later with maxCount: start() sweeps what the load indexed.
  clock.advance(10_000);
  const second = new Tasker(options({ retention: { maxCount: { done: 1 } } }));
  t.after(() => second.close());
  assert.equal(await second.countTasks(), 3, 'a tasker opened only to read removes nothing');
  const swept = removals(second, 2);
  await second.start();
  assert.deepEqual((await swept).sort(), [a, b].sort(), 'a by its stored maxAge, b beyond the newest done');
  await second.close();
  assert.deepEqual([...readStoreFiles(dir).tasks.keys()], [c], 'the removals are on disk');

  // 3. Reopened without retention: still gone.
  const third = new Tasker(options());
  t.after(() => third.close());
  assert.deepEqual(await ids(third), [c]);
});

test('bad retention options throw ERR_INVALID_OPTION; a bad task retention rejects ERR_INVALID_TASK', async (t) => {
  const bad: unknown[] = [
    null,
    5,
    { maxAge: -1 },
    { maxAge: Infinity },
    { maxAge: '1000' },
    { maxCount: -1 },
    { maxCount: 1.5 },
    { maxCount: { done: -1 } },
    { maxCount: { running: 1 } },
    { maxCount: [1] },
    { interval: 0 },
    { interval: 2 ** 31 },
    { interval: NaN },
    { unknown: 1 },
  ];
  for (const retention of bad) {
    assert.throws(() => new Tasker({ retention } as TaskerOptions), rejectsWith('ERR_INVALID_OPTION', (error) => {
      assert.ok(error.message.includes('retention'), error.message);
    }), JSON.stringify(retention));
  }
  const tasker = createTasker(t);
  tasker.assignRunner('echo', runner('echo'));
  for (const retention of [null, 1, { maxAge: -5 }, { maxAge: NaN }, { maxCount: 1 }, { interval: 10 }, { other: 1 }]) {
    await assert.rejects(tasker.addTask({ operation: 'echo', retention } as never), rejectsWith('ERR_INVALID_TASK'), JSON.stringify(retention));
  }
  assert.equal(await tasker.countTasks(), 0);
});
