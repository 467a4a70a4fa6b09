// Every IPC channel of shared/ipc.ts, through the preload API and the main-side handlers joined by an
// in-process fake of Electron's IPC (test/desktop/fakes.ts): good calls, malformed payloads, wrong senders.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createPreloadApi, EVENT_CHANNELS, INVOKE_CHANNELS, INVOKE_NAMES, IpcCallError, registerHandlers, senderFromOrigin, unwrap,
  type InvokeName, type InvokeRequest, type InvokeResponse, type IpcRendererLike, type Settings, type TesseraApi,
} from '../../shared/ipc';
import { CommandResultSchema, DashboardSnapshotSchema, JobSummarySchema, StreamMessageSchema, TileDetailSchema, type StreamMessage } from '../../shared/dashboard';
import { CompactSnapshotSchema } from '../../shared/compact-view';
import { desktopHandlers, type DesktopIpc } from '../../main/electron/ipc-host';
import { APP_ORIGIN, isAllowedExternal } from '../../main/electron/security';
import { ElectronTransport } from '../../renderer/transport/electron';
import { TesseraClient } from '../../renderer/api';
import { FakeHost, FakeIpcBus, type FakeWindow } from './fakes';

const APP_URL = `${APP_ORIGIN}/index.html`;

/** The preload API with its envelopes unwrapped, as the page uses it (a refusal throws IpcCallError). */
type Api = { [N in InvokeName]: InvokeRequest<N> extends undefined ? () => Promise<InvokeResponse<N>> : (r: InvokeRequest<N>) => Promise<InvokeResponse<N>> } & Pick<TesseraApi, 'onStream'>;
function pageApi(ipcRenderer: IpcRendererLike): Api {
  const raw = createPreloadApi(ipcRenderer) as unknown as Record<string, (r?: unknown) => Promise<never>>;
  const api: Record<string, unknown> = { onStream: raw.onStream };
  for (const n of INVOKE_NAMES) api[n] = async (r?: unknown) => unwrap(await raw[n]!(r));
  return api as Api;
}
const tick = () => new Promise((r) => setTimeout(r, 0));

let bus: FakeIpcBus;
let host: FakeHost;
let ipc: DesktopIpc;
let win: FakeWindow;
let api: Api;
let rawApi: TesseraApi;
let opened: string[];
let chosen: string[];
let deleted: string[];
let cancelled = 0;
let settings: Settings;
let refused: { channel: string; status: number }[];
let dispose: () => void;

