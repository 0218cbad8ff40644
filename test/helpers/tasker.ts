import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Tasker, type TaskerOptions } from 'tasker';

/** A Tasker closed automatically when the test ends (which also releases its store's lock). */
export function createTasker(t: TestContext, options: TaskerOptions = {}): Tasker {
  const tasker = new Tasker({ maxThreads: 2, abortGraceMs: 200, ...options });
  t.after(() => tasker.close());
  return tasker;
}

/** A fresh directory removed when the test ends. */
export async function tempDir(t: TestContext, prefix = 'tasker-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
