/**
 * The emulator's media bodies (main/emulator/http/file-body.ts): a byte range of a stored file, sent from
 * reused buffers — every byte in order whatever the buffers' turns, a prefix when a fault cuts the answer,
 * and the file closed however the answer ends.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileBody, sendFileBody } from '../../main/emulator/http/file-body';

let dir: string;
let path: string;
const bytes = randomBytes(5 * 1024 * 1024 + 12345); // several buffers' turns, the last one partial
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-file-body-'));
  path = join(dir, 'blob');
  writeFileSync(path, bytes);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const openHere = () =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  });

/** A server answering every request with `send(res)`; resolves with its URL, and the send's outcome per request. */
async function serve(start: number, end: number, limit?: number) {
  const outcomes: Promise<string>[] = [];
  const server: Server = createServer((_req, res) => {
    res.writeHead(200);
    const body = new FileBody(path, start, end);
    outcomes.push(
      body
        .opened()
        .then((b) => sendFileBody(res, b, limit))
        .then(
          () => (res.end(), 'sent'),
          (e: Error) => (res.destroy(), `failed: ${e.message}`),
        ),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, outcomes, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function fetchAll(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe('a media body sent from reused buffers', () => {
  it('sends exactly the range asked for, every byte in order', async () => {
    const s = await serve(777, bytes.length - 2);
    try {
      expect((await fetchAll(s.url)).equals(bytes.subarray(777, bytes.length - 1))).toBe(true);
      expect(await s.outcomes[0]).toBe('sent');
    } finally {
      await s.close();
    }
  });

  it('sends only the first bytes a cut answer may have', async () => {
    const s = await serve(0, bytes.length - 1, 3 * 1024 * 1024 + 5);
    try {
      expect((await fetchAll(s.url)).equals(bytes.subarray(0, 3 * 1024 * 1024 + 5))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it.runIf(process.platform === 'linux')('a client that goes away midway ends the send with an error and leaves the file closed', async () => {
    // Larger than the kernel's socket buffers on both sides can hold, so the send is still going.
    writeFileSync(path, Buffer.alloc(48 * 1024 * 1024, 1));
    const s = await serve(0, 48 * 1024 * 1024 - 1);
    try {
      await new Promise<void>((resolve) => {
        const req = get(s.url, (res) => res.once('data', () => (req.destroy(), resolve())));
      });
      expect(await s.outcomes[0]).toMatch(/^failed/);
      expect(openHere()).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('read as a plain stream, it gives the same bytes', async () => {
    const chunks: Buffer[] = [];
    for await (const c of await new FileBody(path, 10, 2 * 1024 * 1024).opened()) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(bytes.subarray(10, 2 * 1024 * 1024 + 1))).toBe(true);
  });
});
