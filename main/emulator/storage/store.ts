import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';

/**
 * Cloud Storage of the emulator (main/emulator/README.md, "Cloud Storage"): buckets named by the
 * `buckets` option, objects with Google's metadata (`md5Hash`, `crc32c` base64, `timeCreated` from the
 * simulated clock, a `generation` per write), bytes on disk one file per object version. Every object
 * ever written stays in `state()` (deleted ones with `deletedAt`), as Drive files do.
 */
export interface StoredObject {
  bucket: string;
  name: string;
  /** Google's generation: a new one for each write of the same name. */
  generation: string;
  size: number;
  /** Base64 MD5; null for composite objects (Google gives them only a CRC32C). */
  md5Hash: string | null;
  /** Base64 of the big-endian CRC32C (RFC 4960 Appendix B). */
  crc32c: string;
  contentType: string;
  /** Set on composite objects (they have no MD5). */
  componentCount: number | null;
  /** The user's custom metadata (`metadata` of the objects resource), when an upload gave any. */
  metadata?: Record<string, string>;
  /** Simulated epoch ms. */
  timeCreated: number;
  updated: number;
  deletedAt: number | null;
  /** File name of the bytes in the blob folder. */
  blob: string;
}

const INDEX_FILE = 'objects.json';

export class ObjectStore {
  private readonly objects: StoredObject[] = [];
  /** Live objects by `bucket/name`. */
  private readonly live = new Map<string, StoredObject>();
  private seq = 0;

  constructor(
    readonly blobDir: string,
    private readonly buckets: () => readonly string[],
    private readonly now: () => number,
    /** With a data folder the index is kept on disk (written after every change). */
    private readonly persistent: boolean,
  ) {
    mkdirSync(blobDir, { recursive: true });
  }

  /** Reads the index a previous run left (persistent stores only). */
  async load(): Promise<void> {
    if (!this.persistent) return;
    let text: string;
    try {
      text = await readFile(join(this.blobDir, INDEX_FILE), 'utf8');
    } catch {
      return;
    }
    const saved = JSON.parse(text) as { seq: number; objects: StoredObject[] };
    this.seq = saved.seq;
    for (const o of saved.objects) {
      this.objects.push(o);
      if (o.deletedAt === null) this.live.set(key(o.bucket, o.name), o);
    }
  }

  hasBucket(bucket: string): boolean {
    return this.buckets().includes(bucket);
  }

  get(bucket: string, name: string): StoredObject | undefined {
    return this.live.get(key(bucket, name));
  }

  path(o: StoredObject): string {
    return join(this.blobDir, o.blob);
  }

  /** Live objects of a bucket whose names start with `prefix`, in name order (as Google lists them). */
  list(bucket: string, prefix: string): StoredObject[] {
    return [...this.live.values()].filter((o) => o.bucket === bucket && o.name.startsWith(prefix)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  everything(): readonly StoredObject[] {
    return this.objects;
  }

  /** Takes a finished file (an export's output) as a new object version; the file is moved, not copied. */
  async adopt(srcPath: string, bucket: string, name: string, contentType: string, opts: { composite: boolean }): Promise<StoredObject> {
    const blob = this.nextBlob();
    const target = join(this.blobDir, blob);
    await rename(srcPath, target);
    const { size, md5, crc } = await digestFile(target);
    return this.insert({ bucket, name, blob, size, md5Hash: opts.composite ? null : md5, crc32c: crc, contentType, componentCount: opts.composite ? 2 : null });
  }

  /** An upload (the client's `file.save`): a new version of the name. */
  async write(bucket: string, name: string, bytes: Buffer, contentType: string, metadata?: Record<string, string>): Promise<StoredObject> {
    const blob = this.nextBlob();
    await writeFile(join(this.blobDir, blob), bytes);
    const md5 = createHash('md5').update(bytes).digest('base64');
    return this.insert({ bucket, name, blob, size: bytes.length, md5Hash: md5, crc32c: crcBase64(crc32c(bytes)), contentType, componentCount: null, ...(metadata && Object.keys(metadata).length ? { metadata } : {}) });
  }

  /** Deletes the live version; false when there is none. The bytes go at once (nothing references them). */
  async remove(bucket: string, name: string): Promise<boolean> {
    const o = this.live.get(key(bucket, name));
    if (!o) return false;
    o.deletedAt = this.now();
    this.live.delete(key(bucket, name));
    this.save();
    await unlink(join(this.blobDir, o.blob)).catch(() => undefined);
    return true;
  }

  private insert(p: Omit<StoredObject, 'generation' | 'timeCreated' | 'updated' | 'deletedAt'>): StoredObject {
    const t = this.now();
    const previous = this.live.get(key(p.bucket, p.name));
    // An overwrite replaces the live version: the old one is gone, as at Google without versioning.
    if (previous) {
      previous.deletedAt = t;
      void unlink(join(this.blobDir, previous.blob)).catch(() => undefined);
    }
    // Generations are microsecond timestamps at Google; a counter keeps two writes in one ms distinct.
    const o: StoredObject = { ...p, generation: String(t * 1000 + (this.seq % 1000)), timeCreated: t, updated: t, deletedAt: null };
    this.objects.push(o);
    this.live.set(key(p.bucket, p.name), o);
    this.save();
    return o;
  }

  private nextBlob(): string {
    this.seq++;
    return `o${this.seq}`;
  }

  /** The index, replaced atomically; small (metadata only) and written only when an object changes. */
  private save(): void {
    if (!this.persistent) return;
    const tmp = join(this.blobDir, `${INDEX_FILE}.tmp`);
    writeFileSync(tmp, JSON.stringify({ seq: this.seq, objects: this.objects }));
    renameSync(tmp, join(this.blobDir, INDEX_FILE));
  }
}

function key(bucket: string, name: string): string {
  return `${bucket}/${name}`;
}

/** CRC32C as Google writes it: the 32-bit value big-endian, base64. */
export function crcBase64(value: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b.toString('base64');
}

async function digestFile(path: string): Promise<{ size: number; md5: string; crc: string }> {
  const md5 = createHash('md5');
  let crc = 0;
  let size = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    md5.update(chunk);
    crc = crc32c(chunk, crc);
    size += chunk.length;
  }
  return { size, md5: md5.digest('base64'), crc: crcBase64(crc) };
}
