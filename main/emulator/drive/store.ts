import { mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IdFactory } from '../random';

export const FOLDER_MIME = 'application/vnd.google-apps.folder';
/** md5 of zero bytes: what Drive reports for an empty binary file. */
const EMPTY_MD5 = 'd41d8cd98f00b204e9800998ecf8427e';

/**
 * One Drive file or folder. Plain data only (no methods, no handles) so part 2 can journal it as is.
 * Times are simulated epoch milliseconds (the emulator's clock, docs/emulator.md#simulated-clock), so they compare with
 * the operations' times as Google's do.
 */
export interface DriveFile {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  /** Bytes; null for folders (Drive reports no size for them). */
  size: number | null;
  md5Checksum: string | null;
  /**
   * Drive's `sha1Checksum` / `sha256Checksum` (hex digests of the content), filled in by contentDigests()
   * the first time a request selects them and kept from then on (absent in states saved before them).
   */
  sha1Checksum?: string;
  sha256Checksum?: string;
  description: string | null;
  trashed: boolean;
  /** False when the file is in the trash only because an ancestor folder was trashed. */
  explicitlyTrashed: boolean;
  trashedTime: number | null;
  createdTime: number;
  modifiedTime: number;
  /** Set when deleted permanently (files stay listed in /__emulator/state). */
  deletedAt: number | null;
  /** File name of the bytes inside the store's folder (the id); null for folders. */
  blob: string | null;
}

export interface DriveQuota {
  limit: number | null;
  usage: number;
  usageInDriveTrash: number;
}

/**
 * My Drive of the one emulated user: metadata in memory, bytes on disk (one file per Drive file, never
 * held in memory). Every byte of a file that is not permanently deleted counts against the quota,
 * trashed ones included, as on Drive.
 */
export class DriveStore {
  readonly root: DriveFile;
  private readonly files = new Map<string, DriveFile>();
  private readonly childrenOf = new Map<string, Set<string>>();
  private usage = 0;
  private trashUsage = 0;
  /** Files changed since the last takeChanged() (persistence journals them). */
  private changed = new Set<DriveFile>();
  /**
   * With persistence, the bytes of deleted files are unlinked only after the deletion is on disk
   * (drainUnlinks), so a crash never leaves a file whose bytes are gone.
   */
  deferUnlinks = false;
  private unlinks: string[] = [];
  /** Digests being computed, so two requests for the same file read it once. */
  private readonly digesting = new Map<DriveFile, Promise<void>>();

  constructor(
    readonly blobDir: string,
    private readonly ids: IdFactory,
    private readonly quotaLimit: () => number | null,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(blobDir, { recursive: true });
    const t = now();
    this.root = {
      id: ids.driveRootId(), name: 'My Drive', mimeType: FOLDER_MIME, parents: [], size: null, md5Checksum: null,
      description: null, trashed: false, explicitlyTrashed: false, trashedTime: null, createdTime: t, modifiedTime: t,
      deletedAt: null, blob: null,
    };
  }

  /** A live (not permanently deleted) file; `root` names the root folder, as in Drive. */
  get(id: string): DriveFile | undefined {
    if (id === 'root' || id === this.root.id) return this.root;
    const f = this.files.get(id);
    return f && f.deletedAt === null ? f : undefined;
  }

  /** Every file ever created, deleted ones included, in creation order (not the root). */
  everything(): IterableIterator<DriveFile> {
    return this.files.values();
  }

  /** Live files, root excluded: what files.list searches. */
  *live(): Generator<DriveFile> {
    for (const f of this.files.values()) if (f.deletedAt === null) yield f;
  }

  /** Live children of a folder. */
  *children(folderId: string): Generator<DriveFile> {
    const id = folderId === 'root' ? this.root.id : folderId;
    for (const c of this.childrenOf.get(id) ?? []) {
      const f = this.files.get(c);
      if (f && f.deletedAt === null) yield f;
    }
  }

  /** Marks a file changed by a caller that set one of its fields directly (e.g. `description`). */
  markChanged(file: DriveFile): void {
    if (file !== this.root) this.changed.add(file);
  }

  /** Files changed since the last call. */
  takeChanged(): DriveFile[] {
    if (this.changed.size === 0) return [];
    const out = [...this.changed];
    this.changed = new Set();
    return out;
  }

