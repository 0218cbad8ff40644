/**
 * Compile-time assertions for the type tests (test/types/*.test-d.ts), which
 * `npm run typecheck` checks and nothing runs. `expectType<Equal<A, B>>()`
 * compiles only if A and B are the same type; `// @ts-expect-error` marks a
 * line that must not compile (and fails the check once it compiles).
 */

/** True only when A and B are identical (not merely assignable either way). */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** True when A is assignable to B. */
export type Assignable<A, B> = [A] extends [B] ? true : false;

export type Not<T extends boolean> = T extends true ? false : true;

/** Compiles only if T is `true`. A no-op at run time. */
export function expectType<T extends true>(): T[] {
  return [];
}
