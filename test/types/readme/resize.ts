// resize.ts — a runner module (compiled to resize.js), run in a worker thread
import { defineRunner } from 'tasker';

export default defineRunner<{ file: string; width: number }, { file: string; bytes: number }>(async ({ data, logger }) => {
  logger.info('resizing', { file: data.file });
  return { file: data.file, bytes: data.width * 3 };
});
