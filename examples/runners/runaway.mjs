// A runner gone wrong: a CPU-bound loop that never yields and ignores its abort signal.
export default function runaway({ logger }) {
  logger.warning('entering an infinite loop');
  for (;;) {}
}
