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

/** The worker is sent the written bytes in ranges this large (the last range may be shorter). */
const RANGE = 4 << 20;

/**
 * Downloads one file into `path` safely, whatever the store: bytes stream into `path.part` (never the
 * whole file in memory), an existing `.part` is resumed with a ranged request, size and checksums are
 * checked against what the store reported, the file is fsynced and only then renamed into place (atomic),
 * and the folder fsynced. A file already in place that matches (a crash after the rename) counts as done.
 * Returns the bytes transferred in this call.
 *
 * How it stays fast (docs/performance.md, "Downloads"): the received chunks go to a buffered file stream
 * as they are. A worker hasher reads what was written back from the file (the page cache) right behind
 * the writer, so the receiving thread neither hashes nor copies a byte; small files are hashed inline.
 * The disk starts writing early (sync/early-flush.ts), and the file is fsynced once. A resumed `.part`
 * has its existing prefix hashed first: the checksums cover the whole file.
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
      const feed = new HashFeed(hasher, part, written);
      const out = createWriteStream(part, { flags: have ? 'a' : 'w', highWaterMark: 1 << 20 });
      out.on('error', () => undefined); // kept in out.errored, thrown below and by closed()
      const flusher = new EarlyFlush(out);
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          if (written + chunk.length > check.size) throw new VerificationError(`${check.name}: ${check.source} sent more than its ${check.size} bytes`);
          if (out.errored) throw out.errored;
          if (!out.write(chunk, feed.afterWrite(chunk))) await drained(out);
          await feed.add(chunk);
          written += chunk.length;
          transferred += chunk.length;
          flusher.wrote(chunk.length);
          onChunk?.();
        }
      } finally {
        // Whatever arrived is written (a broken connection resumes from it), even when the stream failed.
        await flusher.settled();
        await closed(out);
      }
      flusher.throwIfFailed();
      await feed.finish();
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
 * Feeds the hasher in file order. Inline hashers take each chunk as it arrives. A worker hasher is told
 * which bytes of the file are written (a write's callback runs once its bytes are in the file) and reads
 * them itself, in ranges of RANGE: the receiving thread only counts.
 */
class HashFeed {
  private readonly worker: WorkerHasher | undefined;
  private readonly hashing = new Set<Promise<void>>();
  private error: unknown;
  /** The end of what is in the file (writes confirmed so far). */
  private written: number;

  constructor(
    private readonly hasher: Md5Hasher,
    private readonly path: string,
    /** Where this download's bytes start in the file (what a resumed `.part` already held is hashed). */
    private sent: number,
  ) {
    this.worker = hasher instanceof WorkerHasher ? hasher : undefined;
    this.written = sent;
  }

  /** The callback for the write of `chunk`, when a worker follows the file. */
  afterWrite(chunk: Buffer): ((e?: Error | null) => void) | undefined {
    if (!this.worker) return undefined;
    const length = chunk.length;
    return (e) => {
      if (e) return; // the stream's error is thrown by the download
      this.written += length;
      if (this.written - this.sent >= RANGE) this.send();
    };
  }

  async add(chunk: Buffer): Promise<void> {
    if (this.error) throw this.error;
    if (!this.worker) await this.hasher.update(chunk, chunk.length);
  }

  /** Once the file is closed: hashes the rest of what was written and waits for it (the first error is thrown). */
  async finish(): Promise<void> {
    if (this.worker) this.send();
    await Promise.all(this.hashing);
    if (this.error) throw this.error;
  }

  private send(): void {
    const [from, to] = [this.sent, this.written];
    if (to <= from) return;
    this.sent = to;
    const work: Promise<void> = this.worker!.updateFromFileRange(this.path, from, to).catch((e: unknown) => void (this.error ??= e));
    const tracked = work.finally(() => this.hashing.delete(tracked));
    this.hashing.add(tracked);
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
