import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';

/**
 * The checksum of a download, fed in order while the bytes arrive (docs/performance.md, "Downloads"):
 * Drive's SHA-256 when Drive gave one, else its MD5. Neither can be split across threads; on one core MD5
 * runs at ~0.7 GB/s, about as fast as a local connection delivers, so hashed on the receiving thread it
 * halves the download's speed (SHA-256 with the CPU's SHA extensions takes about half the CPU). `WorkerHasher`
 * hashes on a worker thread instead, reading what the download wrote back from the file itself (no copy
 * on the receiving thread); `InlineHasher` hashes on the calling thread, for files too small to be worth a thread.
 */
export interface ContentHasher {
  /** Hashes `buf[0, length)`; the promise settles once `buf` may be reused. Calls are hashed in call order. */
  update(buf: Buffer, length: number): Promise<void>;
  /** Hashes the first `length` bytes of a file (a resumed `.part`: its prefix is read back once). */
  updateFromFile(path: string, length: number): Promise<void>;
  digest(): Promise<string>;
  close(): Promise<void>;
}

/** The name this interface had while Drive downloads were checked by MD5 only (Cloud Storage's digest uses it). */
export type Md5Hasher = ContentHasher;

/** The checksums a Drive download can be verified by (node:crypto names; Drive reports them as hex). */
export type HashAlgorithm = 'md5' | 'sha256';

export class InlineHasher implements ContentHasher {
  private readonly hash: Hash;

  constructor(algorithm: HashAlgorithm = 'md5') {
    this.hash = createHash(algorithm);
  }

  async update(buf: Buffer, length: number): Promise<void> {
    this.hash.update(buf.subarray(0, length));
  }

  async updateFromFile(path: string, length: number): Promise<void> {
    await hashFilePrefix(this.hash, path, length);
  }

  async digest(): Promise<string> {
    return this.hash.digest('hex');
  }

  async close(): Promise<void> {}
}

/** The worker's code, inline so it runs the same from sources, the CLI bundle and the desktop app. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const hash = createHash(workerData.algorithm);
const chunk = Buffer.allocUnsafe(4 << 20);
let file; // { path, fd } of the file being followed, kept open between ranges
parentPort.on('message', (m) => {
  try {
    if (m.op === 'update') hash.update(new Uint8Array(m.buf, m.offset, m.length));
    else if (m.op === 'file') {
      if (!file || file.path !== m.path) {
        if (file) closeSync(file.fd);
        file = { path: m.path, fd: openSync(m.path, 'r') };
      }
      for (let at = m.from; at < m.to; ) {
        const n = readSync(file.fd, chunk, 0, Math.min(chunk.length, m.to - at), at);
        if (n === 0) throw new Error('the file ended at ' + at + ' of ' + m.to + ' bytes');
        hash.update(chunk.subarray(0, n));
        at += n;
      }
    } else if (m.op === 'digest' || m.op === 'end') {
      if (file) closeSync(file.fd);
      file = undefined;
      if (m.op === 'digest') return parentPort.postMessage({ id: m.id, hex: hash.digest('hex') });
    }
    parentPort.postMessage({ id: m.id });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String(e && e.message || e) });
  }
});
`;

interface Reply {
  id: number;
  hex?: string;
  error?: string;
}

export class WorkerHasher implements ContentHasher {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failed: Error | undefined;

  constructor(algorithm: HashAlgorithm = 'md5') {
    // The worker allocates next to nothing (the hash state, small messages): a small heap keeps its RSS down.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { algorithm }, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 } });
    this.worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.error) p.reject(new Error(`hashing worker: ${r.error}`));
      else p.resolve(r);
    });
    const fail = (e: Error) => {
      this.failed = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`hashing worker exited (${code})`)));
  }

  /** Hashes a copy of `buf[0, length)`, handed to the worker (downloads use `updateFromFileRange` instead). */
  async update(buf: Buffer, length: number): Promise<void> {
    const copy = new Uint8Array(buf.buffer, buf.byteOffset, length).slice().buffer;
    await this.send({ op: 'update', buf: copy, offset: 0, length }, [copy]);
  }

  async updateFromFile(path: string, length: number): Promise<void> {
    await this.updateFromFileRange(path, 0, length);
  }

  /**
   * Hashes bytes `[from, to)` of a file, read by the worker itself (it keeps the file open between calls):
   * a download hashes what it wrote, right behind the writer, without the receiving thread copying a byte.
   */
  async updateFromFileRange(path: string, from: number, to: number): Promise<void> {
    if (to > from) await this.send({ op: 'file', path, from, to });
  }

  async digest(): Promise<string> {
    return (await this.send({ op: 'digest' })).hex!;
  }

  /** Closes the file the worker follows (a descriptor outlives its thread) and stops the worker. */
  async close(): Promise<void> {
    await this.send({ op: 'end' }).catch(() => undefined);
    await this.worker.terminate();
  }

  private send(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }
}

/** Feeds the first `length` bytes of a file to `hash` (any checksum with `update`). */
export async function hashFilePrefix(hash: { update(chunk: Buffer): unknown }, path: string, length: number): Promise<void> {
  const fh = await open(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(Math.min(8 << 20, Math.max(1, length)));
    for (let at = 0; at < length; ) {
      const { bytesRead } = await fh.read(chunk, 0, Math.min(chunk.length, length - at), at);
      if (bytesRead === 0) throw new Error(`${path} ended at ${at} of ${length} bytes`);
      hash.update(chunk.subarray(0, bytesRead));
      at += bytesRead;
    }
  } finally {
    await fh.close();
  }
}
