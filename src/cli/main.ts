#!/usr/bin/env node
/**
 * The `tasker` command: reads a Tasker store (list, show, logs, stats)
 * without changing it. Exit codes: see errors.ts and `tasker --help`.
 */
import { readFileSync } from 'node:fs';
import { GLOBAL_HELP, parseCommandLine, type ParsedArgs } from './args.js';
import { list } from './commands/list.js';
import { logs } from './commands/logs.js';
import { show } from './commands/show.js';
import { stats } from './commands/stats.js';
import { CliError, ExitCodes } from './errors.js';
import { Painter, useColour } from './format.js';
import type { Output } from './output.js';

async function main(argv: readonly string[]): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseCommandLine(argv);
  } catch (error) {
    if (error instanceof CliError && argv.length === 0) {
      process.stderr.write(`${GLOBAL_HELP}\n`);
      return error.exitCode;
    }
    return report(error);
  }
  const out: Output = {
    painter: new Painter(useColour(process.env, process.stdout.isTTY === true)),
    line: (text) => void process.stdout.write(`${text}\n`),
  };
  const interrupt = new AbortController();
  const onSigint = (): void => interrupt.abort();
  process.once('SIGINT', onSigint);
  try {
    switch (args.command) {
      case 'help':
        out.line(args.text);
        return ExitCodes.OK;
      case 'version':
        out.line(version());
        return ExitCodes.OK;
      case 'list':
        return await list(args, out);
      case 'show':
        return await show(args, out);
      case 'logs':
        return await logs(args, out, interrupt.signal);
      case 'stats':
        return await stats(args, out);
    }
  } catch (error) {
    return report(error);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function report(error: unknown): number {
  if (error instanceof CliError) {
    process.stderr.write(`tasker: ${error.message}\n`);
    return error.exitCode;
  }
  process.stderr.write(`tasker: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
  return 70; // EX_SOFTWARE: a bug of the CLI
}

function version(): string {
  // dist/src/cli/main.js → the package's package.json.
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return String(manifest.version);
}

// Let stdout drain (a pipe) before exiting; EPIPE (`tasker list | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(ExitCodes.OK);
  throw error;
});
process.exitCode = await main(process.argv.slice(2));
