// resize.mjs — runs in a worker thread
export default async function resize({ data, logger, abortSignal }) {
  logger.info('resizing', { file: data.file });
  let checksum = 0;
  for (let i = 0; i < data.work; i++) {
    checksum = (checksum + i * 31) % 1_000_003; // stand-in for CPU-heavy work
    if (i % 1_000_000 === 0) abortSignal.throwIfAborted();
  }
  return { file: data.file, width: data.width, checksum };
}
