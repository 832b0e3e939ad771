/**
 * What one CLI command is. Each lives in `cli/commands/<name>.ts` and is registered in
 * `cli/commands/index.ts`; `cli/main.ts` dispatches on the first argument.
 */

/** Where a command writes. Tests pass collectors; the binary passes the process streams. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Whether `err` is a terminal (progress bars redraw in place only then). */
  readonly interactive: boolean;
  readonly env: NodeJS.ProcessEnv;
}

export interface CliCommand {
  readonly name: string;
  /** One line for `omnihub help`. */
  readonly summary: string;
  /** The full usage text for `omnihub <name> --help`. */
  readonly usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Turns an `ARG_*` error from `node:util` parseArgs into a UsageError. */
export function asUsageError(error: unknown): unknown {
  if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
    return new UsageError(error.message);
  }
  return error;
}
