import type { Job } from '../job/job-file';
import type { JobRepository } from '../job/repository';
import { UserError } from '../errors';
import { isSignedOut } from './failures';
import { notifyWebhook } from './notify';
import { summarizeTiles } from './progress';
import type { RunOutcome } from './runner';

/**
 * A run that cannot even start because of its sign-in (Google refused the refresh token, a needed box was
 * unticked at consent) stops as one that loses it midway does: the job waits `signed-out`, so
 * `tessera status` and the dashboard say why, and its webhook is told it needs the user (exit 3). Other
 * errors are left alone. Answers the webhook's problem, if any, for a warning.
 */
export async function stopSignedOutBeforeRun(job: Job, repo: JobRepository, e: unknown): Promise<string | undefined> {
  if (!(e instanceof UserError && e.exitCode === 3 && isSignedOut(e))) return undefined;
  await repo.append({ type: 'meta', patch: { waiting: 'signed-out' } });
  if (!job.webhook) return undefined;
  const s = summarizeTiles(Object.values(repo.state.tiles));
  const outcome: RunOutcome = {
    exitCode: 3,
    progress: {
      job: job.name, total: s.total, tiles: s.tiles, queued: 0, running: 0, waiting: 'signed-out',
      throughputPerHour: s.throughputPerHour, etaSeconds: s.etaSeconds, bytesDownloaded: 0, finished: false,
    },
    failed: [],
    needsUser: { reason: 'signed-out', message: e.message },
  };
  return notifyWebhook(job.webhook, job.name, outcome);
}
