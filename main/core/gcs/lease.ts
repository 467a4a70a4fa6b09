import type { DriveTextFile } from '../google/drive';
import type { LeaseDrive } from '../sync/lease';
import type { GcsFolder } from './location';
import type { GcsPort } from './port';

/**
 * The job's lease as an object in its prefix (docs/ownership.md, "Lease"): the lease logic of
 * sync/lease.ts (heartbeats, staleness, take-over) over Cloud Storage instead of Drive. The "folder" is
 * the prefix's folder; a new lease is written only when no object has its name (ifGenerationMatch=0), so
 * two runs starting at once cannot both take it.
 */
export function leaseStorage(gcs: GcsPort, at: GcsFolder): LeaseDrive {
  const full = (name: string): string => `${at.folder}${name}`;
  return {
    findFolder: async () => at.folder,
    createFolder: async () => at.folder,
    async findByName(_folder: string, name: string): Promise<DriveTextFile[]> {
      const objects = await gcs.list(at.bucket, full(name));
      return objects.filter((o) => o.name === full(name)).map((o) => ({ id: o.name, name, ...(o.updated ? { modifiedTime: o.updated } : {}) }));
    },
    async createText(_folder: string, name: string, text: string): Promise<string> {
      await gcs.writeText(at.bucket, full(name), text, '0');
      return full(name);
    },
    async updateText(id: string, text: string): Promise<void> {
      await gcs.writeText(at.bucket, id, text);
    },
    async readText(id: string): Promise<string | undefined> {
      return (await gcs.readText(at.bucket, id))?.text;
    },
    async remove(id: string): Promise<void> {
      await gcs.remove(at.bucket, id);
    },
  };
}
