/**
 * Type tests of `defineRunner` and of the helpers that derive a runner map's
 * entry from a runner or a runner module. Checked by `npm run typecheck`, never run.
 */
import { defineRunner, type Runner, type RunnerContext, type RunnerData, type RunnerOf, type RunnerResult } from 'tasker';
import { expectType, type Assignable, type Equal } from './assert-type.js';

// Explicit types: ctx.data is typed, the returned value is checked.
const sum = defineRunner<{ a: number; b: number }, number>(async (ctx) => {
  ctx.logger.info('summing', { a: ctx.data.a });
  ctx.abortSignal.throwIfAborted();
  return ctx.data.a + ctx.data.b;
});
expectType<Equal<typeof sum, Runner<{ a: number; b: number }, number>>>();

// A synchronous runner is a runner too.
const sync = defineRunner<string, number>(({ data }) => data.length);
expectType<Equal<RunnerResult<typeof sync>, number>>();

// Inferred from an annotated ctx.
const inferred = defineRunner(async (ctx: RunnerContext<{ file: string }>) => ({ bytes: ctx.data.file.length }));
expectType<Equal<typeof inferred, Runner<{ file: string }, { bytes: number }>>>();

// @ts-expect-error: the runner must resolve with a number
export const wrongResult = defineRunner<{ a: number }, number>(async (ctx) => String(ctx.data.a));
// @ts-expect-error: data has no field b
export const wrongField = defineRunner<{ a: number }, number>(async (ctx) => ctx.data.b);
// @ts-expect-error: a runner takes one ctx, not two arguments
export const twoArguments = defineRunner<{ a: number }, number>(async (ctx: RunnerContext<{ a: number }>, extra: number) => ctx.data.a + extra);

// A defined runner is its own map entry, and RunnerOf gives the same one.
expectType<Assignable<typeof sum, Runner<{ a: number; b: number }, number>>>();
expectType<Equal<RunnerOf<typeof sum>, Runner<{ a: number; b: number }, number>>>();

// From a module: its default export, or a named export.
type SumModule = { default: typeof sum; product: (ctx: RunnerContext<number[]>) => Promise<number> };
expectType<Equal<RunnerOf<SumModule>, Runner<{ a: number; b: number }, number>>>();
expectType<Equal<RunnerOf<SumModule['product']>, Runner<number[], number>>>();
// The JavaScript fixture typed with defineRunner and JSDoc (// @ts-check).
type Fixture = typeof import('../fixtures/runners/typed-sum.mjs');
expectType<Equal<RunnerOf<Fixture>, Runner<{ terms: number[] }, { total: number }>>>();
expectType<Equal<RunnerOf<Fixture['length']>, Runner<{ text: string }, number>>>();
expectType<Equal<RunnerOf<number>, never>>();

// What a runner reads and what its task stores.
expectType<Equal<RunnerData<typeof sum>, { a: number; b: number }>>();
expectType<Equal<RunnerResult<typeof sum>, number>>();
expectType<Equal<RunnerResult<Runner<string, void>>, null>>();
expectType<Equal<RunnerResult<Runner<string, number | undefined>>, number | null>>();
expectType<Equal<RunnerResult<() => Promise<Promise<string>>>, string>>();
