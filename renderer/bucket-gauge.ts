import type { JobSummary } from '../shared/dashboard';
import { formatBytes } from './format';

/** What the Cloud Storage gauge says (components/BucketGauge.tsx); kept apart from JSX so it is testable in Node. */
export interface BucketGaugeText {
  /** "Cloud Storage: gs://bucket/prefix" */
  title: string;
  /** Bytes of this job's objects in the bucket now (listed exactly, not yet listed estimated). */
  waitingBytes: number;
  label: string;
  waiting: string;
  downloaded: string;
}

export function bucketGaugeText(bucket: { bucket: string; prefix: string }, objects: JobSummary['drive'] | null): BucketGaugeText {
  const waitingBytes = (objects?.pendingBytes ?? 0) + (objects?.unlistedBytes ?? 0);
  const about = objects?.unlistedBytes ? '≈ ' : '';
  const files = objects?.pendingFiles ? ` · ${objects.pendingFiles} object${objects.pendingFiles === 1 ? '' : 's'}` : '';
  const unlisted = objects?.unlistedTiles ? ` + ${objects.unlistedTiles} tile${objects.unlistedTiles === 1 ? '' : 's'} not listed yet` : '';
  return {
    title: `Cloud Storage: gs://${bucket.bucket}${bucket.prefix ? `/${bucket.prefix}` : ''}`,
    waitingBytes,
    label: `${about}${formatBytes(waitingBytes)} of this job · no limit`,
    waiting: `${about}${formatBytes(waitingBytes)}${files}${unlisted}`,
    downloaded: formatBytes(objects?.downloadedBytes ?? 0),
  };
}
