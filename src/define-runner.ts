/**
 * `defineRunner`: types a runner module's export. It is the identity at run
 * time and this module imports nothing at run time. A runner module that
 * imports it from `tasker` (in a worker thread) loads the package's entry
 * once per thread: its modules have no side effects at import.
 */
import type { JsonValue, Runner } from './types.js';

/**
 * Returns `runner` as it is, typed as `Runner<Data, Result>`:
 * `export default defineRunner<{ a: number }, number>(async (ctx) => ctx.data.a)`.
 * Without type arguments, `Data` and `Result` are inferred from an annotated
 * `ctx` (`async (ctx: RunnerContext<{ a: number }>) => …`).
 * `typeof` the export is then the runner's entry in a tasker's runner map.
 */
export function defineRunner<Data = JsonValue, Result = unknown>(runner: Runner<Data, Result>): Runner<Data, Result> {
  return runner;
}
