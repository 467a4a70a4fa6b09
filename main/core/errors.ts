import type { WaitingReason } from '../../shared/tile-state';

/**
 * Tessera's error model (docs/ARCHITECTURE.md, "Errors"): every error meant for the user is a
 * `TesseraError` and carries what each front end needs to answer it — the one line to print (its
 * message), the CLI's exit code (docs/states.md#exit-codes), the HTTP-like `status` the dashboard and the
 * desktop app answer with (shared/errors.ts `refusalOf`), and, when it stops a run, the waiting reason.
 * Each transport maps it in one place: `main/cli/index.ts` (exit code), `main/server/server.ts` and
 * `shared/ipc.ts` `registerHandlers` (status, through `refusalOf`).
 */
export type ExitCode = 1 | 2 | 3;

export abstract class TesseraError extends Error {
  abstract readonly exitCode: ExitCode;
  /** A 4xx status with HTTP's meaning. */
  abstract readonly status: number;
  /** Why a run waits, when this error stops one (exit 3). */
  readonly waiting?: WaitingReason;

  constructor(message: string, waiting?: WaitingReason) {
    super(message);
    if (waiting) this.waiting = waiting;
  }
}

/**
 * An error the user can fix: bad input, a missing file, an unknown CRS, a sign-in to renew. Front ends
 * print its message as one line (no stack trace); the CLI exits with `exitCode`; over HTTP or IPC it is a 400.
 */
export class UserError extends TesseraError {
  readonly status = 400;

  constructor(
    message: string,
    readonly exitCode: ExitCode = 1,
    waiting?: WaitingReason,
  ) {
    super(message, waiting);
    this.name = 'UserError';
  }
}

/**
 * A request a dashboard or the desktop app refuses (a body too large, an unknown route, a host without a
 * wizard): `status` is what it answers with. Reaching the CLI, it is exit 1 like any bad input.
 */
export class RequestError extends TesseraError {
  readonly exitCode = 1;

  constructor(
    readonly status: 400 | 403 | 404 | 405 | 409 | 413 | 415,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

export function isTesseraError(e: unknown): e is TesseraError {
  return e instanceof TesseraError;
}
