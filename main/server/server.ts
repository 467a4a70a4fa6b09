import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { UPLOAD_MAX_BYTES, type StreamMessage, type UploadResult } from '../../shared/dashboard';
import { z } from 'zod';
import type { DashboardHostCalls } from '../../shared/dashboard-host';
import { RequestError, UserError } from '../core/errors';
import { invalidRequest, refusalOf } from '../../shared/errors';
import { INVOKE_CHANNELS, type InvokeName } from '../../shared/ipc';
import { matchRoute, requestOf, STREAM_PATH } from '../../shared/http-routes';
import { rendererContentType } from './renderer-files';
import { answerUnread } from './unread-body';
import type { DashboardServices } from './services';
import { attachPreviews } from '../core/preview/attach';
import { dashboardHandlers } from './handlers';
import { basemapOrigin, DEFAULT_BASEMAP_URL } from '../../shared/settings';

/** What the server needs from the engine host (main/core/engine/host.ts implements it). */
export interface DashboardHost extends DashboardHostCalls {
  /** A file sent from the page (ROI or recipe), kept in the host's uploads folder; answers its path. */
  saveUpload?(name: string, body: AsyncIterable<Uint8Array>): Promise<UploadResult>;
  /** A job's folders (quicklooks live beside its journal, docs/previews.md); without it there are none. */
  jobOf?(job: string): { readonly name: string; readonly stateDir: string; readonly output: string };
}

export interface DashboardServerOptions {
  host: DashboardHost;
  /** The built renderer (index.html, app.js, app.css). */
  rendererDir: string;
  /** 0 (default): any free port. */
  port?: number;
  /** A fixed token (tests); by default a random one. */
  token?: string;
  /** SSE keep-alive comment interval (ms, default 15 000). */
  heartbeatMs?: number;
  /** Settings, sign-in and the assets panel (main/server/services.ts); absent: those routes answer 404. */
  services?: DashboardServices;
}

