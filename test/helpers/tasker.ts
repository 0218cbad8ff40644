import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Tasker, type TaskerOptions } from 'tasker';

/** A Tasker closed automatically when the test ends (which also releases its store's lock). */
export function createTasker(t: TestContext, options: TaskerOptions = {}): Tasker {
  const tasker = new Tasker({ maxThreads: 2, abortGraceMs: 200, ...options });
  t.after(() => closeWithin(tasker, CLOSE_LIMIT_MS));
  return tasker;
}

/** Generous: a close that takes this long is a hang, and must fail the test rather than keep its process alive. */
const CLOSE_LIMIT_MS = 30_000;

/** Closes the tasker, failing loudly if that does not finish in `ms`. */
export async function closeWithin(tasker: Tasker, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`tasker.close() did not finish within ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    await Promise.race([tasker.close(), limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** A fresh directory removed when the test ends. */
export async function tempDir(t: TestContext, prefix = 'tasker-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
