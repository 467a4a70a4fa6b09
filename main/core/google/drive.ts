import type { Readable } from 'node:stream';
import { drive as driveApi, type drive_v3 } from '@googleapis/drive';
import type { Session } from './session';

/** A file in Drive as Tessera needs it. */
export interface DriveFile {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly md5: string;
}

export interface DriveQuota {
  limit: number | null;
  usage: number;
  usageInDrive: number;
  usageInDriveTrash: number;
}

/** Drive v3 over `@googleapis/drive` (unmodified; `rootUrl` points it at the emulator). */
export class Drive {
  private readonly api: drive_v3.Drive;

  constructor(session: Session) {
    this.api = driveApi({ version: 'v3', auth: session.client, rootUrl: session.endpoints.driveRootUrl });
  }

  /**
   * Every file in a folder, all pages. No `name contains` filter: Drive matches it on name tokens, and
   * how it splits names at `_` and `-` is not documented, so names are matched locally instead.
   */
  async listFolder(folderId: string, maxPages = 100): Promise<DriveFile[]> {
    const q = `'${escapeQ(folderId)}' in parents and trashed = false`;
    const out: DriveFile[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const r = await this.api.files.list({ q, pageSize: 1000, pageToken, fields: 'nextPageToken, files(id, name, size, md5Checksum)', spaces: 'drive' });
      for (const f of r.data.files ?? []) {
        if (f.id && f.name && f.size != null && f.md5Checksum) out.push({ id: f.id, name: f.name, size: Number(f.size), md5: f.md5Checksum });
      }
      pageToken = r.data.nextPageToken ?? undefined;
      if (!pageToken) break;
    }
    return out;
  }

  /** The file's bytes from `start` on, as a stream (a `Range` request when resuming). */
  async download(fileId: string, start: number, signal?: AbortSignal): Promise<Readable> {
    const r = await this.api.files.get(
      { fileId, alt: 'media' },
      { responseType: 'stream', headers: start > 0 ? { Range: `bytes=${start}-` } : {}, signal, retry: false },
    );
    if (start > 0 && r.status !== 206) throw new Error(`Drive ignored the range request for ${fileId} (HTTP ${r.status})`);
    return r.data as unknown as Readable;
  }

  /** Permanent delete; a file already gone (404) counts as deleted. */
  async remove(fileId: string): Promise<void> {
    await ignoreNotFound(this.api.files.delete({ fileId }));
  }

  async trash(fileId: string): Promise<void> {
    await ignoreNotFound(this.api.files.update({ fileId, requestBody: { trashed: true } }));
  }

  async quota(): Promise<DriveQuota> {
    const r = await this.api.about.get({ fields: 'storageQuota' });
    const q = r.data.storageQuota ?? {};
    return {
      limit: q.limit == null ? null : Number(q.limit),
      usage: Number(q.usage ?? 0),
      usageInDrive: Number(q.usageInDrive ?? 0),
      usageInDriveTrash: Number(q.usageInDriveTrash ?? 0),
    };
  }
}

function escapeQ(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
}

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (httpStatus(e) === 404) return;
    throw e;
  }
}

export function httpStatus(e: unknown): number | undefined {
  const err = e as { status?: number; code?: number | string; response?: { status?: number } };
  const s = err.response?.status ?? err.status ?? (typeof err.code === 'number' ? err.code : undefined);
  return typeof s === 'number' ? s : undefined;
}
