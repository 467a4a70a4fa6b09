import type { FileBody } from './file-body';

/**
 * What a handler answers. Handlers never touch the socket: the same handler serves a plain request
 * and a part of a `/batch` request, and the faults (faults.ts) wrap replies from outside.
 */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** A file's bytes only for media downloads (never inside a batch). */
  body?: string | Buffer | FileBody;
  /** Set on media replies so faults (reset, truncate) know what they may cut. */
  media?: boolean;
  /** Destroy the connection instead of answering (a connection reset: a lost answer). */
  reset?: boolean;
  /**
   * Lost answers of `lostAnswerMode` close / timeout: close the connection cleanly (FIN) without a byte
   * ("other side closed"), or never answer at all (the client's timeout ends it; the emulator's stop too).
   */
  lost?: 'close' | 'timeout';
  /**
   * Send the headers (with the full Content-Length) and only the first `afterBytes` bytes of a media
   * body, then reset the connection (`reset`) or close it early (`truncate`).
   */
  cut?: { readonly afterBytes: number; readonly how: 'reset' | 'truncate' };
}

export const JSON_TYPE = 'application/json; charset=UTF-8';

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'Content-Type': JSON_TYPE, ...headers }, body: JSON.stringify(value) };
}

export function noContent(): Reply {
  return { status: 204, headers: {} };
}

/** google.rpc.Code names for the HTTP statuses Google maps them to. */
const RPC_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  412: 'FAILED_PRECONDITION',
  413: 'INVALID_ARGUMENT',
  416: 'OUT_OF_RANGE',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
};

export interface ErrorInfo {
  reason: string;
  domain?: string;
  metadata?: Record<string, string>;
}

/**
 * An error as Earth Engine's REST API (a One Platform API) writes it:
 * `{ error: { code, message, status, details? } }`. The EE client surfaces `message` verbatim.
 */
export function eeError(code: number, message: string, opts: { status?: string; info?: ErrorInfo; headers?: Record<string, string> } = {}): Reply {
  const error: Record<string, unknown> = { code, message, status: opts.status ?? RPC_STATUS[code] ?? 'UNKNOWN' };
  if (opts.info) {
    error.details = [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: opts.info.reason,
        domain: opts.info.domain ?? 'googleapis.com',
        metadata: opts.info.metadata ?? { service: 'earthengine.googleapis.com' },
      },
    ];
  }
  return json(code, { error }, opts.headers);
}

export interface DriveErrorItem {
  message?: string;
  domain?: string;
  reason: string;
  location?: string;
  locationType?: 'parameter' | 'header';
}

/**
 * An error as Drive v3 writes it: `{ error: { code, message, errors: [{ message, domain, reason,
 * location?, locationType? }] } }` (the legacy `errors` array is what clients match `reason` on).
 */
export function driveError(code: number, message: string, item: DriveErrorItem, opts: { status?: string; headers?: Record<string, string> } = {}): Reply {
  const errors = [{ message: item.message ?? message, domain: item.domain ?? 'global', reason: item.reason, ...(item.location ? { location: item.location, locationType: item.locationType ?? 'parameter' } : {}) }];
  const error: Record<string, unknown> = { code, message, errors };
  const status = opts.status ?? (code === 401 || code === 403 || code === 429 ? RPC_STATUS[code] : undefined);
  if (status) error.status = status;
  return json(code, { error }, opts.headers);
}

export function driveNotFound(fileId: string): Reply {
  return driveError(404, `File not found: ${fileId}.`, { reason: 'notFound', location: 'fileId', locationType: 'parameter' });
}

export function driveInvalid(location: string, message = 'Invalid Value', reason = 'invalid'): Reply {
  return driveError(400, message, { reason, location, locationType: 'parameter' });
}

/** An OAuth endpoint error (RFC 6749 §5.2), as Google's token endpoint writes it. */
export function oauthError(status: number, error: string, description: string): Reply {
  return json(status, { error, error_description: description }, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
}
