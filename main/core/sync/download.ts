import type { DriveFile } from '../google/drive';
import { InlineHasher, WorkerHasher, type ContentHasher } from './md5-hasher';
import { downloadChecked, matchesCheck, type DownloadCheck, type FetchBytes } from './verified-download';

export { VerificationError, type FetchBytes } from './verified-download';

/** Files from this size on are hashed on a worker thread (below it, starting one costs more than it saves). */
export const WORKER_HASH_FROM = 32 << 20;

/** A Drive file as a download needs it: what Drive listed (its journaled record has the same fields). */
export type DriveDownload = Pick<DriveFile, 'id' | 'name' | 'size' | 'md5' | 'sha256'>;

/**
 * A Drive file is checked by its size and by its SHA-256 when Drive gave one (`sha256Checksum`, hex), else
 * by its MD5 (`md5Checksum`). Both are Drive's digest of the whole content; SHA-256 is the stronger one
 * and, with the CPU's SHA extensions, ~2.5× faster to compute here (docs/performance.md, "Downloads").
 */
export function driveCheck(file: DriveDownload): DownloadCheck {
  const algorithm = file.sha256 ? 'sha256' : 'md5';
  const expected = file.sha256 ?? file.md5;
  const label = file.sha256 ? 'SHA-256' : 'MD5';
  return {
    name: file.name,
    size: file.size,
    source: 'Drive',
    hasher: (): ContentHasher => (file.size >= WORKER_HASH_FROM ? new WorkerHasher(algorithm) : new InlineHasher(algorithm)),
    mismatch: async (h) => {
      const got = await h.digest();
      return got === expected ? undefined : `${label} ${got} does not match Drive's ${expected}`;
    },
  };
}

/**
 * Downloads one Drive file into `path`, resumable and verified by size and checksum before it is renamed
 * into place (sync/verified-download.ts, the routine shared with Cloud Storage). Returns the bytes transferred.
 */
export function downloadVerified(file: DriveDownload, path: string, fetchBytes: FetchBytes, onChunk?: () => void): Promise<number> {
  return downloadChecked(driveCheck(file), path, fetchBytes, onChunk);
}

/** True when `path` holds exactly the Drive file (size and checksum). */
export function matches(path: string, file: DriveDownload): Promise<boolean> {
  return matchesCheck(path, driveCheck(file));
}
