// CPU-heavy: hashes a string data.rounds times, reporting progress.
import { createHash } from 'node:crypto';

export default async function hashChain({ data, logger, progress }) {
  let digest = data.seed;
  const step = Math.ceil(data.rounds / 100);
  for (let i = 1; i <= data.rounds; i++) {
    digest = createHash('sha256').update(digest).digest('hex');
    if (i % step === 0) progress({ done: i, total: data.rounds }, digest.slice(0, 8));
    if (i % (data.rounds / 2) === 0) logger.info(`round ${i.toLocaleString('en-US')}`);
  }
  return digest.slice(0, 16);
}
