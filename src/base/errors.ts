// Errors a user can act on: one line that says what went wrong, with which file, and what to do.
// Anything else that escapes is a bug in coroner and is reported as such.

export class CoronerError extends Error {
  constructor(
    message: string,
    /** A short machine-readable kind: "not-elf", "truncated", "no-debuginfo", ... */
    readonly kind: string = 'error',
  ) {
    super(message);
    this.name = 'CoronerError';
  }
}

/** The one line to print for any error: a CoronerError as is, anything else as an internal error. */
export function errorLine(err: unknown): string {
  if (err instanceof CoronerError) return err.message;
  const message = err instanceof Error ? err.message : String(err);
  return `internal error: ${message.split('\n')[0]} (please report this with the core's details)`;
}

export function errorKind(err: unknown): string {
  return err instanceof CoronerError ? err.kind : 'internal';
}
