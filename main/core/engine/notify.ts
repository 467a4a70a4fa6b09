import type { RunOutcome } from './runner';
import { httpFetch } from '../net/http';

/**
 * Tells a webhook how a headless run ended (done, failed tiles, or needs the user). Best effort: a
 * webhook that is down must not turn a finished job into a failed one. Bounded to 10 seconds.
 */
export async function notifyWebhook(url: string, job: string, outcome: RunOutcome): Promise<string | undefined> {
  const status = outcome.needsUser ? 'needs-user' : outcome.failed.length ? 'failed' : outcome.exitCode === 0 ? 'done' : 'stopped';
  const body = {
    job,
    status,
    exitCode: outcome.exitCode,
    tiles: outcome.progress.tiles,
    total: outcome.progress.total,
    failed: outcome.failed.slice(0, 100),
    message: outcome.needsUser?.message ?? null,
    at: new Date().toISOString(),
  };
  try {
    const r = await httpFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    return r.ok ? undefined : `the webhook answered HTTP ${r.status}`;
  } catch (e) {
    return `the webhook could not be reached (${(e as Error).message})`;
  }
}
