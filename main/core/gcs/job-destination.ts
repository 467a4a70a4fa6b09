import { UserError } from '../errors';

/** A job's Cloud Storage destination (docs/job-file.md, "destination"): `{ type: "gcs", bucket, prefix }`. */
export interface GcsDestination {
  readonly bucket: string;
  /** '' or `a/b` (no slash at either end). */
  readonly prefix: string;
}

/**
 * Checks `destination.bucket` and `destination.prefix` with one line naming what is wrong. Bucket names
 * follow Cloud Storage's rules (3–63 lower-case letters, digits, `-`, `_`, `.`; a letter or digit at both
 * ends); the prefix becomes the start of every object name, so it may not hold `..`, `//`, `#`, `?`,
 * control characters or a leading slash.
 */
export function parseGcsDestination(d: { bucket?: string; prefix?: string; folder?: string }, cleanup: string): GcsDestination {
  if (d.folder !== undefined) throw new UserError('job file: a Cloud Storage destination has "bucket" and "prefix", not "folder"');
  const bucket = d.bucket;
  if (bucket === undefined) throw new UserError('job file: "destination.bucket" is missing: name the Cloud Storage bucket the exports go to, e.g. "bucket": "my-bucket"');
  const b = bucket.replace(/^gs:\/\//, '');
  if (!/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(b) || b.includes('..')) {
    throw new UserError(`job file: "destination.bucket" ("${bucket}") is not a Cloud Storage bucket name: 3–63 lower-case letters, digits, "-", "_" or ".", starting and ending with a letter or digit`);
  }
  const prefix = (d.prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((p) => p === '' || p === '.' || p === '..') && prefix !== '' || /[#?[\]*\u0000-\u001f\u007f]/.test(prefix)) {
    throw new UserError(`job file: "destination.prefix" ("${d.prefix}") must be a plain path such as "tessera/bavaria" (no "..", "//", "#", "?", "[", "]", "*" or control characters)`);
  }
  if (prefix.length > 900) throw new UserError('job file: "destination.prefix" is too long (Cloud Storage object names end at 1024 bytes)');
  if (cleanup === 'trash') throw new UserError('job file: "cleanup": "trash" does not exist in Cloud Storage; use "delete" (after each verified download) or "keep"');
  return { bucket: b, prefix };
}