beforeEach(() => {
  bus = new FakeIpcBus();
  host = new FakeHost();
  opened = [];
  chosen = [];
  refused = [];
  settings = { preventSleep: true, startAtLogin: false, notifications: true, basemapUrl: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png', eeProject: null, jobFiles: [] };
  let client: string | null = null;
  deleted = [];
  cancelled = 0;
  let signedIn = false;
  const status = () => ({ signedIn, email: signedIn ? 'ada@example.org' : null, storage: 'fake keychain', warning: null, client });
  ipc = desktopHandlers(host, {
    settings: { get: () => settings, set: (patch) => (settings = { ...settings, ...patch }) },
    auth: {
      status: async () => status(),
      signIn: async () => {
        signedIn = true;
        return status();
      },
      signOut: async () => {
        signedIn = false;
        return status();
      },
      cancelSignIn: async () => {
        cancelled++;
        return status();
      },
      setClient: async (input) => {
        client = 'clientId' in input ? input.clientId : 'from-json';
        return status();
      },
    },
    assets: {
      list: async (folder, recursive) => ({ folder, truncated: false, assets: [{ name: `${folder}/a`, type: 'TABLE' as const, featureCount: 3, depth: 0 }, ...(recursive ? [{ name: `${folder}/f/b`, type: 'IMAGE' as const, depth: 1 }] : [])] }),
      remove: async (names) => {
        deleted.push(...names);
        return { deleted: names, alreadyGone: [] };
      },
    },
    doctor: { run: async (job) => ({ checks: [{ id: 'credentials' as const, status: 'ok' as const, message: `checked ${job ?? 'the account'}` }] }) },
    openExternal: async (url) => {
      if (!isAllowedExternal(url)) return false;
      opened.push(url);
      return true;
    },
    chooseFile: async (kind) => {
      chosen.push(kind);
      return kind === 'roi' ? '/data/area.gpkg' : null;
    },
  });
  dispose = registerHandlers(ipc.handlers, { ipc: bus.ipcMain, trustSender: senderFromOrigin(APP_ORIGIN), onError: (channel, status) => refused.push({ channel, status }) });
  win = bus.window(APP_URL);
  rawApi = createPreloadApi(win.ipcRenderer);
  api = pageApi(win.ipcRenderer);
});

afterEach(() => {
  ipc.close();
  dispose();
});

/** One good call per channel; the table must cover every channel of the contract. */
const GOOD: { [N in InvokeName]: { call: (a: Api) => Promise<unknown>; check: (v: unknown) => void } } = {
  snapshot: { call: (a) => a.snapshot(), check: (v) => expect(DashboardSnapshotSchema.parse(v).jobs[0]!.name).toBe('demo') },
  compactSnapshot: { call: (a) => a.compactSnapshot(), check: (v) => expect(CompactSnapshotSchema.parse(v).jobs[0]!.name).toBe('demo') },
  summary: { call: (a) => a.summary({ job: 'demo' }), check: (v) => expect(JobSummarySchema.parse(v).progress.total).toBe(2) },
  tile: { call: (a) => a.tile({ job: 'demo', id: 'r0c0' }), check: (v) => expect(TileDetailSchema.parse(v).id).toBe('r0c0') },
  command: { call: (a) => a.command({ type: 'status', job: 'demo' }), check: (v) => expect(CommandResultSchema.parse(v).progress?.job).toBe('demo') },
  subscribe: { call: (a) => a.subscribe(), check: (v) => expect(v).toEqual({ seq: 0 }) },
  unsubscribe: { call: (a) => a.unsubscribe(), check: (v) => expect(v).toEqual({ ok: true }) },
  getSettings: { call: (a) => a.getSettings(), check: (v) => expect(v).toMatchObject({ preventSleep: true }) },
  setSettings: { call: (a) => a.setSettings({ preventSleep: false }), check: (v) => expect(v).toMatchObject({ preventSleep: false, notifications: true }) },
  authStatus: { call: (a) => a.authStatus(), check: (v) => expect(v).toMatchObject({ signedIn: false }) },
  signIn: { call: (a) => a.signIn({}), check: (v) => expect(v).toMatchObject({ signedIn: true, email: 'ada@example.org' }) },
  signOut: { call: (a) => a.signOut(), check: (v) => expect(v).toMatchObject({ signedIn: false }) },
  cancelSignIn: { call: (a) => a.cancelSignIn(), check: (v) => expect([v, cancelled]).toMatchObject([{ signedIn: false }, 1]) },
  setOAuthClient: { call: (a) => a.setOAuthClient({ clientId: '1234-abc.apps.googleusercontent.com', clientSecret: 'GOCSPX-secret' }), check: (v) => expect(v).toMatchObject({ client: '1234-abc.apps.googleusercontent.com' }) },
  listAssets: {
    call: (a) => a.listAssets({ folder: 'projects/my-project/assets/tiles/', recursive: true }),
    check: (v) => expect(v).toMatchObject({ folder: 'projects/my-project/assets/tiles', assets: [{ name: 'projects/my-project/assets/tiles/a' }, { depth: 1 }] }),
  },
  deleteAssets: {
    call: (a) => a.deleteAssets({ names: ['projects/my-project/assets/tiles/a'] }),
    check: (v) => {
      expect(v).toEqual({ deleted: ['projects/my-project/assets/tiles/a'], alreadyGone: [] });
      expect(deleted).toEqual(['projects/my-project/assets/tiles/a']);
    },
  },
  openExternal: { call: (a) => a.openExternal({ url: 'https://accounts.google.com/o/oauth2/v2/auth?x=1' }), check: (v) => expect(v).toEqual({ opened: true }) },
  runDoctor: { call: (a) => a.runDoctor({ job: 'demo' }), check: (v) => expect(v).toEqual({ checks: [{ id: 'credentials', status: 'ok', message: 'checked demo' }] }) },
  previewGrid: {
    call: (a) => a.previewGrid({ roi: { path: '/data/area.gpkg' }, grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 1000 } }),
    check: (v) => expect(v).toMatchObject({ tiles: 2, layer: 'area' }),
  },
  createJob: {
    call: (a) =>
      a.createJob({ file: '/tmp/made.json', start: true, job: { name: 'made', roi: { path: '/data/area.gpkg' }, grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 1000 }, drive: { folder: 'f' }, output: 'out' } }),
    check: (v) => expect(v).toEqual({ ok: true, name: 'made', file: '/tmp/made.json' }),
  },
  checkRecipe: {
    call: (a) => a.checkRecipe({ recipe: { file: '/data/recipe.js' }, roi: { path: '/data/area.gpkg' }, grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 1000 } }),
    check: (v) => expect(v).toMatchObject({ ok: true, kind: 'image', bands: [{ id: 'NDVI', type: 'Float32' }] }),
  },
  // This host has no job folders: no quicklook, answered as "not made" rather than refused.
  preview: { call: (a) => a.preview({ job: 'demo', unit: 'r0c0' }), check: (v) => expect(v).toEqual({ unit: 'r0c0', png: null }) },
  chooseFile: {
    call: (a) => a.chooseFile({ kind: 'roi' }),
    check: (v) => {
      expect(v).toEqual({ path: '/data/area.gpkg' });
      expect(chosen).toEqual(['roi']);
    },
  },
};

