import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPreloadApi, INVOKE_CHANNELS, INVOKE_NAMES, registerHandlers, type InvokeName } from '../../shared/ipc';
import { HTTP_ROUTES, httpCallOf, matchRoute, STREAM_PATH } from '../../shared/http-routes';
import { startDashboardServer, type DashboardServer } from '../../main/server/server';
import type { DashboardServices } from '../../main/server/services';
import { desktopHandlers, type DesktopServices } from '../../main/electron/ipc-host';
import { HttpSseTransport } from '../../renderer/transport/http-sse';
import { ElectronTransport, type PreloadApi } from '../../renderer/transport/electron';
import { FakeHost, FakeIpcBus } from '../desktop/fakes';

/**
 * The one transport contract (docs/ARCHITECTURE.md, "Transports"): every channel of shared/ipc.ts is
 * served by every transport — the desktop app's IPC handlers, `tessera serve`'s HTTP routes (or its event
 * stream), and the renderer's transports — or says why a browser page has no use for it. A channel added
 * to the map and not served fails here.
 */
const APP = 'tessera://app';
const status = async () => ({ signedIn: false, email: null, storage: 'fake', warning: null, client: null });
const settings = { preventSleep: true, startAtLogin: false, notifications: true, basemapUrl: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png', eeProject: null, jobFiles: [] };
const services: DashboardServices = {
  settings: { get: () => settings, set: () => settings },
  auth: { status, signIn: status, signOut: status, cancelSignIn: status, setClient: status },
  assets: { list: async (folder) => ({ folder, truncated: false, assets: [] }), remove: async () => ({ deleted: [], alreadyGone: [] }) },
  doctor: { run: async () => ({ checks: [] }) },
};
const desktop: DesktopServices = { ...services, openExternal: async () => false, chooseFile: async () => null };

/** A request for each channel good enough to reach its handler (fields a route needs filled). */
const sample = (name: InvokeName): unknown => (name === 'summary' ? { job: 'demo' } : name === 'tile' ? { job: 'demo', id: 'x1_y1' } : undefined);

/** The refusals a transport gives when it does not carry a channel at all (as opposed to a handler's answer). */
const notCarried = (e: unknown) => {
  const message = (e as Error)?.message ?? '';
  return message === 'not found' || (e as { status?: number })?.status === 405 || /does not carry|^this window has no |No handler registered/.test(message);
};

describe('the channel map', () => {
  it('says for every channel how HTTP carries it: a route, the event stream, or why a page has no use for it', () => {
    for (const name of INVOKE_NAMES) {
      const http = INVOKE_CHANNELS[name].http as unknown;
      if (typeof http === 'string') expect(HTTP_ROUTES.filter((r) => r.name === name), name).toHaveLength(1);
      else if (typeof (http as { stream?: unknown }).stream === 'string') expect((http as { stream: string }).stream, name).toBe(`GET ${STREAM_PATH}`);
      else expect((http as { none?: string }).none, name).toMatch(/\w{3,}/);
    }
    const keys = HTTP_ROUTES.map((r) => `${r.method} ${r.segments.join('/')}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('builds requests and matches them back to the same channel (paths encoded)', () => {
    for (const route of HTTP_ROUTES) {
      const call = httpCallOf(route.name, { job: 'a-b', id: 'x/1' })!;
      const parts = call.path.split('/').slice(2).map(decodeURIComponent);
      const match = matchRoute(call.method, parts);
      expect(match && 'route' in match ? match.route.name : match, call.path).toBe(route.name);
    }
    expect(matchRoute('DELETE', ['snapshot'])).toEqual({ allowed: ['GET'] });
    expect(matchRoute('GET', ['nothing'])).toBeUndefined();
  });
});

describe('every channel is served by every transport', () => {
  let server: DashboardServer;
  let bus: FakeIpcBus;
  let ipcApi: PreloadApi;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-contract-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    server = await startDashboardServer({ host: new FakeHost(), rendererDir: dir, token: 'T', services });
    bus = new FakeIpcBus();
    registerHandlers(desktopHandlers(new FakeHost(), desktop).handlers, { ipc: bus.ipcMain, trustSender: () => true });
    ipcApi = createPreloadApi(bus.window(`${APP}/index.html`).ipcRenderer) as PreloadApi;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('IPC: the desktop app registers a handler on every channel', () => {
    expect([...bus.handlers.keys()].sort()).toEqual(INVOKE_NAMES.map((n) => INVOKE_CHANNELS[n].channel).sort());
    expect(Object.keys(desktopHandlers(new FakeHost(), desktop).handlers).sort()).toEqual([...INVOKE_NAMES].sort());
  });

  it('HTTP: tessera serve answers every routed channel through the renderer transport, and the stream', async () => {
    const transport = new HttpSseTransport({ token: 'T', base: server.url });
    const unserved: string[] = [];
    for (const route of HTTP_ROUTES) {
      const outcome = await transport.invoke(route.name, sample(route.name)).then(() => 'ok', (e: unknown) => e);
      if (outcome !== 'ok' && notCarried(outcome)) unserved.push(`${route.name}: ${(outcome as Error).message}`);
    }
    expect(unserved).toEqual([]);
    const stream = await fetch(`${server.url}${STREAM_PATH}`, { headers: { Authorization: 'Bearer T' } });
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await stream.body?.cancel();
  });

  it('the renderer: the desktop transport reaches every channel through the preload', async () => {
    const transport = new ElectronTransport(ipcApi);
    const unserved: string[] = [];
    for (const name of INVOKE_NAMES.filter((n) => n !== 'subscribe' && n !== 'unsubscribe')) {
      const outcome = await transport.invoke(name, name === 'openExternal' ? { url: 'https://example.org' } : name === 'chooseFile' ? { kind: 'roi' } : sample(name)).then(() => 'ok', (e: unknown) => e);
      if (outcome !== 'ok' && notCarried(outcome)) unserved.push(`${name}: ${(outcome as Error).message}`);
    }
    expect(unserved).toEqual([]);
  });
});
