import { open, type FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** Bytes read from the file per write, and how many such buffers take turns. */
const BUFFER = 1 << 20;
const BUFFERS = 2;

/**
 * A media body: bytes `[start, end]` of a stored file. It is a Readable, so anything may consume it as
 * a stream (a batch refuses it, a test may read it), but the transport sends it with `sendFileBody`: a
 * few buffers read in turn and reused once the socket took them, instead of a fresh buffer for every
 * 64 KiB. A fresh buffer per read made the emulator run a full garbage collection of its heap every few
 * tens of MiB sent (V8 collects when outside memory grows), 1–3 s of CPU per GiB: CPU that,
 * on a small machine, the client under test then lacks (main/emulator/README.md, "Drive v3").
 */
export class FileBody extends Readable {
  private handle: FileHandle | undefined;
  private at: number;

  constructor(
    readonly path: string,
    readonly start: number,
    /** The last byte, inclusive (as in a Range header). */
    readonly end: number,
  ) {
    super({ highWaterMark: BUFFER });
    this.at = start;
  }

  /** Opens the file now (a delete right after the reply still lets the download finish). */
  async opened(): Promise<this> {
    this.handle = await open(this.path, 'r');
    return this;
  }

  /** Hands the open file to the sender; the stream side is then unused. */
  takeHandle(): FileHandle {
    const h = this.handle;
    if (!h) throw new Error('the file body was already taken or never opened');
    this.handle = undefined;
    return h;
  }

  override _read(size: number): void {
    const handle = this.handle;
    if (!handle) return void this.push(null);
    const n = Math.min(size, this.end + 1 - this.at);
    if (n <= 0) return void this.push(null);
    handle.read(Buffer.allocUnsafe(n), 0, n, this.at).then(
      ({ bytesRead, buffer }) => {
        this.at += bytesRead;
        this.push(bytesRead > 0 ? buffer.subarray(0, bytesRead) : null);
      },
      (e: Error) => this.destroy(e),
    );
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    const h = this.handle;
    this.handle = undefined;
    if (!h) return done(error);
    h.close().then(
      () => done(error),
      () => done(error),
    );
  }
}

/**
 * Sends the first `limit` bytes of `body` (all of it by default) to `res` and resolves once the socket
 * took the last of them; ends the response only when everything was sent. Rejects when the file cannot
 * be read or the connection went away.
 */
export async function sendFileBody(res: ServerResponse, body: FileBody, limit = Infinity): Promise<void> {
  const handle = body.takeHandle();
  // A write's callback may never come once the client is gone: the closed connection ends the wait.
  let onClose: () => void = () => undefined;
  const gone = new Promise<never>((_, reject) => {
    onClose = () => reject(new Error('the connection closed'));
    if (res.destroyed) onClose();
    else res.once('close', onClose);
  });
  gone.catch(() => undefined);
  try {
    const buffers = Array.from({ length: BUFFERS }, () => Buffer.allocUnsafe(BUFFER));
    const writing: (Promise<void> | undefined)[] = new Array(BUFFERS);
    let pos = body.start;
    const last = Math.min(body.end, body.start + limit - 1);
    for (let turn = 0; pos <= last; turn++) {
      const k = turn % BUFFERS;
      await Promise.race([writing[k], gone]); // this buffer may be reused only once the socket took it
      const { bytesRead } = await handle.read(buffers[k]!, 0, Math.min(BUFFER, last + 1 - pos), pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      writing[k] = new Promise<void>((resolve, reject) => {
        res.write(buffers[k]!.subarray(0, bytesRead), (e) => (e ? reject(e) : resolve()));
      });
      writing[k]!.catch(() => undefined);
    }
    await Promise.race([Promise.all(writing), gone]);
  } finally {
    res.off('close', onClose);
    await handle.close().catch(() => undefined);
  }
}