/** Payloads each channel must refuse (sent raw, bypassing the preload's own check). */
const BAD: Record<InvokeName, unknown[]> = {
  snapshot: [{ job: 'demo' }, 'x'],
  compactSnapshot: [{ job: 'demo' }, 'x'],
  summary: [undefined, {}, { job: '../etc' }, { job: 'demo', extra: 1 }],
  tile: [{ job: 'demo' }, { job: 'demo', id: '' }, { job: 'demo', id: 7 }],
  command: [{ type: 'explode', job: 'demo' }, { type: 'retry', job: 'demo', tiles: [] }, { type: 'pause' }, null, 'pause demo'],
  subscribe: [{ all: true }],
  unsubscribe: [42],
  getSettings: [{}],
  setSettings: [{ preventSleep: 'yes' }, { basemapUrl: 'https://evil.example/x?' }, { eeProject: 'Bad Project' }, { jobState: {} }, { jobFiles: 'a.json' }],
  authStatus: [[]],
  signIn: [{ acceptWeakStorage: 'sure' }, { token: 'x' }],
  signOut: [{ everywhere: true }],
  cancelSignIn: [{ now: true }, 'yes'],
  setOAuthClient: [{}, { clientId: 'x' }, { clientId: 'a b c d e f g h', clientSecret: 'secret-1' }, { json: '' }, { json: '{}', clientId: 'x' }],
  listAssets: [{}, { folder: 'users/ada/x' }, { folder: 'projects/p/assets/../../x' }, { folder: 'projects/my-project/assets/x', recursive: 'yes' }],
  deleteAssets: [{ names: [] }, { names: ['projects/my-project/assets'] }, { names: ['projects/my-project/assets/x'], recursive: 1 }, { names: 'projects/my-project/assets/x' }],
  openExternal: [{}, { url: 5 }, { url: 'x'.repeat(3000) }],
  runDoctor: [{ job: '../etc' }, { job: 'demo', fix: true }, 'demo'],
  previewGrid: [{}, { roi: { path: '' }, grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 1000 } }, { roi: { path: '/a.gpkg' }, grid: { crs: 'wgs84', scale: 10, tilePixels: 1000 } }],
  checkRecipe: [{}, { recipe: { file: '' }, roi: { path: '/a.gpkg' }, grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 1000 } }, { recipe: { file: '/r.js' }, roi: { path: '/a.gpkg' } }],
  chooseFile: [undefined, {}, { kind: 'folder' }, { kind: 'roi', defaultPath: '/etc' }],
  preview: [{ job: 'demo' }, { job: 'demo', unit: '../x' }, { job: 'demo', unit: 'a/b' }, { job: 'demo', unit: '2021@../x' }, { job: '../etc', unit: 'x0_y0' }],
  createJob: [{ file: '/tmp/x.json' }, { file: '/tmp/x.txt', job: { name: 'a_b', roi: { path: '/a' }, grid: { crs: 'EPSG:3035', scale: 1, tilePixels: 1 }, drive: { folder: 'f' }, output: 'o' } }],
};

describe('shared/ipc.ts: the channel map', () => {
  it('names each channel once, under tessera:, and registers a handler for every one', () => {
    const channels = INVOKE_NAMES.map((n) => INVOKE_CHANNELS[n].channel);
    expect(new Set(channels).size).toBe(channels.length);
    for (const c of [...channels, EVENT_CHANNELS.stream.channel]) expect(c).toMatch(/^tessera:[a-z:-]+$/);
    expect([...bus.handlers.keys()].sort()).toEqual([...channels].sort());
    expect(Object.keys(GOOD).sort()).toEqual([...INVOKE_NAMES].sort());
    expect(Object.keys(BAD).sort()).toEqual([...INVOKE_NAMES].sort());
  });

  it('removes every handler when disposed', () => {
    dispose();
    expect(bus.handlers.size).toBe(0);
    dispose = () => undefined;
  });
});

