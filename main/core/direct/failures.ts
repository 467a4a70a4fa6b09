/**
 * What a failed computePixels request means (docs/direct-download.md#failures):
 * - `computation-limit`: Earth Engine gave up on the computation (its interactive time or memory limit):
 *   `auto` sends the unit to a batch export, `direct` lets the failure policy split it;
 * - `too-large`: over the per-request size limit: split (the estimate should have caught it);
 * - `throttled`: 429, too many requests at once: the concurrency limiter backs off, the same attempt is sent again;
 * - `lost`: no HTTP answer (reset, close, timeout, DNS) or a 5xx/408: sent again after a back-off, never a failure;
 * - `signed-out`: 401 after a refresh;
 * - `permanent`: any other 4xx: the request itself is wrong.
 */
export type DirectFailureKind = 'computation-limit' | 'too-large' | 'throttled' | 'lost' | 'signed-out' | 'permanent';

export class DirectRequestError extends Error {
  constructor(
    message: string,
    /** The HTTP status, or null when no answer came. */
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'DirectRequestError';
  }
}

const COMPUTATION_LIMIT = /^Computation timed out\.?$|User memory limit exceeded|Deadline expired before operation could complete/i;
const TOO_LARGE = /^Total request size \(\d+ bytes|^Pixel grid dimensions \(\d+x\d+\) must be less than or equal to/;

export function classifyDirectFailure(e: unknown): DirectFailureKind {
  if (!(e instanceof DirectRequestError)) return 'lost';
  const { status, message } = e;
  if (status === null || status === 408 || status >= 500) return 'lost';
  if (status === 429) return 'throttled';
  if (status === 401) return 'signed-out';
  if (COMPUTATION_LIMIT.test(message)) return 'computation-limit';
  if (TOO_LARGE.test(message)) return 'too-large';
  return 'permanent';
}
