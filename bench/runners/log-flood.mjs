// Engine runner for bench/log-flood.mjs: logs `data.lines` lines as fast as it
// can, then returns the time the loop took inside the worker.
export default ({ data, logger }) => {
  const start = performance.now();
  for (let i = 0; i < data.lines; i++) logger.info(`line ${i}`);
  return { loopMs: performance.now() - start };
};