  /** Replaces everything with a persisted state (files in creation order). */
  restore(root: DriveFile, files: readonly DriveFile[]): void {
    Object.assign(this.root, root);
    this.files.clear();
    this.childrenOf.clear();
    this.usage = 0;
    this.trashUsage = 0;
    for (const f of files) {
      this.files.set(f.id, { ...f });
      if (f.deletedAt !== null) continue;
      for (const p of f.parents) this.link(f.id, p);
      if (f.size !== null) {
        this.usage += f.size;
        if (f.trashed) this.trashUsage += f.size;
      }
    }
  }

  /** Unlinks the bytes of files deleted since the last call. */
  drainUnlinks(): void {
    const paths = this.unlinks;
    this.unlinks = [];
    // An open download keeps reading an unlinked file; nothing waits for the unlink.
    for (const p of paths) unlink(p).catch(() => undefined);
  }

  /**
   * Fills in the file's SHA-1 and SHA-256 (one read of its bytes; files without content have none).
   * Drive has them from the upload on; the emulator computes them when first asked, which only costs time.
   */
  contentDigests(file: DriveFile): Promise<void> {
    const path = this.blobPath(file);
    if (path === null || file.sha256Checksum !== undefined) return Promise.resolve();
    let pending = this.digesting.get(file);
    if (!pending) {
      const md5 = file.md5Checksum;
      pending = digestsOf(path)
        .then((d) => {
          if (file.md5Checksum !== md5) return; // the content was replaced meanwhile: that read is stale
          file.sha1Checksum = d.sha1;
          file.sha256Checksum = d.sha256;
          this.markChanged(file);
        })
        .catch(() => undefined) // deleted meanwhile: nothing to report
        .finally(() => this.digesting.delete(file));
      this.digesting.set(file, pending);
    }
    return pending;
  }

  blobPath(file: DriveFile): string | null {
    return file.blob === null ? null : join(this.blobDir, file.blob);
  }

  quota(): DriveQuota {
    return { limit: this.quotaLimit(), usage: this.usage, usageInDriveTrash: this.trashUsage };
  }

  /** Bytes still free, or Infinity without a limit. */
  freeBytes(): number {
    const limit = this.quotaLimit();
    return limit === null ? Number.POSITIVE_INFINITY : limit - this.usage;
  }

  createFolder(name: string, parentId: string): DriveFile {
    return this.insert({ id: this.ids.driveFileId(), name, mimeType: FOLDER_MIME, parentId, size: null, md5Checksum: null, blob: null, description: null });
  }

  /** A file without content (files.create without media): zero bytes, as Drive makes it. */
  async createEmpty(name: string, mimeType: string, parentId: string, description: string | null): Promise<DriveFile> {
    const id = this.ids.driveFileId();
    await writeFile(join(this.blobDir, id), '');
    return this.insert({ id, name, mimeType, parentId, size: 0, md5Checksum: EMPTY_MD5, blob: id, description });
  }

  /** A file uploaded with content (files.create with media); the caller checked the quota. */
  async createWithContent(name: string, mimeType: string, parentId: string, bytes: Buffer, md5: string): Promise<DriveFile> {
    const id = this.ids.driveFileId();
    await writeFile(join(this.blobDir, id), bytes);
    return this.insert({ id, name, mimeType, parentId, size: bytes.length, md5Checksum: md5, blob: id, description: null });
  }

  /** files.update with media: new bytes for an existing file (the lease's heartbeat); the caller checked the quota. */
  async replaceContent(file: DriveFile, bytes: Buffer, md5: string): Promise<void> {
    if (file.blob === null) throw new Error(`${file.id} is a folder`);
    await writeFile(join(this.blobDir, file.blob), bytes);
    const before = file.size ?? 0;
    this.usage += bytes.length - before;
    if (file.trashed) this.trashUsage += bytes.length - before;
    file.size = bytes.length;
    file.md5Checksum = md5;
    delete file.sha1Checksum;
    delete file.sha256Checksum;
    file.modifiedTime = this.now();
    this.markChanged(file);
  }

  /** Moves a finished file (e.g. an export output) into Drive; it counts against the quota from now on. */
  async adopt(srcPath: string, name: string, mimeType: string, parentId: string, size: number, md5: string): Promise<DriveFile> {
    const id = this.ids.driveFileId();
    await rename(srcPath, join(this.blobDir, id));
    return this.insert({ id, name, mimeType, parentId, size, md5Checksum: md5, blob: id, description: null });
  }

