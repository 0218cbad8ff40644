// CPU-heavy: counts the primes below data.limit, reporting progress and logging as it goes.
export default async function countPrimes({ data, logger, progress, abortSignal }) {
  let count = 0;
  const step = Math.ceil(data.limit / 100);
  for (let n = 2; n < data.limit; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
    if (n % step === 0) {
      progress({ done: n, total: data.limit }, `${count.toLocaleString('en-US')} primes`);
      if (n % (step * 25) === 0) logger.info(`checked ${n.toLocaleString('en-US')} numbers`, { count });
      abortSignal.throwIfAborted();
    }
  }
  return count;
}
