import type { Readable } from 'node:stream';
import type { DriveFile, DriveQuota } from '../google/drive';
import type { LeaseDrive } from '../sync/lease';

/**
 * What the Drive destination needs from Drive (the real adapter: `Drive` in google/drive.ts). The lease
 * calls are optional: a test fake without them runs without a lease.
 */
export interface DrivePort extends Partial<Omit<LeaseDrive, 'remove'>> {
  listFolder(folderId: string): Promise<DriveFile[]>;
  download(fileId: string, start: number, signal?: AbortSignal): Promise<Readable>;
  remove(fileId: string): Promise<void>;
  trash(fileId: string): Promise<void>;
  quota(): Promise<DriveQuota>;
}
