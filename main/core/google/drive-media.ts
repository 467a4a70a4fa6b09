import type { Readable } from 'node:stream';
import { request } from 'undici';
import { dispatcherFor } from '../net/http';
import type { Session } from './session';

/** An HTTP error from a media download, shaped like the Drive client's (`status`, `response.status`). */
export class DriveMediaError extends Error {
  readonly response: { status: number };
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.response = { status };
  }
}

/**
 * `files.get?alt=media` from `start` on, as a stream: the same request the Drive client sends, made with
 * undici directly (docs/performance.md, "Downloads"). The client's response path (node-fetch, a
 * PassThrough, per-chunk bookkeeping) costs about a second of CPU per GiB, as much as the rest of the
 * download's work on the receiving thread. Same sign-in (the session's bearer token, refreshed once
 * after a 401), same proxy rules (net/http.ts).
 */
export async function driveMedia(session: Session, fileId: string, start: number, signal?: AbortSignal): Promise<Readable> {
  const url = new URL(`drive/v3/files/${encodeURIComponent(fileId)}`, session.endpoints.driveRootUrl);
  url.searchParams.set('alt', 'media');
  for (let attempt = 0; ; attempt++) {
    const { token } = await session.accessToken(attempt > 0);
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (start > 0) headers.range = `bytes=${start}-`;
    const r = await request(url, { method: 'GET', headers, signal, dispatcher: dispatcherFor(url) });
    if (r.statusCode === 200 || r.statusCode === 206) {
      if (start > 0 && r.statusCode !== 206) {
        r.body.destroy();
        throw new Error(`Drive ignored the range request for ${fileId} (HTTP ${r.statusCode})`);
      }
      return r.body;
    }
    const text = await r.body.text().catch(() => '');
    if (r.statusCode === 401 && attempt === 0) continue;
    throw new DriveMediaError(`Drive refused the download of ${fileId}: HTTP ${r.statusCode} ${errorMessage(text)}`.trim(), r.statusCode);
  }
}

function errorMessage(body: string): string {
  try {
    const m = (JSON.parse(body) as { error?: { message?: string } }).error?.message;
    if (m) return m;
  } catch {
    // not JSON
  }
  return body.slice(0, 200);
}
