import { createWriteStream, type WriteStream } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { commitFile } from '../../common/atomic-write';
import { EarlyFlush } from './early-flush';
import { WorkerHasher, type Md5Hasher } from './md5-hasher';

/** Fetches the content's bytes from `start` on (a fresh ranged request each call). */
export type FetchBytes = (start: number) => Promise<Readable>;

export class VerificationError extends Error {}

/**
 * What a download is checked against: its size and the checksums its store reported — Drive's SHA-256
 * (MD5 when Drive gave no SHA-256), or
 * Cloud Storage's MD5 and CRC32C (composite objects have only the CRC32C; docs/cloud-storage.md).
 */
export interface DownloadCheck<H extends Md5Hasher = Md5Hasher> {
  /** The file's or object's name, for messages. */
  readonly name: string;
  readonly size: number;
  /** Where the bytes come from, for messages: "Drive", "Cloud Storage". */
  readonly source: string;
  /** A fresh hasher for the whole content. */
  hasher(): H;
  /** What the hashed content does not match, in words; undefined when everything matches. */
  mismatch(hashed: H): Promise<string | undefined>;
}

/** The worker hashes batches this large, copied from the received chunks into shared memory. */
const BATCH = 2 << 20;
/** Batches handed to the worker and not yet hashed, at most: bounds the memory a slow hash can take. */
const BATCHES = 4;

/**
 * Downloads one file into `path` safely, whatever the store: bytes stream into `path.part` (never the
 * whole file in memory), an existing `.part` is resumed with a ranged request, size and checksums are
 * checked against what the store reported, the file is fsynced and only then renamed into place (atomic),
 * and the folder fsynced. A file already in place that matches (a crash after the rename) counts as done.
 * Returns the bytes transferred in this call.
 *
 * How it stays fast (docs/performance.md, "Downloads"): the received chunks go to a buffered file stream
 * as they are, and to the hasher at the same time — a worker hasher gets 2 MiB batches in shared memory —
 * so hashing never holds up receiving; the file is never read back, and fsynced once. A resumed `.part`
 * is the exception: the checksums cover the whole file, so its existing prefix is hashed once first.
 */
export async function downloadChecked<H extends Md5Hasher>(check: DownloadCheck<H>, path: string, fetchBytes: FetchBytes, onChunk?: () => void): Promise<number> {
  if (await matchesCheck(path, check)) return 0;
  const part = `${path}.part`;
  let have = await sizeOf(part);
  if (have !== undefined && have > check.size) {
    await unlink(part);
    have = undefined;
  }
  const hasher = check.hasher();
  let written = have ?? 0;
  let transferred = 0;
  try {
    if (have) await hasher.updateFromFile(part, have); // resume: the checksums must cover the bytes already there
    if (written < check.size) {
      const body = await fetchBytes(written);
      const feed = new HashFeed(hasher);
      const out = createWriteStream(part, { flags: have ? 'a' : 'w', highWaterMark: 1 << 20 });
      out.on('error', () => undefined); // kept in out.errored, thrown below and by closed()
      const flusher = new EarlyFlush(out);
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          if (written + chunk.length > check.size) throw new VerificationError(`${check.name}: ${check.source} sent more than its ${check.size} bytes`);
          if (out.errored) throw out.errored;
          if (!out.write(chunk)) await drained(out);
          await feed.add(chunk);
          written += chunk.length;
          transferred += chunk.length;
          flusher.wrote(chunk.length);
          onChunk?.();
        }
        await feed.finish();
      } finally {
        // Whatever arrived is written (a broken connection resumes from it), even when the stream failed.
        await flusher.settled();
        await closed(out);
      }
      flusher.throwIfFailed();
    }
    const fh = await open(part, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (written !== check.size) {
      throw new VerificationError(`${check.name}: the download ended at ${written} of ${check.size} bytes; it resumes next time`);
    }
    const problem = await check.mismatch(hasher);
    if (problem) {
      await unlink(part); // bytes are wrong somewhere: start over rather than resume
      throw new VerificationError(`${check.name}: ${problem}; downloading again`);
    }
  } finally {
    await hasher.close();
  }
  await commitFile(part, path);
  return transferred;
}

/** True when `path` holds exactly the content (size and checksums). */
export async function matchesCheck<H extends Md5Hasher>(path: string, check: DownloadCheck<H>): Promise<boolean> {
  const size = await sizeOf(path);
  if (size !== check.size) return false;
  const hasher = check.hasher();
  try {
    await hasher.updateFromFile(path, size);
    return (await check.mismatch(hasher)) === undefined;
  } finally {
    await hasher.close();
  }
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
    this.direct = !(hasher instanceof WorkerHasher);
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
      // Shared memory: the worker reads the batch where it is, without a copy.
      if (this.busy.size + this.free.length < BATCHES) return Buffer.from(new SharedArrayBuffer(BATCH));
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

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
