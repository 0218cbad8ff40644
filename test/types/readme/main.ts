// main.ts
import { Tasker, type Runner, type RunnerOf, type TaskId } from 'tasker';

type Runners = {
  resize: RunnerOf<typeof import('./resize.js')>; // { file, width } → { file, bytes }
  sum: Runner<[number, number], number>; // a runner written in JavaScript, typed here
};

const tasker = new Tasker<Runners>({ maxThreads: 2 });
tasker.assignRunner('resize', new URL('./resize.js', import.meta.url));
tasker.assignRunner('sum', new URL('./sum.mjs', import.meta.url));
await tasker.start();

const id = await tasker.addTask({ operation: 'resize', data: { file: 'photo.jpg', width: 640 } }); // TaskId<'resize'>
const { bytes } = await tasker.waitForTaskOutputData(id); // { file: string; bytes: number }
const task = await tasker.getTask(id); // Task<{ file: string; width: number }, { file: string; bytes: number }, 'resize'>
const total: number = await tasker.waitForTaskOutputData(await tasker.addTask({ operation: 'sum', data: [1, 2] }));

const uuid: string = id; // say, a uuid kept in your database
const either = await tasker.waitForTaskOutputData(uuid); // number | { file: string; bytes: number }
const known = await tasker.waitForTaskOutputData(uuid as TaskId<'resize'>); // { file: string; bytes: number }

// @ts-expect-error — 'resise' is not an operation of Runners
await tasker.addTask({ operation: 'resise', data: { file: 'photo.jpg', width: 640 } });
// @ts-expect-error — data.width is missing
await tasker.addTask({ operation: 'resize', data: { file: 'photo.jpg' } });
console.log(bytes, task.data?.width, total, either, known.bytes);
await tasker.close();
