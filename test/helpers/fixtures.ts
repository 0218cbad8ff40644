import { fileURLToPath } from 'node:url';

/** Absolute path of a runner fixture in test/fixtures/runners. */
export function runner(name: string): string {
  return fileURLToPath(new URL(`../fixtures/runners/${name}.mjs`, import.meta.url));
}
