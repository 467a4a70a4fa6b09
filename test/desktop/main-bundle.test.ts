// The built main bundle (out/electron/main.cjs) run in plain Node against a fake `electron` module
// (test/desktop/fake-electron.cjs): the composition root wires the window, protocol, permissions, IPC
// host, settings (electron-store, bundled) and tray as intended. The real Electron run is the Playwright
// smoke test (electron-smoke.test.ts), skipped without a binary.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INVOKE_CHANNELS, INVOKE_NAMES } from '../../shared/ipc';
import { contentSecurityPolicy } from '../../main/electron/security';
import { REPO } from '../helpers/cli';

describe('out/electron/main.cjs with a fake electron', () => {
  it('wires window, protocol, permissions, IPC, settings and tray', () => {
    const userData = mkdtempSync(join(tmpdir(), 'tessera-main-'));
    const r = spawnSync(process.execPath, ['-r', join(__dirname, 'fake-electron.cjs'), join(REPO, 'out', 'electron', 'main.cjs')], {
      encoding: 'utf8',
      env: { ...process.env, TESSERA_USER_DATA: userData, TESSERA_E2E: '1' },
      timeout: 30_000,
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('REPORT '));
    expect(line, r.stderr).toBeDefined();
    const report = JSON.parse(line!.slice(7));
    expect(report.userData).toBe(userData);
    expect(report.schemes).toEqual([{ scheme: 'tessera', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    expect(report.windows).toHaveLength(1);
    expect(report.windows[0].webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, preload: join(REPO, 'out', 'electron', 'preload.cjs') });
    expect(report.loaded).toEqual(['tessera://app/index.html']);
    expect(report.protocols).toEqual(['tessera']);
    expect(report.index).toEqual({ status: 200, csp: contentSecurityPolicy('https://tile.openstreetmap.org/{z}/{x}/{y}.png'), type: 'text/html; charset=utf-8' });
    expect(report.climb).toBe(404);
    expect([...report.ipc].sort()).toEqual(INVOKE_NAMES.map((n) => INVOKE_CHANNELS[n].channel).sort());
    expect(report.snapshot).toEqual({ ok: true, value: { seq: 0, jobs: [] } });
    expect(report.settings).toMatchObject({ ok: true, value: { preventSleep: true, notifications: true, basemapUrl: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png', eeProject: null } });
    expect(report.badCommand).toMatchObject({ ok: false, error: { status: 400 } });
    expect(report.otherSender).toMatchObject({ ok: false, error: { status: 403 } });
    expect(report.subframe).toMatchObject({ ok: false, error: { status: 403 } });
    expect(report.navigationPrevented).toBe(true);
    expect(report.windowOpen).toEqual({ action: 'deny' });
    expect(report.permissionGranted).toBe(false);
    expect(report.permissionCheck).toBe(false);
    expect(report.trays).toBe(1);
    expect(report.tooltip).toBe('Tessera: no jobs');
    expect(report.menu).toEqual(['No jobs', 'Show Tessera', 'Pause all', 'Resume all', 'Quit']);
  });
});
