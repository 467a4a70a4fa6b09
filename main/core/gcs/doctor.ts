import type { Job } from '../job/job-file';
import { leaseFileName, parseLease, LEASE_STALE_MS } from '../sync/lease';
import { jobFolder } from './location';
import type { GcsPort } from './port';

/** `[status, one line]` as doctor's checks take them. */
type Verdict = ['ok' | 'warn' | 'fail', string];

/** A service account's address (Google's `…@….iam.gserviceaccount.com`). */
export function isServiceAccountEmail(email: string | undefined): boolean {
  return !!email && /\.gserviceaccount\.com$/.test(email);
}

/**
 * doctor's `drive` check for a service account whose job exports to Drive (docs/service-accounts.md): its
 * exports land in the service account's own small Drive, which no person sees — steer it to a bucket.
 */
export function serviceAccountDriveWarning(email: string): Verdict {
  return ['warn', `signed in as the service account ${email}: Drive exports land in its own small Drive, not yours; give the job "destination": { "type": "gcs", "bucket": …, "prefix": … } instead`];
}

/**
 * doctor's `folder` check for a Cloud Storage job (docs/cloud-storage.md): the bucket answers, and no live
 * lease of another run is in the prefix. Read-only.
 */
export async function gcsFolderVerdict(gcs: GcsPort, job: Job, now: number): Promise<Verdict> {
  const at = job.gcs!;
  const where = jobFolder(at.bucket, at.prefix);
  const url = `gs://${at.bucket}/${where.folder}`;
  let objects;
  try {
    objects = await gcs.list(at.bucket, `${where.folder}`);
  } catch (e) {
    const status = (e as { code?: unknown }).code;
    if (status === 404) return ['fail', `the bucket ${at.bucket} does not exist (or this account cannot see it): create it, or fix "destination.bucket"`];
    if (status === 403) return ['fail', `this account may not list ${url}: grant it "Storage Object Admin" on the bucket`];
    throw e;
  }
  const leaseName = `${where.folder}${leaseFileName(job.name)}`;
  const lease = objects.find((o) => o.name === leaseName);
  if (lease) {
    const text = (await gcs.readText(at.bucket, leaseName).catch(() => undefined))?.text;
    const content = text === undefined ? undefined : parseLease(text);
    const beat = content ? Date.parse(content.heartbeatAt) : Number.NaN;
    if (!Number.isNaN(beat) && now - beat < LEASE_STALE_MS) return ['fail', `another run holds this job: ${content!.host} (pid ${content!.pid}), its heartbeat ${Math.round((now - beat) / 60_000)} min ago; a run here would stop (locked) — stop that one first`];
    return ['warn', `a stale lease is in ${url}; the next run takes it over`];
  }
  const ours = objects.filter((o) => o.name.startsWith(`${where.folder}${job.name}_`)).length;
  return ['ok', `${url} answers${ours ? `; ${ours} object${ours === 1 ? '' : 's'} of this job wait there to be downloaded` : ''}`];
}
