import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import type { DriveFile } from '../google/drive';
import { syncDir } from '../fs-durable';
import { InlineMd5, WorkerMd5, type Md5Hasher } from './md5-hasher';

/** Fetches the file's bytes from `start` on (a fresh request each call). */
export type FetchBytes = (start: number) => Promise<Readable>;

export class VerificationError extends Error {}

/** Files from this size on are hashed on a worker thread (below it, starting one costs more than it saves). */
export const WORKER_HASH_FROM = 32 << 20;
/** The worker hashes batches this large, copied from the received chunks into shared memory. */
const BATCH = 2 << 20;
/** Batches handed to the worker and not yet hashed, at most: bounds the memory a slow hash can take. */
const BATCHES = 4;

/**
 * Downloads one Drive file into `path` safely: bytes stream into `path.part` (never the whole file in
 * memory), an existing `.part` is resumed with a Range request, size and MD5 are checked against what
 * Drive reported, the file is fsynced and only then renamed into place (atomic), and the folder fsynced.
 * A file already in place with the right size and MD5 (a crash after the rename) counts as done.
 * Returns the bytes transferred in this call.
 *
 * How it stays fast (docs/performance.md, "Downloads"): the received chunks go to a buffered file stream
 * as they are, and to the MD5 at the same time — for large files on a worker thread, fed 2 MiB batches
 * in shared memory — so hashing never holds up receiving; the file is never read back, and fsynced once.
 * A resumed `.part` is the exception: the MD5 must cover the whole file, so its existing prefix is read
 * back and hashed once before the rest arrives.
 */
export async function downloadVerified(file: DriveFile, path: string, fetchBytes: FetchBytes, onChunk?: () => void): Promise<number> {
  if (await matches(path, file)) return 0;
  const part = `${path}.part`;
  let have = await sizeOf(part);
  if (have !== undefined && have > file.size) {
    await unlink(part);
    have = undefined;
  }
  const hasher: Md5Hasher = file.size >= WORKER_HASH_FROM ? new WorkerMd5() : new InlineMd5();
  let written = have ?? 0;
  let transferred = 0;
  try {
    if (have) await hasher.updateFromFile(part, have); // resume: the hash must cover the bytes already there
    if (written < file.size) {
      const body = await fetchBytes(written);
      const feed = new HashFeed(hasher);
      const out = createWriteStream(part, { flags: have ? 'a' : 'w', highWaterMark: 1 << 20 });
      out.on('error', () => undefined); // kept in out.errored, thrown below and by closed()
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          if (written + chunk.length > file.size) throw new VerificationError(`${file.name}: Drive sent more than its ${file.size} bytes`);
          if (out.errored) throw out.errored;
          if (!out.write(chunk)) await drained(out);
          await feed.add(chunk);
          written += chunk.length;
          transferred += chunk.length;
          onChunk?.();
        }
        await feed.finish();
      } finally {
        // Whatever arrived is written (a broken connection resumes from it), even when the stream failed.
        await closed(out);
      }
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
    const md5 = await hasher.digest();
    if (md5 !== file.md5) {
      await unlink(part); // bytes are wrong somewhere: start over rather than resume
      throw new VerificationError(`${file.name}: MD5 ${md5} does not match Drive's ${file.md5}; downloading again`);
    }
  } finally {
    await hasher.close();
  }
  await rename(part, path);
  await syncDir(dirname(path));
  return transferred;
}

/**
 * Feeds the hasher in file order. Inline hashers take each chunk as it is; the worker gets full batches
 * of shared memory (one copy of each byte), at most BATCHES of them waiting at once.
 */
class HashFeed {
  private readonly free: Buffer[] = [];
  private readonly busy = new Set<Promise<void>>();
  private current: Buffer | undefined;
  private fill = 0;
  private error: unknown;
  private readonly direct: boolean;

  constructor(private readonly hasher: Md5Hasher) {
    this.direct = hasher instanceof InlineMd5;
  }

  async add(chunk: Buffer): Promise<void> {
    if (this.direct) return this.hasher.update(chunk, chunk.length);
    let at = 0;
    while (at < chunk.length) {
      if (!this.current) this.current = await this.take();
      const n = chunk.copy(this.current, this.fill, at);
      this.fill += n;
      at += n;
      if (this.fill === this.current.length) this.send();
    }
  }

  /** Sends the last partial batch and waits until everything is hashed (the first error is thrown). */
  async finish(): Promise<void> {
    if (this.current && this.fill > 0) this.send();
    while (this.busy.size > 0) await Promise.race(this.busy);
    if (this.error) throw this.error;
  }

  private send(): void {
    const buf = this.current!;
    const length = this.fill;
    this.current = undefined;
    this.fill = 0;
    const work: Promise<void> = this.hasher.update(buf, length).then(
      () => void this.free.push(buf),
      (e: unknown) => void (this.error ??= e),
    );
    const tracked = work.finally(() => this.busy.delete(tracked));
    this.busy.add(tracked);
  }

  private async take(): Promise<Buffer> {
    for (;;) {
      if (this.error) throw this.error;
      const buf = this.free.pop();
      if (buf) return buf;
      if (this.busy.size + this.free.length < BATCHES) return this.hasher.allocate(BATCH);
      await Promise.race(this.busy);
    }
  }
}

function drained(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (e?: Error) => {
      out.off('drain', done);
      out.off('error', done);
      if (e) reject(e);
      else resolve();
    };
    out.on('drain', done);
    out.on('error', done);
  });
}

/** Ends the stream (writing what it buffered) and waits until the file is closed; a write error is thrown. */
function closed(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.closed) return out.errored ? reject(out.errored) : resolve();
    out.once('close', () => (out.errored ? reject(out.errored) : resolve()));
    out.end();
  });
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
