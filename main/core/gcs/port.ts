import type { Readable } from 'node:stream';

/**
 * What the Cloud Storage destination needs from Cloud Storage (the real adapter: client.ts, Google's
 * `@google-cloud/storage`). Names are full object names (`{prefix}/{file}`), never URL-encoded.
 */
export interface GcsObject {
  readonly bucket: string;
  readonly name: string;
  readonly size: number;
  /** Base64 MD5; absent on composite objects (docs/cloud-storage.md, "Verification"). */
  readonly md5Hash?: string;
  /** Base64 big-endian CRC32C; every object has one. */
  readonly crc32c?: string;
  readonly generation: string;
  /** RFC 3339: what the ownership rule compares with the operation's createTime. */
  readonly timeCreated?: string;
  readonly updated?: string;
}

export interface GcsPort {
  /** Every live object of the bucket whose name starts with `prefix` (all pages). */
  list(bucket: string, prefix: string): Promise<GcsObject[]>;
  /** The object's bytes from `start` on (a fresh ranged request each call). */
  download(bucket: string, name: string, generation: string, start: number, signal?: AbortSignal): Promise<Readable>;
  /** Deletes that generation of the object; an object already gone counts as deleted (a lost answer). */
  remove(bucket: string, name: string, generation?: string): Promise<void>;
  /** A small text object's content, or undefined when it does not exist. */
  readText(bucket: string, name: string): Promise<{ text: string; generation: string } | undefined>;
  /**
   * Writes a small text object. `ifGeneration` "0": only when no object has the name (else a
   * PreconditionFailed error); a generation: only over that one.
   */
  writeText(bucket: string, name: string, text: string, ifGeneration?: string): Promise<GcsObject>;
}

/** A write whose precondition did not hold (someone else wrote the object meanwhile). */
export class PreconditionFailed extends Error {}
