import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { crc32c } from '@node-rs/crc32';
import { hashFilePrefix, type Md5Hasher } from '../sync/md5-hasher';
import { downloadChecked, matchesCheck, VerificationError, type DownloadCheck } from '../sync/verified-download';
import type { GcsObject } from './port';

/** Fetches the object's bytes from `start` on (a fresh ranged request each call). */
export type FetchObject = (start: number) => Promise<Readable>;

/**
 * Downloads one Cloud Storage object into `path` safely (docs/cloud-storage.md, "Downloads"), with the
 * routine Drive downloads use (sync/verified-download.ts): resumable `.part`, checked against the
 * object's `md5Hash` and `crc32c` (composite objects have only the CRC32C), fsynced, renamed into place.
 * A file already in place that matches counts as done. Returns the bytes transferred by this call.
 */
export async function downloadObject(obj: GcsObject, path: string, fetch: FetchObject, onChunk?: () => void): Promise<number> {
  if (!obj.md5Hash && !obj.crc32c) throw new VerificationError(`${obj.name}: Cloud Storage gave neither an MD5 nor a CRC32C, so the download cannot be verified; it is left in the bucket`);
  return downloadChecked(objectCheck(obj), path, fetch, onChunk);
}

/** True when `path` holds exactly the object (size and checksums). */
export function matches(path: string, obj: GcsObject): Promise<boolean> {
  return matchesCheck(path, objectCheck(obj));
}

/** An object is checked by its size, MD5 and CRC32C — each that Cloud Storage gave. */
export function objectCheck(obj: Pick<GcsObject, 'name' | 'size' | 'md5Hash' | 'crc32c'>): DownloadCheck<ObjectDigest> {
  return { name: obj.name, size: obj.size, source: 'Cloud Storage', hasher: () => new ObjectDigest(), mismatch: async (d) => d.mismatch(obj) };
}

/**
 * MD5 and CRC32C of the same bytes, as Cloud Storage writes them (base64; CRC32C big-endian), hashed on
 * the receiving thread: the CRC32C is hardware-accelerated, and the MD5 is skipped when the object has none.
 */
export class ObjectDigest implements Md5Hasher {
  private readonly md5: Hash = createHash('md5');
  private crc = 0;

  async update(buf: Buffer, length: number): Promise<void> {
    this.add(buf.subarray(0, length));
  }

  async updateFromFile(path: string, length: number): Promise<void> {
    // One read of the file feeds both checksums.
    await hashFilePrefix({ update: (chunk: Buffer) => this.add(chunk) }, path, length);
  }

  private add(chunk: Buffer): void {
    this.md5.update(chunk);
    this.crc = crc32c(chunk, this.crc);
  }

  /** The MD5 (base64); `mismatch` says which checksum is wrong. */
  async digest(): Promise<string> {
    return this.md5.copy().digest('base64');
  }

  async close(): Promise<void> {}

  allocate(size: number): Buffer {
    return Buffer.allocUnsafeSlow(size);
  }

  /** What does not match the object's checksums, in words; undefined when everything given matches. */
  mismatch(obj: Pick<GcsObject, 'md5Hash' | 'crc32c'>): string | undefined {
    const md5 = this.md5.copy().digest('base64');
    const crc = crc32cBase64(this.crc);
    if (obj.md5Hash && md5 !== obj.md5Hash) return `MD5 ${md5} does not match Cloud Storage's ${obj.md5Hash}`;
    if (obj.crc32c && crc !== obj.crc32c) return `CRC32C ${crc} does not match Cloud Storage's ${obj.crc32c}`;
    return undefined;
  }
}

export function crc32cBase64(value: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b.toString('base64');
}
