import { TesseraError, UserError } from '../errors';
import { EarthEngineError } from '../google/earthengine';
import { isOffline } from './failures';

/**
 * The requests a run makes before its loop starts or after it ended (docs/transient-start.md): the Earth
 * Engine client's start-up request, the listing of the job's operations, the job's lease. The loop's guard
 * retries a hiccup next cycle; these have no next cycle, so each is tried a few times with doubling pauses,
 * and a hiccup that outlasts them stops the run with exit 3 and one line (nothing was sent or deleted, and
 * running again resumes) — never as an "unexpected error".
 */

/** A failure worth another try: 408, 429, a 5xx, a dropped or refused connection, a transient EE message. */
export function isTransientRequestError(e: unknown): boolean {
  if (e instanceof TesseraError) return false;
  if (e instanceof EarthEngineError) return e.transient;
  const status = httpStatusOf(e);
  if (status !== undefined) return status === 408 || status === 429 || status >= 500;
  const message = e instanceof Error ? e.message : String(e);
  return isOffline(e) || /ECONNRESET|ETIMEDOUT|EPIPE|socket hang up|other side closed|premature close|aborted|timeout/i.test(message);
}

/** What stops the run when `what` kept failing with a transient error: exit 3, waiting `offline`. */
export function stoppedByHiccup(what: string, e: unknown, tries: number): UserError {
  const cause = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim().slice(0, 300);
  return new UserError(`${what} failed ${tries} times in a row (${cause}); nothing was sent or deleted — run the same command again later to resume`, 3, 'offline');
}

export interface StartRetryOptions {
  /** Attempts in all (at least 1). */
  tries: number;
  /** The first pause (real ms, already scaled for a time-scaled emulator); each next one doubles. */
  firstPauseMs: number;
  pause(ms: number): Promise<void>;
  /** One line before each pause. */
  warn(message: string): void;
  /** Which failures are tried again (default: the transient ones); any other is passed on at once. */
  retryable?: (e: unknown) => boolean;
}

/**
 * `step`, tried again after a retryable (by default transient) failure, at most `tries` times; any other
 * failure is passed on at once, and a transient one that outlasts the tries becomes `stoppedByHiccup`.
 */
export async function withStartRetries<T>(what: string, step: () => Promise<T>, o: StartRetryOptions): Promise<T> {
  let pause = o.firstPauseMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (e) {
      if (!(o.retryable ?? isTransientRequestError)(e)) throw e;
      if (attempt >= o.tries) throw isTransientRequestError(e) ? stoppedByHiccup(what, e, attempt) : e;
      o.warn(`${what} failed (${(e as Error).message}); trying again in ${(pause / 1000).toFixed(1)} s`);
      await o.pause(pause);
      pause *= 2;
    }
  }
}

/** The HTTP status of a Google client error: `code` (Cloud Storage's ApiError, gaxios), `status`, `response.status`. */
function httpStatusOf(e: unknown): number | undefined {
  const x = e as { code?: unknown; status?: unknown; response?: { status?: unknown } } | null;
  for (const v of [x?.code, x?.status, x?.response?.status]) if (typeof v === 'number' && v >= 100 && v < 600) return v;
  return undefined;
}
