// The desktop app in a real Electron, driven by Playwright's _electron: the window opens from the app
// protocol, the preload API is there and Node is not, navigation and window.open are blocked, the tray
// exists. Needs an Electron binary, which cannot be downloaded here: without one (no
// ELECTRON_OVERRIDE_DIST_PATH, no node_modules/electron/dist, no cached zip) the whole suite is SKIPPED.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli';

// scripts/electron-binary.mjs finds a binary without downloading one (`require('electron')` would try).
const finder = spawnSync(process.execPath, ['--input-type=module', '-e', `import { electronBinary } from ${JSON.stringify(pathToFileURL(join(REPO, 'scripts', 'electron-binary.mjs')).href)}; process.stdout.write(JSON.stringify(electronBinary(${JSON.stringify(REPO)})));`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const found = JSON.parse(finder.stdout || '{"path":null,"why":"the binary finder failed"}') as { path: string | null; why?: string };
if (!found.path) console.warn(`electron smoke test SKIPPED: ${found.why}`);

describe.skipIf(!found.path)('desktop app in Electron (Playwright _electron)', () => {
  let app: ElectronApplication;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(join(REPO, 'out', 'electron', 'main.cjs'))) spawnSync(process.execPath, [join(REPO, 'scripts', 'build.mjs')], { stdio: 'inherit' });
    const headless = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
    app = await _electron.launch({
      executablePath: found.path!,
      args: [...(headless ? ['--ozone-platform=headless'] : []), '--no-sandbox', REPO],
      env: { ...process.env, TESSERA_USER_DATA: mkdtempSync(join(tmpdir(), 'tessera-e2e-')), TESSERA_E2E: '1', ELECTRON_RUN_AS_NODE: '' },
      timeout: 60_000,
    });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  });

  afterAll(async () => {
    await app?.close();
  });

  it('opens the window from the app protocol, not file://', async () => {
    expect(page.url()).toBe('tessera://app/index.html');
    expect(await page.title()).toBe('Tessera');
  });

  it('exposes the preload API and nothing of Node or ipcRenderer', async () => {
    const surface = await page.evaluate<{ api: string[] | null }>(`(() => {
      const api = window.tessera;
      return {
        api: api ? Object.keys(api).sort() : null,
        require: typeof window.require,
        process: typeof window.process,
        module: typeof window.module,
        ipcRenderer: typeof window.ipcRenderer,
        apiIpc: api ? Object.values(api).some((v) => typeof v === 'object') : null,
      };
    })()`);
    expect(surface.api).toEqual(expect.arrayContaining(['snapshot', 'summary', 'tile', 'command', 'subscribe', 'onStream', 'openExternal']));
    expect(surface).toMatchObject({ require: 'undefined', process: 'undefined', module: 'undefined', ipcRenderer: 'undefined', apiIpc: false });
    const snap = await page.evaluate<unknown>('window.tessera.snapshot()');
    expect(snap).toMatchObject({ ok: true, value: { seq: expect.any(Number), jobs: [] } });
  });

  it('blocks navigation away from the app and window.open', async () => {
    expect(await page.evaluate<boolean>("window.open('https://example.org/') === null")).toBe(true);
    await page.evaluate("location.href = 'https://example.org/'");
    await new Promise((r) => setTimeout(r, 1000));
    expect(page.url()).toBe('tessera://app/index.html');
    expect(app.windows()).toHaveLength(1);
  });

  it('has a tray icon', async () => {
    const tray = await app.evaluate(() => (globalThis as unknown as { tesseraE2E: { tray(): { exists: boolean; tooltip: string } } }).tesseraE2E.tray());
    expect(tray).toEqual({ exists: true, tooltip: 'Tessera: no jobs' });
  });
});