describe('every invoke channel through the preload API', () => {
  for (const name of INVOKE_NAMES) {
    it(`${name}: a good call answers with what its schema describes`, async () => {
      const value = await GOOD[name].call(api);
      expect(INVOKE_CHANNELS[name].response.safeParse(value).success).toBe(true);
      GOOD[name].check(value);
    });
  }

  it('command: the host receives the parsed command; a 404 keeps its status; an unexpected error is a 500, not a crash', async () => {
    await api.command({ type: 'retry', job: 'demo', tiles: ['r0c0'] });
    expect(host.commands).toEqual([{ type: 'retry', job: 'demo', tiles: ['r0c0'] }]);
    await expect(api.command({ type: 'pause', job: 'other' })).rejects.toMatchObject({ name: 'IpcCallError', status: 404, message: 'no job named other' });
    await expect(api.command({ type: 'cancel', job: 'demo' })).rejects.toMatchObject({ status: 500, message: expect.stringContaining('the disk is on fire') });
    await expect(api.tile({ job: 'demo', id: 'nope' })).rejects.toMatchObject({ status: 404 });
    // and the channel still works afterwards
    expect(await api.command({ type: 'status', job: 'demo' })).toMatchObject({ ok: true });
  });

  it('openExternal: only the allowed https URLs reach the system browser', async () => {
    for (const url of ['http://accounts.google.com/', 'file:///etc/passwd', 'https://evil.example/', 'javascript:alert(1)', 'https://accounts.google.com.evil.example/']) {
      expect(await api.openExternal({ url })).toEqual({ opened: false });
    }
    await api.openExternal({ url: 'https://console.cloud.google.com/apis/credentials' });
    expect(opened).toEqual(['https://console.cloud.google.com/apis/credentials']);
  });
});

describe('malformed payloads', () => {
  for (const name of INVOKE_NAMES) {
    it(`${name}: each malformed payload gets a clear 400, and the handler is not run`, async () => {
      const { channel } = INVOKE_CHANNELS[name];
      for (const payload of BAD[name]) {
        const answer = await bus.raw(channel, payload, win);
        expect(answer, JSON.stringify(payload)).toMatchObject({ ok: false, error: { status: 400, message: expect.stringContaining(`${channel}: invalid request`) } });
      }
      expect(host.commands).toEqual([]);
      expect(settings.preventSleep).toBe(true);
      expect(opened).toEqual([]);
      expect(chosen).toEqual([]);
    });
  }

  it('the preload refuses a malformed call before it leaves the page', async () => {
    const calls: string[] = [];
    const spy = pageApi({ ...win.ipcRenderer, invoke: async (c, p) => (calls.push(c), win.ipcRenderer.invoke(c, p)) });
    // @ts-expect-error: deliberately wrong
    await expect(spy.command({ type: 'explode', job: 'demo' })).rejects.toBeInstanceOf(IpcCallError);
    // @ts-expect-error: deliberately wrong
    await expect(spy.summary({ job: 42 })).rejects.toMatchObject({ status: 400 });
    expect(calls).toEqual([]);
  });

  it('the raw preload API answers refusals as data (contextBridge would drop an Error\'s status)', async () => {
    expect(await rawApi.summary({ job: 'other' })).toEqual({ ok: false, error: { status: 404, message: 'no job named other' } });
    // @ts-expect-error: deliberately wrong
    expect(await rawApi.summary({ job: 42 })).toMatchObject({ ok: false, error: { status: 400 } });
  });

  it('an answer that is not the envelope is an error, not undefined', async () => {
    const broken = pageApi({ ...win.ipcRenderer, invoke: async () => 'surprise' });
    await expect(broken.snapshot()).rejects.toMatchObject({ status: 500, message: expect.stringContaining('no answer') });
  });
});

