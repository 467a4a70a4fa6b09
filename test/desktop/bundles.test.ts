// The built desktop bundles (npm run build), loaded with a fake `electron` module in plain Node: the
// preload is one self-contained CommonJS file that requires nothing but `electron` and exposes only the
// API; the main bundle resolves (electron-store folded in) without any real Electron.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { INVOKE_CHANNELS, INVOKE_NAMES } from '../../shared/ipc';
import { REPO } from '../helpers/cli';

const PRELOAD = join(REPO, 'out', 'electron', 'preload.cjs');
const MAIN = join(REPO, 'out', 'electron', 'main.cjs');

describe('out/electron/preload.cjs', () => {
  it('requires only electron, and exposes window.tessera (never ipcRenderer) through contextBridge', async () => {
    const required: string[] = [];
    const exposed: Record<string, unknown> = {};
    const invoked: [string, unknown][] = [];
    const ipcRenderer = {
      invoke: async (channel: string, payload: unknown) => (invoked.push([channel, payload]), { ok: true, value: { seq: 3, jobs: [] } }),
      on: () => undefined,
      removeListener: () => undefined,
    };
    const electron = { contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) }, ipcRenderer, webUtils: { getPathForFile: (f: { fake: string }) => `/home/ada/${f.fake}` } };
    const module = { exports: {} };
    runInNewContext(readFileSync(PRELOAD, 'utf8'), {
      require: (m: string) => {
        required.push(m);
        if (m === 'electron') return electron;
        throw new Error(`a sandboxed preload cannot require ${m}`);
      },
      module,
      exports: module.exports,
      console,
    });
    expect([...new Set(required)]).toEqual(['electron']);
    expect(Object.keys(exposed)).toEqual(['tessera']);
    const api = exposed.tessera as Record<string, (...a: unknown[]) => Promise<unknown>>;
    expect(Object.keys(api).sort()).toEqual([...INVOKE_NAMES, 'onStream', 'pathForFile'].sort());
    // A dropped file's path comes from webUtils in the preload (File.path is gone since Electron 32).
    expect((api.pathForFile as unknown as (f: unknown) => string)({ fake: 'area.gpkg' })).toBe('/home/ada/area.gpkg');
    expect(Object.values(api).every((v) => typeof v === 'function')).toBe(true);
    expect(Object.values(api)).not.toContain(ipcRenderer.invoke);
    expect(await api.snapshot!()).toEqual({ ok: true, value: { seq: 3, jobs: [] } });
    expect(invoked).toEqual([[INVOKE_CHANNELS.snapshot.channel, undefined]]);
    expect(await api.command!({ type: 'explode' })).toMatchObject({ ok: false, error: { status: 400, message: expect.stringMatching(/invalid request/) } });
    expect(invoked).toHaveLength(1);
  });
});

describe('out/electron/main.cjs', () => {
  it('is CommonJS with electron external and electron-store bundled (no ESM-only require left)', () => {
    const code = readFileSync(MAIN, 'utf8');
    const requires = [...new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!))];
    expect(requires).toContain('electron');
    expect(requires).not.toContain('electron-store');
    expect(requires).not.toContain('conf');
    expect(requires.filter((r) => /^(atomically|dot-prop|env-paths|stubborn-fs|when-exit)$/.test(r))).toEqual([]);
  });
});
