/**
 * A request whose answer is lost must reach the Earth Engine client as an error without an HTTP status
 * (docs/ownership.md, "Lost answers") — also when the headers arrived and the body broke off.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchXhr } from '../../main/core/net/fetch-xhr';
import { isTransientEeMessage } from '../../main/core/google/transient';

let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/closed') {
      req.socket.end(); // a clean close, nothing sent
      return;
    }
    // Headers promising 100 bytes, 10 sent, then the connection goes.
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
    res.write('{"name":"x');
    setImmediate(() => res.socket?.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

/** What the EE client sees: onload with a status, or onerror with status 0 and the error text. */
function send(path: string): Promise<{ status: number; text: string; via: 'load' | 'error' }> {
  return new Promise((resolve) => {
    const xhr = new FetchXhr();
    xhr.open('POST', `${base}${path}`);
    xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText, via: 'load' });
    xhr.onerror = () => resolve({ status: xhr.status, text: xhr.responseText, via: 'error' });
    xhr.send('{}');
  });
}

describe('FetchXhr and lost answers', () => {
  it('a clean close is an error without status, worded as transient', async () => {
    const r = await send('/closed');
    expect(r).toMatchObject({ status: 0, via: 'error' });
    expect(isTransientEeMessage(`Invalid JSON: ${r.text}`)).toBe(true);
  });

  it('a body cut after the headers is an error without status too (not a half answer, not a hang)', async () => {
    const r = await send('/cut');
    expect(r).toMatchObject({ status: 0, via: 'error' });
    expect(isTransientEeMessage(`Invalid JSON: ${r.text}`)).toBe(true);
  });
});
