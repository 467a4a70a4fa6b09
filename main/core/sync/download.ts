import type { DriveFile } from '../google/drive';
import { InlineMd5, WorkerMd5, type Md5Hasher } from './md5-hasher';
import { downloadChecked, matchesCheck, type DownloadCheck, type FetchBytes } from './verified-download';

export { VerificationError, type FetchBytes } from './verified-download';

/** Files from this size on are hashed on a worker thread (below it, starting one costs more than it saves). */
export const WORKER_HASH_FROM = 32 << 20;

/** A Drive file is checked by its size and MD5 (hex, as Drive reports `md5Checksum`). */
export function driveCheck(file: DriveFile): DownloadCheck {
  return {
    name: file.name,
    size: file.size,
    source: 'Drive',
    hasher: (): Md5Hasher => (file.size >= WORKER_HASH_FROM ? new WorkerMd5() : new InlineMd5()),
    mismatch: async (h) => {
      const md5 = await h.digest();
      return md5 === file.md5 ? undefined : `MD5 ${md5} does not match Drive's ${file.md5}`;
    },
  };
}

/**
 * Downloads one Drive file into `path`, resumable and verified by size and MD5 before it is renamed into
 * place (sync/verified-download.ts, the routine shared with Cloud Storage). Returns the bytes transferred.
 */
export function downloadVerified(file: DriveFile, path: string, fetchBytes: FetchBytes, onChunk?: () => void): Promise<number> {
  return downloadChecked(driveCheck(file), path, fetchBytes, onChunk);
}

/** True when `path` holds exactly the Drive file (size and MD5). */
export function matches(path: string, file: DriveFile): Promise<boolean> {
  return matchesCheck(path, driveCheck(file));
}