describe('wrong senders', () => {
  const SENDERS: (string | null)[] = [
    'https://evil.example/index.html',
    'file:///work/main/out/renderer/index.html',
    'tessera://app.evil.example/index.html',
    'tessera://evil/index.html',
    'http://127.0.0.1:8080/',
    'devtools://devtools/bundled/inspector.html',
    'not a url',
    '',
    null,
  ];
  for (const url of SENDERS) {
    it(`refuses every channel from ${JSON.stringify(url)} with 403`, async () => {
      const intruder = bus.window(url);
      for (const name of INVOKE_NAMES) {
        const answer = await bus.raw(INVOKE_CHANNELS[name].channel, undefined, intruder);
        expect(answer).toMatchObject({ ok: false, error: { status: 403 } });
      }
      const evilApi = pageApi(intruder.ipcRenderer);
      await expect(evilApi.command({ type: 'cancel', job: 'demo' })).rejects.toMatchObject({ status: 403 });
      await expect(evilApi.subscribe()).rejects.toMatchObject({ status: 403 });
      expect(host.commands).toEqual([]);
      expect(host.listenerCount()).toBe(0);
      expect(refused.every((r) => r.status === 403)).toBe(true);
    });
  }

  it('a window that navigated away (senderFrame URL changed) loses access', async () => {
    expect(await api.snapshot()).toBeTruthy();
    win.url = 'https://evil.example/';
    await expect(api.snapshot()).rejects.toMatchObject({ status: 403 });
  });

  it('a sender check that throws counts as refused', async () => {
    dispose();
    const bus2 = new FakeIpcBus();
    dispose = registerHandlers(ipc.handlers, {
      ipc: bus2.ipcMain,
      trustSender: () => {
        throw new Error('boom');
      },
    });
    expect(await bus2.raw(INVOKE_CHANNELS.snapshot.channel, undefined, bus2.window(APP_URL))).toMatchObject({ ok: false, error: { status: 403 } });
  });
});

describe('the event stream', () => {
  it('reaches the page without the IPC event object, only to subscribed windows, and stops on unsubscribe', async () => {
    const got: unknown[][] = [];
    const off = api.onStream((...args: unknown[]) => got.push(args));
    const other = bus.window(APP_URL); // not subscribed
    await api.subscribe();
    host.emit();
    await tick();
    expect(got).toHaveLength(1);
    expect(got[0]).toHaveLength(1); // the payload only: never the IpcRendererEvent (which reaches `sender`)
    expect(StreamMessageSchema.parse(got[0]![0]).seq).toBe(1);
    expect(other.sent).toEqual([]);
    await api.unsubscribe();
    host.emit();
    await tick();
    expect(got).toHaveLength(1);
    off();
    expect(win.listenerCount(EVENT_CHANNELS.stream.channel)).toBe(0);
  });

  it('subscribing again replaces the stream (no duplicates); a destroyed window is dropped', async () => {
    await api.subscribe();
    await api.subscribe();
    expect(host.listenerCount()).toBe(1);
    expect(ipc.subscribers()).toBe(1);
    win.destroy();
    expect(host.listenerCount()).toBe(0);
    expect(ipc.subscribers()).toBe(0);
  });

  it('ElectronTransport + TesseraClient: hello first, then only messages after it, validated', async () => {
    host.emit(); // before the page subscribes: part of the snapshot
    const client = new TesseraClient(new ElectronTransport(rawApi));
    const messages: StreamMessage[] = [];
    const states: string[] = [];
    const stop = client.subscribe((m) => messages.push(m), (s) => states.push(s));
    await tick();
    host.emit();
    host.emit();
    await tick();
    expect(messages.map((m) => [m.kind, m.seq])).toEqual([['hello', 1], ['event', 2], ['event', 3]]);
    expect(states).toEqual(['connecting', 'open']);
    const snap = await client.snapshot();
    expect(snap.jobs[0]!.tiles).toHaveLength(2);
    expect(await client.command({ type: 'status', job: 'demo' })).toMatchObject({ ok: true });
    await expect(client.tile('demo', 'nope')).rejects.toMatchObject({ name: 'TransportError', status: 404 });
    stop();
    await tick();
    expect(states.at(-1)).toBe('closed');
    expect(host.listenerCount()).toBe(0);
  });

  it('ElectronTransport holds messages that arrive before the subscribe answer and drops those the hello includes', async () => {
    let stream: ((m: unknown) => void) | undefined;
    let answer: ((v: { seq: number }) => void) | undefined;
    const fake = {
      onStream: (l: (m: unknown) => void) => ((stream = l), () => undefined),
      subscribe: () => new Promise((r) => (answer = (v: { seq: number }) => r({ ok: true, value: v }))),
      unsubscribe: async () => ({ ok: true, value: { ok: true } }),
    } as unknown as ConstructorParameters<typeof ElectronTransport>[0];
    const got: unknown[] = [];
    new ElectronTransport(fake).subscribe((m) => got.push(m), () => undefined);
    stream!({ kind: 'event', seq: 5 });
    stream!({ kind: 'event', seq: 6 });
    answer!({ seq: 5 });
    await tick();
    expect(got).toEqual([{ kind: 'hello', seq: 5 }, { kind: 'event', seq: 6 }]);
  });
});
