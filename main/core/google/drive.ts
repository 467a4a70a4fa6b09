import { Readable } from 'node:stream';
import { drive as driveApi, type drive_v3 } from '@googleapis/drive';
import { driveMedia } from './drive-media';
import type { Session } from './session';

/** A file in Drive as Tessera needs it. */
export interface DriveFile {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly md5: string;
  /** Drive's `sha256Checksum` (hex) when it gave one: downloads are then verified by it (docs/performance.md, "Downloads"). */
  readonly sha256?: string;
  /** RFC 3339; what the ownership rule compares with the operation's createTime (docs/ownership.md). */
  readonly createdTime?: string;
}

/** A small text file Tessera keeps in Drive (the job's lease), with Drive's own modification time. */
export interface DriveTextFile {
  readonly id: string;
  readonly name: string;
  readonly modifiedTime?: string;
}

const FOLDER_MIME = 'application/vnd.google-apps.folder';

export interface DriveQuota {
  limit: number | null;
  usage: number;
  usageInDrive: number;
  usageInDriveTrash: number;
}

/** Drive v3 over `@googleapis/drive` (unmodified; `rootUrl` points it at the emulator). */
export class Drive {
  private readonly api: drive_v3.Drive;
  private readonly rootUrl: string | undefined;
  private readonly session: Session;

  constructor(session: Session) {
    this.session = session;
    this.rootUrl = session.endpoints.driveRootUrl;
    this.api = driveApi({ version: 'v3', auth: session.client, rootUrl: this.rootUrl });
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
      const r = await this.api.files.list({ q, pageSize: 1000, pageToken, fields: 'nextPageToken, files(id, name, size, md5Checksum, sha256Checksum, createdTime)', spaces: 'drive' });
      for (const f of r.data.files ?? []) {
        if (f.id && f.name && f.size != null && f.md5Checksum) {
          out.push({ id: f.id, name: f.name, size: Number(f.size), md5: f.md5Checksum, ...(f.sha256Checksum ? { sha256: f.sha256Checksum } : {}), ...(f.createdTime ? { createdTime: f.createdTime } : {}) });
        }
      }
      pageToken = r.data.nextPageToken ?? undefined;
      if (!pageToken) break;
    }
    return out;
  }

  /** The file's bytes from `start` on, as a stream (a `Range` request when resuming); see drive-media.ts. */
  download(fileId: string, start: number, signal?: AbortSignal): Promise<Readable> {
    return driveMedia(this.session, fileId, start, signal);
  }

  /** Permanent delete; a file already gone (404) counts as deleted. */
  async remove(fileId: string): Promise<void> {
    await ignoreNotFound(this.api.files.delete({ fileId }));
  }

  async trash(fileId: string): Promise<void> {
    await ignoreNotFound(this.api.files.update({ fileId, requestBody: { trashed: true } }));
  }

  /**
   * The folder Earth Engine exports to under this name: the most recently modified folder of that name
   * (not trashed), as EE picks it (docs/ownership.md, "Lease"). Undefined when there is none.
   */
  async findFolder(name: string): Promise<string | undefined> {
    const q = `name = '${escapeQ(name)}' and mimeType = '${FOLDER_MIME}' and trashed = false`;
    const r = await this.api.files.list({ q, pageSize: 100, orderBy: 'modifiedTime desc', fields: 'files(id, name)', spaces: 'drive' });
    return r.data.files?.find((f) => f.id && f.name === name)?.id ?? undefined;
  }

  /** A folder at the root of My Drive: where EE itself would create a missing export folder. */
  async createFolder(name: string): Promise<string> {
    const r = await this.api.files.create({ requestBody: { name, mimeType: FOLDER_MIME, parents: ['root'] }, fields: 'id' });
    if (!r.data.id) throw new Error(`Drive created the folder ${name} without an id`);
    return r.data.id;
  }

  /** Files of one exact name in a folder (not trashed). */
  async findByName(folderId: string, name: string): Promise<DriveTextFile[]> {
    const q = `'${escapeQ(folderId)}' in parents and name = '${escapeQ(name)}' and trashed = false`;
    const r = await this.api.files.list({ q, pageSize: 100, fields: 'files(id, name, modifiedTime)', spaces: 'drive' });
    return (r.data.files ?? []).flatMap((f) => (f.id && f.name === name ? [{ id: f.id, name: f.name, ...(f.modifiedTime ? { modifiedTime: f.modifiedTime } : {}) }] : []));
  }

  /** Creates a small JSON file with content (one multipart upload). */
  async createText(folderId: string, name: string, text: string): Promise<string> {
    const r = await this.api.files.create(
      { requestBody: { name, parents: [folderId], mimeType: 'application/json' }, media: { mimeType: 'application/json', body: Readable.from([Buffer.from(text)]) }, fields: 'id' },
      // The generated client builds its upload URL from call options only.
      this.rootUrl ? { rootUrl: this.rootUrl } : {},
    );
    if (!r.data.id) throw new Error(`Drive created ${name} without an id`);
    return r.data.id;
  }

  /** Replaces a small file's content (files.update with media). */
  async updateText(fileId: string, text: string): Promise<void> {
    await this.api.files.update(
      { fileId, media: { mimeType: 'application/json', body: Readable.from([Buffer.from(text)]) }, fields: 'id' },
      this.rootUrl ? { rootUrl: this.rootUrl } : {},
    );
  }

  /** A small file's content as text; undefined when it is gone. */
  async readText(fileId: string): Promise<string | undefined> {
    try {
      const r = await this.api.files.get({ fileId, alt: 'media' }, { responseType: 'text' });
      return typeof r.data === 'string' ? r.data : JSON.stringify(r.data);
    } catch (e) {
      if (httpStatus(e) === 404) return undefined;
      throw e;
    }
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
