import { isDriveFullMessage } from '../../../shared/messages';
import { isTransientEeMessage } from '../google/transient';

/** What to do with a tile whose Earth Engine task failed, by EE's message. */
export type TaskFailureKind = 'split' | 'transient' | 'drive-full' | 'permanent';

export function classifyTaskFailure(message: string): TaskFailureKind {
  // "Too big" in Earth Engine's words (docs/ownership.md, "Wording"): split, do not retry.
  if (/^Computation timed out\.?$|User memory limit exceeded|Deadline expired before operation could complete|Too many concurrent aggregations/i.test(message)) {
    return /concurrent aggregations/i.test(message) ? 'transient' : 'split';
  }
  // Over a computePixels request's size limit (Google's words; Tessera's estimate uses them too): split.
  if (/^Total request size \(\d+ bytes|^Pixel grid dimensions \(\d+x\d+\) must be less than or equal to/.test(message)) return 'split';
  if (isDriveFullMessage(message)) return 'drive-full';
  return isTransientEeMessage(message) ? 'transient' : 'permanent';
}

/** Exponential back-off with ±50 % jitter, in seconds: 30 s, 60 s, 120 s … capped at 30 minutes. */
export function retryDelaySeconds(retry: number, random: () => number = Math.random): number {
  const base = Math.min(1800, 30 * 2 ** Math.max(0, retry - 1));
  return base * (0.5 + random());
}

/** The machine cannot reach Google at all (as opposed to one request failing). */
export function isOffline(e: unknown): boolean {
  const text = `${(e as { code?: unknown }).code ?? ''} ${e instanceof Error ? e.message : String(e)}`;
  return /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|ENETDOWN|connect ETIMEDOUT/.test(text);
}

/** Google no longer accepts the stored sign-in. */
export function isSignedOut(e: unknown): boolean {
  // A sign-in without the access a run needs (a box unticked at consent) is as good as none (auth/scopes.ts).
  if ((e as Error | undefined)?.name === 'MissingAccessError') return true;
  const text = e instanceof Error ? e.message : String(e);
  // The last: google-auth-library's words when the sign-in was removed (signed out) under a running job.
  return /invalid_grant|signed out|No access, refresh token, API key or refresh handler callback is set/.test(text);
}

/** The local disk, not the network, is the problem: full, read-only or not ours to write. */
export function localDiskProblem(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'the disk holding the output folder is full';
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'the output folder cannot be written';
  // The folder vanished or became a file (an unplugged external drive, a careless move).
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'the output folder cannot be written: it is gone or no longer a folder';
  return undefined;
}
