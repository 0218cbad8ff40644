// main.mjs
import { Tasker } from 'tasker';

const tasker = new Tasker({ persistDir: process.argv[2] ?? null, maxThreads: 2 });
tasker.assignRunner('resize', new URL('./resize.mjs', import.meta.url));
await tasker.start();

const uuid = await tasker.addTask({
  operation: 'resize',
  data: { file: 'photo.jpg', width: 640, work: 5_000_000 },
  priority: 10,
  runTimeout: 10_000,
});
for await (const log of tasker.listenTaskLogs(uuid, { fromBeginning: true })) {
  console.log(`[${log.level}] ${log.message}`);
}
console.log(await tasker.waitForTaskOutputData(uuid));
await tasker.close(); // stop, and release the store
