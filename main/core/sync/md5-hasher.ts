import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';

/**
 * The checksum of a download, fed in order while the bytes arrive (docs/performance.md, "Downloads"):
 * Drive's SHA-256 when Drive gave one, else its MD5. Neither can be split across threads; on one core MD5
 * runs at ~0.7 GB/s, about as fast as a local connection delivers, so hashed on the receiving thread it
 * halves the download's speed (SHA-256 with the CPU's SHA extensions takes about half the CPU). `WorkerHasher`
 * hashes on a worker thread instead, reading the bytes where the receiving thread put them (shared
 * memory, no copy); `InlineHasher` hashes on the calling thread, for files too small to be worth a thread.
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
parentPort.on('message', (m) => {
  try {
    if (m.op === 'update') hash.update(new Uint8Array(m.buf, m.offset, m.length));
    else if (m.op === 'file') {
      const fd = openSync(m.path, 'r');
      try {
        const chunk = Buffer.allocUnsafe(Math.min(8 << 20, Math.max(1, m.length)));
        for (let at = 0; at < m.length; ) {
          const n = readSync(fd, chunk, 0, Math.min(chunk.length, m.length - at), at);
          if (n === 0) throw new Error('the file ended at ' + at + ' of ' + m.length + ' bytes');
          hash.update(chunk.subarray(0, n));
          at += n;
        }
      } finally {
        closeSync(fd);
      }
    } else if (m.op === 'digest') return parentPort.postMessage({ id: m.id, hex: hash.digest('hex') });
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

  /** `buf` must be a view of shared memory (a SharedArrayBuffer): the worker reads it in place. */
  async update(buf: Buffer, length: number): Promise<void> {
    if (!(buf.buffer instanceof SharedArrayBuffer)) throw new Error('WorkerHasher.update needs a buffer in shared memory');
    await this.send({ op: 'update', buf: buf.buffer, offset: buf.byteOffset, length });
  }

  async updateFromFile(path: string, length: number): Promise<void> {
    if (length > 0) await this.send({ op: 'file', path, length });
  }

  async digest(): Promise<string> {
    return (await this.send({ op: 'digest' })).hex!;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private send(message: Record<string, unknown>): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
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