export interface DashboardServer {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

/** Images may come from the basemap's origin (a setting; OpenStreetMap by default); nothing else leaves the page. */
export function contentSecurityPolicy(basemapUrl: string = DEFAULT_BASEMAP_URL): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: ${basemapOrigin(basemapUrl)}`,
    "connect-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
export const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

const SECURITY_HEADERS: Record<string, string> = {
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=()',
};


const MAX_BODY = 4 * 1024 * 1024;
/** A client that cannot keep up with the stream is dropped (it reconnects and fetches a snapshot). */
const MAX_STREAM_BACKLOG = 16 * 1024 * 1024;

/**
 * The dashboard over HTTP on 127.0.0.1 only: the built renderer (public, it holds no data), and an API
 * that needs the token — sent by the page as `Authorization: Bearer …` after reading it from the URL
 * fragment (a fragment never reaches a server, a log or a Referer). No cookie: cookies are shared by
 * every port of 127.0.0.1. The Host header must name this server (DNS rebinding), and every answer
 * carries `Referrer-Policy: no-referrer` and a strict CSP.
 *
 * API: one route per channel of shared/ipc.ts (its `http` binding, e.g. `GET /api/jobs/:job/summary`,
 * `POST /api/command`), request checked with the channel's schema and answered by main/server/handlers.ts;
 * `GET /api/events` (Server-Sent Events, one `StreamMessage` per event, `hello` first); and
 * `POST /api/wizard/upload?name=` (a file's bytes, at most UPLOAD_MAX_BYTES, kept by the host in its
 * uploads folder). Refusals are `{ error }` with the status of shared/errors.ts `refusalOf`.
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const files = await loadRenderer(options.rendererDir);
  const token = options.token ?? randomBytes(24).toString('base64url');
  const tokenBytes = Buffer.from(token);
  const host = options.host;
  // Quicklooks of finished units, made in the background as units finish (docs/previews.md); stopped on close.
  const previews = attachPreviews(host);
  const handlers = dashboardHandlers(host, options.services, 'dashboard', previews);
  const streams = new Set<() => void>();
  let port = 0;

  const server = createServer((req, res) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    if (options.services) res.setHeader('Content-Security-Policy', contentSecurityPolicy(options.services.settings.get().basemapUrl));
    res.setHeader('Cache-Control', 'no-store');
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) answerUnread(req, res, () => json(res, 500, { error: `unexpected error: ${(e as Error)?.message ?? String(e)}` }));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (hostHeader !== `127.0.0.1:${port}` && hostHeader !== `localhost:${port}`) {
      return json(res, 403, { error: 'unexpected Host header: open the address printed by tessera serve' });
    }
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const path = url.pathname;
    if (!path.startsWith('/api/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
      const file = files.get(path === '/' ? '/index.html' : path);
      if (!file) return json(res, 404, { error: 'not found' });
      res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': file.body.length });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return;
    }
    if (!authorised(req)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return json(res, 401, { error: 'this needs the token: open the address printed by tessera serve (…/#token=…)' });
    }
    // Requests from another origin are refused even with a token (a browser sends Origin on POST).
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`) {
      return json(res, 403, { error: 'requests from another origin are refused' });
    }
    let parts: string[];
    try {
      parts = path.split('/').slice(2).map((p) => decodeURIComponent(p));
    } catch {
      return json(res, 400, { error: 'malformed path' });
    }
    try {
      if (req.method === 'GET' && path === STREAM_PATH) return stream(req, res);
      // A file for the wizard (ROI or recipe): the raw bytes, `?name=` its file name (sanitised by the host).
      // The one route that is not a channel: a page cannot give a path, so it sends the bytes.
      if (path === '/api/wizard/upload' && host.saveUpload) {
        if (req.method !== 'POST') throw new RequestError(405, 'POST it');
        if (!/^application\/octet-stream\b/i.test(req.headers['content-type'] ?? '')) throw new RequestError(415, 'send the file as application/octet-stream');
        const declared = Number(req.headers['content-length'] ?? NaN);
        if (declared > UPLOAD_MAX_BYTES) throw new RequestError(413, `the file is larger than ${UPLOAD_MAX_BYTES / 1024 ** 2} MB`);
        const name = url.searchParams.get('name');
        if (!name) throw new RequestError(400, 'name the file (?name=…)');
        // Not destroyed when the host stops reading (a refusal): the answer below is sent by answerUnread.
        return json(res, 200, await host.saveUpload(name, req.iterator({ destroyOnReturn: false })));
      }
      // Every other route is a channel of shared/ipc.ts (shared/http-routes.ts): checked, then handled.
      const match = matchRoute(req.method ?? 'GET', parts);
      if (!match) throw new RequestError(404, 'not found');
      if ('allowed' in match) {
        res.setHeader('Allow', match.allowed.join(', '));
        throw new RequestError(405, `${match.allowed.join(' or ')} it`);
      }
      const { route, params } = match;
      const handler = (handlers as Partial<Record<InvokeName, (request: unknown) => unknown>>)[route.name];
      if (!handler) throw new RequestError(404, 'not found');
      const body = route.method === 'GET' ? undefined : await readJson(req, route.name === 'command' ? 'the command' : undefined, true);
      const parsed = INVOKE_CHANNELS[route.name].request.safeParse(requestOf(route, params, body));
      if (!parsed.success) {
        // A path field no resource can have (a job name no job can bear) names nothing: 404, as an unknown
        // job does; a bad body is a bad request.
        if (parsed.error.issues.some((i) => typeof i.path[0] === 'string' && i.path[0] in params)) throw new RequestError(404, `${route.method} ${path}: not found`);
        throw new RequestError(400, invalidRequest(`${route.method} ${path}`, z.prettifyError(parsed.error)).message);
      }
      return json(res, 200, await handler(parsed.data));
    } catch (e) {
      // The error model's one mapping to HTTP (shared/errors.ts): a 4xx kept, anything else a 500.
      const { status, message } = refusalOf(e);
      if (status === 500) throw e;
      return answerUnread(req, res, () => json(res, status, { error: message }));
    }
  }

  function authorised(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const given = Buffer.from(m?.[1] ?? (typeof req.headers['x-tessera-token'] === 'string' ? req.headers['x-tessera-token'] : ''));
    return given.length === tokenBytes.length && timingSafeEqual(given, tokenBytes);
  }

  function stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    let buffered = '';
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      if (!buffered) return;
      res.write(buffered);
      buffered = '';
      if (res.writableLength > MAX_STREAM_BACKLOG) res.destroy();
    };
    const send = (m: StreamMessage) => {
      buffered += `id: ${m.seq}\ndata: ${JSON.stringify(m)}\n\n`;
      // A burst of transitions goes out as one write.
      timer ??= setTimeout(flush, 30);
    };
    const unsubscribe = host.subscribe(send);
    res.write('retry: 2000\n\n');
    send({ kind: 'hello', seq: host.position() });
    flush();
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
    const end = () => {
      unsubscribe();
      clearInterval(heartbeat);
      if (timer) clearTimeout(timer);
      streams.delete(end);
      if (!res.writableEnded) res.end();
    };
    streams.add(end);
    req.on('close', end);
    res.on('error', end);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new UserError(`port ${options.port} on 127.0.0.1 is already in use; choose another with --port`) : e),
    );
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    token,
    close: async () => {
      await new Promise<void>((resolve) => {
        for (const end of [...streams]) end();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await previews.stop();
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A request's JSON body: 415 unless sent as application/json, 413 when too large, 400 when it does not
 * parse (`what` names it in the messages). An empty body is `undefined` only when `emptyOk`.
 */
async function readJson(req: IncomingMessage, what?: string, emptyOk = false): Promise<unknown> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new RequestError(415, `send ${what ?? 'it'} as application/json`);
  const text = await readBody(req);
  if (!text && emptyOk) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new RequestError(400, `${what ? `${what} is ` : ''}not valid JSON (${(e as Error).message})`);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.off('data', onData);
        req.pause(); // answerUnread reads the rest once the 413 is decided
        reject(new RequestError(413, `the request is larger than ${MAX_BODY / 1024 ** 2} MB`));
      } else chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Reads of the built renderer at start, and the pause between them (a rebuild replaces the folder). */
const RENDERER_READS = 4;
const RENDERER_READ_PAUSE_MS = 500;

/**
 * The built renderer, read once: only these files are ever served (no path from a request reaches the
 * disk). `npm run build` empties the folder and writes it again, so a folder without index.html is read
 * again a few times before it counts as not built; the message then says what the folder held.
 */
async function loadRenderer(dir: string): Promise<Map<string, { type: string; body: Buffer }>> {
  for (let attempt = 1; ; attempt++) {
    const read = readRendererOnce(dir);
    if (read.files.has('/index.html')) return read.files;
    if (attempt >= RENDERER_READS) {
      const held = read.names === undefined ? 'the folder does not exist' : `it holds ${read.names.length ? read.names.join(', ') : 'nothing'}`;
      throw new UserError(`the dashboard is not built (no index.html in ${dir}; ${held}): run npm run build`);
    }
    await new Promise((r) => setTimeout(r, RENDERER_READ_PAUSE_MS));
  }
}

function readRendererOnce(dir: string): { names?: string[]; files: Map<string, { type: string; body: Buffer }> } {
  const files = new Map<string, { type: string; body: Buffer }>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    // Only a missing folder means "not built"; any other failure is reported as itself, not as a build to redo.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(dir, e);
    return { files };
  }
  for (const name of names) {
    const type = rendererContentType(name);
    if (!type) continue;
    try {
      const path = join(dir, name);
      if (statSync(path).isFile()) files.set(`/${name}`, { type, body: readFileSync(path) });
    } catch (e) {
      // Removed between the listing and the read: a rebuild under way (read again above).
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(dir, e);
    }
  }
  return { names, files };
}

function unreadable(dir: string, e: unknown): UserError {
  return new UserError(`cannot read the dashboard's files in ${dir}: ${(e as Error).message}`);
}