  /**
   * Where Earth Engine puts an export with this folder name: the folder of that name wherever it is,
   * the most recently modified when several exist, a new one at the root when none does. The name is
   * literal ('a/b' is one name). An empty name means the root.
   */
  exportFolder(name: string): DriveFile {
    if (name === '') return this.root;
    let best: DriveFile | undefined;
    for (const f of this.live()) {
      if (f.mimeType !== FOLDER_MIME || f.trashed || f.name !== name) continue;
      // Ties (same millisecond) go to the later created: live() yields in creation order.
      if (!best || f.modifiedTime >= best.modifiedTime) best = f;
    }
    return best ?? this.createFolder(name, this.root.id);
  }

  rename(file: DriveFile, name: string): void {
    file.name = name;
    file.modifiedTime = this.now();
    this.markChanged(file);
  }

  move(file: DriveFile, parentId: string): void {
    for (const p of file.parents) this.childrenOf.get(p)?.delete(file.id);
    file.parents = [parentId];
    this.link(file.id, parentId);
    this.markChanged(file);
  }

  /** Trash or restore; a folder takes its descendants along (they are not "explicitly" trashed). */
  setTrashed(file: DriveFile, trashed: boolean): void {
    const t = this.now();
    if (trashed) {
      if (!file.trashed) this.markTrashed(file, t, true);
      else {
        file.explicitlyTrashed = true;
        this.markChanged(file);
      }
      for (const d of this.descendants(file)) if (!d.trashed) this.markTrashed(d, t, false);
    } else {
      this.markRestored(file);
      for (const d of this.descendants(file)) if (d.trashed && !d.explicitlyTrashed) this.markRestored(d);
    }
  }

  /** Permanent delete, descendants included. Bytes are unlinked in the background. */
  delete(file: DriveFile): void {
    const t = this.now();
    for (const f of [...this.descendants(file), file]) {
      if (f.deletedAt !== null) continue;
      f.deletedAt = t;
      if (f.size !== null) {
        this.usage -= f.size;
        if (f.trashed) this.trashUsage -= f.size;
      }
      for (const p of f.parents) this.childrenOf.get(p)?.delete(f.id);
      this.markChanged(f);
      const path = this.blobPath(f);
      if (path) this.unlinks.push(path);
    }
    if (!this.deferUnlinks) this.drainUnlinks();
  }

  /** files.emptyTrash: every trashed file, permanently. */
  emptyTrash(): number {
    const trashed = [...this.live()].filter((f) => f.trashed);
    for (const f of trashed) this.delete(f);
    return trashed.length;
  }

  private *descendants(folder: DriveFile): Generator<DriveFile> {
    if (folder.mimeType !== FOLDER_MIME) return;
    const stack = [folder.id];
    while (stack.length) {
      const id = stack.pop() as string;
      for (const c of this.children(id)) {
        yield c;
        if (c.mimeType === FOLDER_MIME) stack.push(c.id);
      }
    }
  }

  private markTrashed(f: DriveFile, t: number, explicit: boolean): void {
    this.markChanged(f);
    f.trashed = true;
    f.explicitlyTrashed = explicit;
    f.trashedTime = t;
    if (f.size !== null) this.trashUsage += f.size;
  }

  private markRestored(f: DriveFile): void {
    if (!f.trashed) return;
    this.markChanged(f);
    f.trashed = false;
    f.explicitlyTrashed = false;
    f.trashedTime = null;
    if (f.size !== null) this.trashUsage -= f.size;
  }

  private insert(p: { id: string; name: string; mimeType: string; parentId: string; size: number | null; md5Checksum: string | null; blob: string | null; description: string | null }): DriveFile {
    const t = this.now();
    const parent = p.parentId === 'root' ? this.root.id : p.parentId;
    const f: DriveFile = {
      id: p.id, name: p.name, mimeType: p.mimeType, parents: [parent], size: p.size, md5Checksum: p.md5Checksum,
      description: p.description, trashed: false, explicitlyTrashed: false, trashedTime: null, createdTime: t, modifiedTime: t,
      deletedAt: null, blob: p.blob,
    };
    this.files.set(f.id, f);
    this.markChanged(f);
    this.link(f.id, parent);
    if (f.size !== null) this.usage += f.size;
    return f;
  }

  private link(id: string, parentId: string): void {
    let set = this.childrenOf.get(parentId);
    if (!set) this.childrenOf.set(parentId, (set = new Set()));
    set.add(id);
  }
}

async function digestsOf(path: string): Promise<{ sha1: string; sha256: string }> {
  const sha1 = createHash('sha1');
  const sha256 = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    sha1.update(chunk);
    sha256.update(chunk);
  }
  return { sha1: sha1.digest('hex'), sha256: sha256.digest('hex') };
}
