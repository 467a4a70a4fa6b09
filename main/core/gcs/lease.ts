import type { DriveTextFile } from '../google/drive';
import type { LeaseDrive } from '../sync/lease';
import { statusOf } from './client';
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
      // Google's client does not retry a delete without a generation precondition (not idempotent to it),
      // and a run gives its lease back only once, at its end: a lost answer or a 429/5xx is tried again
      // here, a few times (a 404 after a lost answer counts as done in gcs.remove).
      for (let attempt = 1; ; attempt++) {
        try {
          return await gcs.remove(at.bucket, id);
        } catch (e) {
          const status = statusOf(e);
          const transient = status === undefined || status === 408 || status === 429 || status >= 500;
          if (!transient || attempt >= 4) throw e;
          await new Promise((r) => setTimeout(r, 250 * attempt));
        }
      }
    },
  };
}
