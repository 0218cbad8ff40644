/**
 * stop() flushes the committer, then compacts. A batch pushed while the
 * flush's batch was in flight is handed to the store (commit) before compact()
 * is; its callbacks (which put the added tasks in the registry) run in 1 ms
 * slices with setImmediate between them. A compact() that captured the live
 * state then, before they all ran, left those tasks in no snapshot and deleted
 * the journal that held them. The committer now runs compact() as a barrier.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JournalStore } from '../../dist/src/store/journal-store.js';
import { readStoreFiles } from '../helpers/store-files.js';
import { createTasker, tempDir } from '../helpers/tasker.js';

const T = { timeout: 60_000 };
const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const FIRST = 50;
const BURST = 3000;

test('tasks whose add was committed just before stop() compacts are on disk after it (compaction waits for every announced batch)', T, async (t) => {
  const dir = await tempDir(t);
  const store = new JournalStore(dir, { durability: 'none', logger: quiet });
  const tasker = createTasker(t, { store, onMissingRunner: 'queue' });
  await tasker.start();

  const adds: Promise<string>[] = [];
  let seen = 0;
  let burstMade = false;
  tasker.on('task.added', () => {
    seen++;
    // A listener that does some work (50 µs) for each task of the burst: their batch's callbacks take many 1 ms slices.
    if (seen > FIRST + 1) for (const until = performance.now() + 0.05; performance.now() < until; );
    if (seen === FIRST) {
      // The first batch is in flight and stop()'s flush is pending behind it: this add joins the flush's batch.
      adds.push(tasker.addTask({ operation: 'later', data: { trigger: true } }));
    } else if (seen === FIRST + 1 && !burstMade) {
      burstMade = true;
      // The flush's batch is in flight: a burst that makes the next batch, handed to the store before stop() compacts.
      for (let i = 0; i < BURST; i++) adds.push(tasker.addTask({ operation: 'later', data: { i } }));
    }
  });
  for (let i = 0; i < FIRST; i++) adds.push(tasker.addTask({ operation: 'later', data: { first: i } }));
  await tasker.stop();
  const uuids = await Promise.all(adds);
  assert.equal(uuids.length, FIRST + 1 + BURST, 'the burst was made');
  assert.ok(store.generation >= 1, 'stop() compacted');

  // What a crash now would find on disk: the snapshot and the journals it does not cover.
  const onDisk = readStoreFiles(dir);
  const missing = uuids.filter((uuid) => !onDisk.tasks.has(uuid));
  assert.equal(missing.length, 0, `${missing.length} of ${uuids.length} acknowledged adds are in no file on disk`);
});
