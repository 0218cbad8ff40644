/**
 * The CLI's exit codes and the error that carries one. Every failure the CLI
 * reports is a `CliError`: its message goes to stderr, its code is the exit code.
 */
export const ExitCodes = {
  OK: 0,
  /** No task has this uuid (or it was removed while `logs --follow` watched it). */
  NOT_FOUND: 1,
  /** A bad command, flag or argument. */
  USAGE: 2,
  /** The store cannot be read: missing directory, not a store, corrupt file. */
  STORE: 3,
  /** `logs --follow` interrupted by SIGINT (128 + 2, as shells report it). */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A usage error, with the hint to the command's help. */
export function usageError(message: string, command?: string): CliError {
  return new CliError(ExitCodes.USAGE, `${message}\nRun 'tasker${command === undefined ? '' : ` ${command}`} --help' for usage.`);
}
