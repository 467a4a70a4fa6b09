/**
 * Seeded randomness. Every random choice of the emulator (ids, and the faults of part 2) draws from a
 * named stream derived from `seed`, so adding draws in one stream never changes another's sequence.
 */
export class Rng {
  private state: number;

  constructor(seed: number, stream: string) {
    // FNV-1a of the stream name, mixed with the seed: independent, reproducible sequences.
    let h = 0x811c9dc5 ^ (seed | 0);
    for (let i = 0; i < stream.length; i++) {
      h ^= stream.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    this.state = h >>> 0;
  }

  /** mulberry32: uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** For persistence (part 2): a restarted emulator must continue the sequence, not repeat it. */
  get position(): number {
    return this.state;
  }

  set position(state: number) {
    this.state = state >>> 0;
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  string(length: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
}

const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Identifiers shaped like Google's: EE operation ids, Drive file ids, OAuth codes and tokens. */
export class IdFactory {
  readonly rng: Rng;

  constructor(seed: number) {
    this.rng = new Rng(seed, 'ids');
  }

  /** `PXDDE62MDY9SWPY16Z7M4D3T`: 24 upper-case letters and digits. */
  operationId(): string {
    return this.rng.string(24, UPPER_DIGITS);
  }

  /** `1AbC…`: 33 characters, like the ids of files in My Drive. */
  driveFileId(): string {
    return '1' + this.rng.string(32, BASE64URL);
  }

  /** `0A…Uk9PVA`: the shape of a My Drive root id. */
  driveRootId(): string {
    return '0A' + this.rng.string(11, BASE64URL) + 'Uk9PVA';
  }

  token(prefix: string, length: number): string {
    return prefix + this.rng.string(length, BASE64URL);
  }
}
