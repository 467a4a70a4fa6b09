import type { NewJobRequest } from '../../../shared/dashboard';

/** The wizard's destination step: a Drive folder, or a Cloud Storage bucket and prefix (docs/cloud-storage.md). */
export interface DestinationChoice {
  destType: 'drive' | 'gcs';
  drive: string;
  bucket: string;
  prefix: string;
}

/** The job file's destination keys for the choice: `drive.folder`, or `destination: { type: "gcs", bucket, prefix }`. */
export function destinationOf(v: DestinationChoice): Pick<NewJobRequest['job'], 'drive' | 'destination'> {
  if (v.destType === 'gcs') return { destination: { type: 'gcs', bucket: v.bucket.trim().replace(/^gs:\/\//, ''), prefix: v.prefix.trim() } };
  return { drive: { folder: v.drive.trim() } };
}

/** Google's service accounts are named `…@….iam.gserviceaccount.com` (docs/service-accounts.md). */
export function isServiceAccount(email: string | null | undefined): boolean {
  return !!email && /\.gserviceaccount\.com$/i.test(email);
}

/** Why a service-account job should go to a bucket (docs/service-accounts.md). */
export const SERVICE_ACCOUNT_NOTE =
  'Signed in as a service account: its Drive exports land in its own small Drive, not yours. Export to a Cloud Storage bucket instead.';
