import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import type { DriveFile } from '../google/drive';
import { syncDir } from '../fs-durable';

/** Fetches `length` bytes from `start` on (a fresh request each call). */
export type FetchBytes = (start: number) => Promise<Readable>;

export class VerificationError extends Error {}

/**
 * Downloads one Drive file into `path` safely: bytes stream into `path.part` (never the whole file in
 * memory), an existing `.part` is resumed with a Range request, size and MD5 are checked against what
 * Drive reported, the file is fsynced and only then renamed into place (atomic), and the folder fsynced.
 * A file already in place with the right size and MD5 (a crash after the rename) counts as done.
 * Returns the bytes transferred in this call.
 */
export async function downloadVerified(file: DriveFile, path: string, fetchBytes: FetchBytes, onChunk?: () => void): Promise<number> {
  if (await matches(path, file)) return 0;
  const part = `${path}.part`;
  const hash = createHash('md5');
  let have = await sizeOf(part);
  if (have !== undefined && have > file.size) {
    await unlink(part);
    have = undefined;
  }
  if (have) await hashInto(hash, part); // resume: the hash must cover the bytes already there
  let written = have ?? 0;
  let transferred = 0;
  if (written < file.size) {
    const body = await fetchBytes(written);
    // One pass, with backpressure: count and hash each chunk on its way to a buffered file stream.
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        if (written + chunk.length > file.size) return done(new VerificationError(`${file.name}: Drive sent more than its ${file.size} bytes`));
        hash.update(chunk);
        written += chunk.length;
        transferred += chunk.length;
        onChunk?.();
        done(null, chunk);
      },
    });
    await pipeline(body, meter, createWriteStream(part, { flags: have ? 'a' : 'w', highWaterMark: 1 << 20 }));
  }
  const fh = await open(part, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (written !== file.size) {
    throw new VerificationError(`${file.name}: the download ended at ${written} of ${file.size} bytes; it resumes next time`);
  }
  const md5 = hash.digest('hex');
  if (md5 !== file.md5) {
    await unlink(part); // bytes are wrong somewhere: start over rather than resume
    throw new VerificationError(`${file.name}: MD5 ${md5} does not match Drive's ${file.md5}; downloading again`);
  }
  await rename(part, path);
  await syncDir(dirname(path));
  return transferred;
}

/** True when `path` holds exactly the Drive file (size and MD5). */
export async function matches(path: string, file: DriveFile): Promise<boolean> {
  if ((await sizeOf(path)) !== file.size) return false;
  const hash = createHash('md5');
  await hashInto(hash, path);
  return hash.digest('hex') === file.md5;
}

async function hashInto(hash: ReturnType<typeof createHash>, path: string): Promise<void> {
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) hash.update(chunk);
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
