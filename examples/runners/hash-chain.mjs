// CPU-heavy: hashes a string data.rounds times.
import { createHash } from 'node:crypto';

export default async function hashChain({ data, logger }) {
  let digest = data.seed;
  for (let i = 1; i <= data.rounds; i++) {
    digest = createHash('sha256').update(digest).digest('hex');
    if (i % (data.rounds / 2) === 0) logger.info(`round ${i.toLocaleString('en-US')}`);
  }
  return digest.slice(0, 16);
}
