/**
 * An error the user can fix: bad input, a missing file, an unknown CRS. Front ends print its message as
 * one line (no stack trace) and, in the CLI, exit with `exitCode` (docs/states.md#exit-codes).
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 | 3 = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
