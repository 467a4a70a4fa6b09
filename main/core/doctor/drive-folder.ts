import { drive as driveApi, type drive_v3 } from '@googleapis/drive';
import type { Session } from '../google/session';

/**
 * A read-only look at a job's Drive folder for `tessera doctor`: the folders of that name (Earth Engine
 * writes into the most recently modified one, docs/signin-and-doctor.md), their files with `createdTime`,
 * and a lease file's content. Nothing here writes, trashes or deletes.
 */
export interface FolderFile {
  readonly id: string;
  readonly name: string;
  readonly createdTime: string | null;
  readonly parent: string;
}

const FOLDER_MIME = 'application/vnd.google-apps.folder';

export class DriveFolderReader {
  private readonly api: drive_v3.Drive;

  constructor(session: Session) {
    this.api = driveApi({ version: 'v3', auth: session.client, rootUrl: session.endpoints.driveRootUrl });
  }

  /** Folders with exactly this name, not trashed, most recently modified first. */
  async foldersNamed(name: string): Promise<{ id: string; name: string }[]> {
    const r = await this.api.files.list({
      q: `name = '${escapeQ(name)}' and mimeType = '${FOLDER_MIME}' and trashed = false`,
      fields: 'files(id, name, modifiedTime)',
      orderBy: 'modifiedTime desc',
      pageSize: 100,
      spaces: 'drive',
    });
    return (r.data.files ?? []).flatMap((f) => (f.id && f.name ? [{ id: f.id, name: f.name }] : []));
  }

  /** Every file (not trashed) in a folder, all pages up to `maxPages` of 1000. */
  async files(folderId: string, maxPages = 100): Promise<FolderFile[]> {
    const out: FolderFile[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const r = await this.api.files.list({
        q: `'${escapeQ(folderId)}' in parents and trashed = false`,
        fields: 'nextPageToken, files(id, name, createdTime)',
        pageSize: 1000,
        pageToken,
        spaces: 'drive',
      });
      for (const f of r.data.files ?? []) if (f.id && f.name) out.push({ id: f.id, name: f.name, createdTime: f.createdTime ?? null, parent: folderId });
      pageToken = r.data.nextPageToken ?? undefined;
      if (!pageToken) break;
    }
    return out;
  }

  /** A small file's content as text (a lease), at most 64 KiB read. */
  async text(fileId: string): Promise<string> {
    const r = await this.api.files.get({ fileId, alt: 'media' }, { responseType: 'text' });
    return String(r.data).slice(0, 65_536);
  }
}

function escapeQ(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
}
