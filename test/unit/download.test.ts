import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadVerified, VerificationError, WORKER_HASH_FROM } from '../../main/core/sync/download';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-download-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** A Drive serving `bytes` from any offset in 64 KiB chunks, optionally failing after `failAfter` bytes. */
function server(bytes: Buffer, failAfter?: number) {
  const starts: number[] = [];
  const fetch = async (start: number): Promise<Readable> => {
    starts.push(start);
    const end = failAfter === undefined ? bytes.length : Math.min(bytes.length, start + failAfter);
    async function* chunks() {
      for (let at = start; at < end; at += 65536) yield bytes.subarray(at, Math.min(end, at + 65536));
      if (end < bytes.length) throw new Error('ECONNRESET');
    }
    return Readable.from(chunks(), { objectMode: false });
  };
  return { fetch, starts };
}

describe('downloadVerified', () => {
  it('a large file (hashed on a worker) arrives whole, verified, renamed into place, with no .part left', async () => {
    const bytes = randomBytes(WORKER_HASH_FROM + 3 * 1024 * 1024 + 17);
    const file = { id: 'f', name: 'big.tif', size: bytes.length, md5: md5(bytes) };
    const path = join(dir, 'big.tif');
    const s = server(bytes);
    expect(await downloadVerified(file, path, s.fetch)).toBe(bytes.length);
    expect(md5(readFileSync(path))).toBe(file.md5);
    expect(existsSync(`${path}.part`)).toBe(false);
  });

  it('a broken connection keeps what arrived; the next call resumes from there and still checks the whole file’s MD5', async () => {
    const bytes = randomBytes(WORKER_HASH_FROM + 5 * 1024 * 1024);
    const file = { id: 'f', name: 'big.tif', size: bytes.length, md5: md5(bytes) };
    const path = join(dir, 'big.tif');
    const broken = server(bytes, 20 * 1024 * 1024);
    await expect(downloadVerified(file, path, broken.fetch)).rejects.toThrow(/ECONNRESET/);
    expect(statSync(`${path}.part`).size).toBe(20 * 1024 * 1024);
    const s = server(bytes);
    expect(await downloadVerified(file, path, s.fetch)).toBe(bytes.length - 20 * 1024 * 1024);
    expect(s.starts).toEqual([20 * 1024 * 1024]);
    expect(md5(readFileSync(path))).toBe(file.md5);
  });

  // The worker reads the .part back itself, keeping it open between ranges: a descriptor outlives its thread.
  it.runIf(process.platform === 'linux')('neither a broken nor a finished large download leaves its file open', async () => {
    const openHere = () => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
      } catch {
        return false; // closed while listing
      }
    });
    const bytes = randomBytes(WORKER_HASH_FROM + 9 * 1024 * 1024);
    const file = { id: 'f', name: 'big.tif', size: bytes.length, md5: md5(bytes) };
    const path = join(dir, 'big.tif');
    await expect(downloadVerified(file, path, server(bytes, 24 * 1024 * 1024).fetch)).rejects.toThrow(/ECONNRESET/);
    expect(openHere()).toEqual([]);
    await downloadVerified(file, path, server(bytes).fetch);
    expect(openHere()).toEqual([]);
    expect(md5(readFileSync(path))).toBe(file.md5);
  });

  it('a resumed .part whose prefix is wrong fails the MD5, and is deleted to start over', async () => {
    const bytes = randomBytes(WORKER_HASH_FROM + 1024);
    const file = { id: 'f', name: 'big.tif', size: bytes.length, md5: md5(bytes) };
    const path = join(dir, 'big.tif');
    const prefix = Buffer.from(bytes.subarray(0, 1024 * 1024));
    prefix[100] = prefix[100]! ^ 0xff;
    writeFileSync(`${path}.part`, prefix);
    await expect(downloadVerified(file, path, server(bytes).fetch)).rejects.toBeInstanceOf(VerificationError);
    expect(existsSync(`${path}.part`)).toBe(false);
    expect(existsSync(path)).toBe(false);
  });

  it('a small file is hashed inline, and more bytes than Drive reported is an error', async () => {
    const bytes = randomBytes(300_000);
    const path = join(dir, 'small.tif');
    const file = { id: 'f', name: 'small.tif', size: bytes.length, md5: md5(bytes) };
    expect(await downloadVerified(file, path, server(bytes).fetch)).toBe(bytes.length);
    expect(md5(readFileSync(path))).toBe(file.md5);
    const other = join(dir, 'short.tif');
    await expect(downloadVerified({ ...file, name: 'short.tif', size: bytes.length - 1 }, other, server(bytes).fetch)).rejects.toThrow(/more than its/);
  });
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('downloadVerified by Drive’s SHA-256', () => {
  it('with a sha256Checksum, a byte corrupted in the middle of a large file is caught by the SHA-256, and nothing is kept', async () => {
    const bytes = randomBytes(WORKER_HASH_FROM + 5 * 1024 * 1024 + 333);
    const file = { id: 'f', name: 'big.tif', size: bytes.length, md5: md5(bytes), sha256: sha256(bytes) };
    const served = Buffer.from(bytes);
    served[served.length >> 1] = served[served.length >> 1]! ^ 0x01;
    const path = join(dir, 'big.tif');
    await expect(downloadVerified(file, path, server(served).fetch)).rejects.toThrow(new RegExp(`SHA-256 [0-9a-f]{64} does not match Drive's ${file.sha256}`));
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.part`)).toBe(false);
  });

  it('the SHA-256 decides when Drive gave one (small file, inline hash); without one the MD5 still does', async () => {
    const bytes = randomBytes(200_000);
    const good = { id: 'f', name: 'a.tif', size: bytes.length, md5: 'not-the-md5', sha256: sha256(bytes) };
    expect(await downloadVerified(good, join(dir, 'a.tif'), server(bytes).fetch)).toBe(bytes.length);
    expect(readFileSync(join(dir, 'a.tif')).equals(bytes)).toBe(true);
    const served = Buffer.from(bytes);
    served[100_000] = served[100_000]! ^ 0x80;
    await expect(downloadVerified(good, join(dir, 'b.tif'), server(served).fetch)).rejects.toThrow(/SHA-256/);
    const md5Only = { id: 'f', name: 'c.tif', size: bytes.length, md5: md5(bytes) };
    await expect(downloadVerified(md5Only, join(dir, 'c.tif'), server(served).fetch)).rejects.toThrow(/MD5 [0-9a-f]{32} does not match/);
  });

  it('a connection broken at an odd offset keeps every byte that arrived; the resume continues from exactly there and checks the whole file’s SHA-256', async () => {
    const bytes = randomBytes(WORKER_HASH_FROM + 1024 * 1024);
    const file = { id: 'f', name: 'big.tif', size: bytes.length, md5: md5(bytes), sha256: sha256(bytes) };
    const path = join(dir, 'big.tif');
    const cut = 20 * 1024 * 1024 + 1000;
    await expect(downloadVerified(file, path, server(bytes, cut).fetch)).rejects.toThrow(/ECONNRESET/);
    expect(statSync(`${path}.part`).size).toBe(cut);
    expect(readFileSync(`${path}.part`).equals(bytes.subarray(0, cut))).toBe(true);
    const s = server(bytes);
    expect(await downloadVerified(file, path, s.fetch)).toBe(bytes.length - cut);
    expect(s.starts).toEqual([cut]);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });
});
