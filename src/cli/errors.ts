/**
 * CLI failures and their exit codes. Every command turns bad input or an unusable environment into one
 * of these; `main.ts` prints the message as ONE line on stderr and exits with `exitCode`.
 */

/** Exit codes of `xcc` (documented in docs/cli.md). */
export const ExitCode = {
  /** Done: the command finished what it was asked to do. */
  OK: 0,
  /** The command ran but its goal failed (e.g. `xcc call`: no node answered, the call never ended). */
  Failed: 1,
  /** Bad flags, unreadable files, or a NATS server that cannot be reached. */
  Usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the user can act on; its message is printed as-is on one line. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.Failed,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bad flags or files: exit 2. */
export function usageError(message: string, cause?: unknown): CliError {
  return new CliError(message, ExitCode.Usage, cause === undefined ? undefined : { cause });
}

/** One printable line for any thrown value (no stack, no newlines). */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
