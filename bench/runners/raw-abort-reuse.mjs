// Raw piscina baseline for bench/abort-reuse.mjs: the same bodies as
// runners/abort-reuse.mjs, picked by `task.kind` (piscina passes the task itself).
import { threadId } from 'node:worker_threads';
import { spin } from './cpu-spin-body.mjs';

export default (task) => {
  switch (task.kind) {
    case 'forever':
      for (;;) {}
    case 'addOne':
      return task.n + 1;
    case 'hold': {
      const began = performance.timeOrigin + performance.now();
      spin(task.ms);
      return { threadId, began };
    }
    default:
      throw new Error(`unknown kind ${task.kind}`);
  }
};
