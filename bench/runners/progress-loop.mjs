// Engine runner for bench/progress.mjs: a loop of data.iterations steps of
// trivial work, reporting progress on each step as data.mode says ('none',
// 'ratio': progress(i / n), 'done-total': progress({ done, total }, message));
// returns the time the loop took inside the worker.
export default ({ data, progress }) => {
  const n = data.iterations;
  let sum = 0;
  const start = performance.now();
  if (data.mode === 'none') {
    for (let i = 1; i <= n; i++) sum += i & 7;
  } else if (data.mode === 'ratio') {
    for (let i = 1; i <= n; i++) {
      sum += i & 7;
      progress(i / n);
    }
  } else {
    for (let i = 1; i <= n; i++) {
      sum += i & 7;
      progress({ done: i, total: n }, 'working');
    }
  }
  return { loopMs: performance.now() - start, sum };
};
