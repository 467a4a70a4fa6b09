/**
 * The error model's transport half (docs/ARCHITECTURE.md, "Errors"): what a refused call carries across
 * any transport — a status with HTTP's meaning and the one line the user reads. The errors that produce
 * it live in main/core/errors.ts (`TesseraError`: `UserError`, `RequestError`, the host's `HostError`),
 * each with a `status`; `refusalOf` is the one mapping that HTTP and IPC both use. On the page, every
 * refusal arrives as a `RemoteError` (the IPC bridge's `IpcCallError`, the renderer's `TransportError`).
 */
export interface Refusal {
  /** 400 bad request, 403 refused sender or origin, 404 unknown job/tile/channel, 409 conflict, 413/415 body, 500 unexpected. */
  readonly status: number;
  readonly message: string;
}

/** A 4xx `status` on the error is kept with its message; anything else is a 500 "unexpected error". */
export function refusalOf(e: unknown, context?: string): Refusal {
  const status = (e as { status?: unknown } | null)?.status;
  const message = e instanceof Error ? e.message : String(e);
  if (typeof status === 'number' && status >= 400 && status < 500) return { status, message };
  return { status: 500, message: `${context ? `${context}: ` : ''}unexpected error: ${message}` };
}

/** zod's complaint as one line (requests are checked with the channel's schema by every transport). */
export function invalidRequest(context: string, pretty: string): Refusal {
  return { status: 400, message: `${context}: invalid request: ${pretty.replace(/\s*\n\s*/g, '; ')}` };
}

/** A call the other side refused, as the page sees it: its status and its line. */
export class RemoteError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}
