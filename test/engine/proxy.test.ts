import { describe, expect, it } from 'vitest';
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { bypassesProxy } from '../../main/core/net/http';
import { rectangleJob } from '../helpers/job';
import { checkFinishedJob, runJob, useEmulator } from '../helpers/emulator';

/** A forward proxy on loopback that records what passes: CONNECT tunnels and absolute-form requests. */
function forwardProxy(): Promise<{ server: Server; url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url!);
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: target.pathname + target.search, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connect', (req, socket, head) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = req.url!.split(':');
    const up = connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(socket);
      // The targets speak plain HTTP, so the tunnel's request lines can be read as they pass.
      socket.on('data', (chunk: Buffer) => {
        for (const m of chunk.toString('latin1').matchAll(/^(GET|POST|PUT|PATCH|DELETE) (\S+) HTTP\/1\.1\r$/gm)) seen.push(`tunnel ${m[1]} ${m[2]}`);
      });
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen })));
}

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20 });

describe('proxies', () => {
  it('sends Earth Engine, Drive and sign-in traffic through HTTP(S)_PROXY', async () => {
    const proxy = await forwardProxy();
    try {
      const job = rectangleJob('proxied', 2, 2);
      const env = { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: '', http_proxy: '', https_proxy: '', no_proxy: '' };
      const r = await runJob(job.file, emu.url, env);
      expect(r.code, r.stderr).toBe(0);
      checkFinishedJob(emu.state(), 'proxied', job.output, 4);
      const host = new URL(emu.url).host;
      expect(proxy.seen).toContain(`CONNECT ${host}`);
      const through = (re: RegExp) => proxy.seen.some((s) => re.test(s));
      expect(through(/^tunnel GET \/v1\/projects\/[^/]+\/algorithms/)).toBe(true); // EE client, via fetch-xhr
      expect(through(/^tunnel POST \/v1\/projects\/[^/]+\/image:export/)).toBe(true);
      expect(through(/^tunnel POST \/batch/)).toBe(true);
      expect(through(/^tunnel GET \/drive\/v3\/files/)).toBe(true); // Drive, via gaxios
      expect(through(/^tunnel DELETE \/drive\/v3\/files\//)).toBe(true);
      expect(through(/^tunnel POST \/token/)).toBe(true); // OAuth
      expect(through(/^tunnel GET \/o\/oauth2\/v2\/auth/)).toBe(true); // Tessera's own fetch
    } finally {
      proxy.server.close();
    }
  });

  it('NO_PROXY keeps every request direct', async () => {
    const proxy = await forwardProxy();
    try {
      const job = rectangleJob('direct', 2, 1);
      const r = await runJob(job.file, emu.url, { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
      expect(r.code, r.stderr).toBe(0);
      expect(proxy.seen).toEqual([]);
    } finally {
      proxy.server.close();
    }
  });

  it('reads NO_PROXY the way curl does', () => {
    const u = new URL('https://earthengine.googleapis.com/v1/x');
    expect(bypassesProxy(u, 'googleapis.com')).toBe(true);
    expect(bypassesProxy(u, '.googleapis.com')).toBe(true);
    expect(bypassesProxy(u, 'gleapis.com')).toBe(false);
    expect(bypassesProxy(u, 'googleapis.com:80')).toBe(false);
    expect(bypassesProxy(u, 'localhost, *')).toBe(true);
    expect(bypassesProxy(new URL('http://[::1]:8080/'), '::1')).toBe(true);
  });
});
