/**
 * Settings, sign-in and the assets panel of `tessera serve`, in Chromium against the emulator: signing in
 * through the page (Google's consent in a new tab, the loopback redirect caught by the server), signing out
 * (revoked at the emulator), settings checked next to their fields and kept in a 0600 file, the basemap's
 * origin in the CSP, and an asset folder paged, then assets deleted after a confirmation — only those.
 */
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { EarthEngine } from '../../main/core/google/earthengine';
import { EMULATOR_CLIENT, emulatorSession } from '../../main/core/google/session';
import { launchBrowser, openPage, screenshotPath, serve, until, type Served } from './helpers';

const PROJECT = 'tessera-panel-test';
const ROOT = `projects/${PROJECT}/assets`;

let emu: EmulatorHandle;
let browser: Browser;
let served: Served;
let configDir: string;

beforeAll(async () => {
  emu = await startEmulator({ timeScale: 1000, project: PROJECT });
  browser = await launchBrowser();
  configDir = mkdtempSync(join(tmpdir(), 'tessera-settings-'));
  served = await serve(['--emulator', emu.url], { TESSERA_CREDENTIALS: join(configDir, 'credentials.json') });
}, 60_000);

afterAll(async () => {
  await served?.stop(5_000);
  await browser?.close();
  await emu?.stop();
});

const text = (page: Page, testid: string) => page.locator(`[data-testid="${testid}"]`).innerText();
/** What the page logged, less the refusals these tests provoke on purpose (the browser logs every 4xx). */
const unexpected = (problems: string[]) => problems.filter((p) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(p));

describe('settings and account (tessera serve, Chromium, emulator)', () => {
  it('signs in through the page and out again; the sign-in is the CLI file (0600), revoked on sign-out', { timeout: 90_000 }, async () => {
    const { page, problems } = await openPage(browser, served.url);
    await page.locator('[data-testid="account"]').waitFor();
    await until(async () => (await text(page, 'account')) === 'Sign in', 10_000, 100, 'the account button to say Sign in');
    await page.locator('[data-testid="account"]').click();
    await page.locator('[data-testid="settings"]').waitFor();
    // (The panel reads the account when it opens: wait for the answer, not for a fixed time.)
    await until(async () => /Not signed in/.test(await text(page, 'auth-status')), 10_000, 50, 'the account read');
    // With --emulator and no client of one's own, the emulator's client is the one offered.
    expect(await text(page, 'auth-client')).toContain(EMULATOR_CLIENT.id);

    const popup = page.waitForEvent('popup', { timeout: 15_000 });
    await page.locator('[data-testid="sign-in"]').click();
    const consent = await popup;
    // The emulator approves at once and redirects to the server's loopback port: the tab ends on "Signed in".
    await consent.waitForLoadState();
    await until(async () => /Signed in as /.test(await text(page, 'auth-status')), 20_000, 200, 'the page to show the account');
    const email = (await text(page, 'account')).trim();
    expect(email).toMatch(/@/);
    const credentials = join(configDir, 'credentials.json');
    expect(statSync(credentials).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(credentials, 'utf8')) as { refresh_token: string; email: string; emulator: string; project: string };
    expect(stored).toMatchObject({ email, emulator: emu.url.replace(/\/$/, ''), project: EMULATOR_CLIENT.project });
    expect(await page.locator('[data-testid="consent-link"]').count()).toBe(0);

    await page.locator('[data-testid="sign-out"]').click();
    await until(async () => /Not signed in/.test(await text(page, 'auth-status')), 10_000, 100, 'signed out');
    expect(existsSync(credentials)).toBe(false);
    // The old refresh token is dead at the (emulated) Google.
    const refresh = await fetch(`${emu.url}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: stored.refresh_token, client_id: EMULATOR_CLIENT.id, client_secret: EMULATOR_CLIENT.secret }),
    });
    expect(refresh.status).toBe(400);
    expect(await refresh.text()).toContain('invalid_grant');

    // A sign-in the user gives up on (here Google's page never loads): Cancel ends it, nothing is stored.
    await page.context().route(/\/o\/oauth2\/v2\/auth/, (r) => r.abort());
    await page.locator('[data-testid="sign-in"]').click();
    await page.locator('[data-testid="consent-link"]').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="cancel-sign-in"]').click();
    await until(async () => (await text(page, 'settings-said')) === 'Sign-in cancelled.', 10_000, 100, 'the cancellation');
    expect(await page.locator('[data-testid="consent-link"]').count()).toBe(0);
    expect(await text(page, 'auth-status')).toMatch(/Not signed in/);
    expect(existsSync(credentials)).toBe(false);
    await page.context().unroute(/\/o\/oauth2\/v2\/auth/);
    expect(unexpected(problems)).toEqual([]);
    await consent.close();
    await page.close();
  });

  it('checks each setting next to its field, keeps them in a 0600 file, and puts the basemap origin in the CSP', { timeout: 60_000 }, async () => {
    const { page, problems } = await openPage(browser, served.url);
    await page.locator('[data-testid="open-settings"]').click();
    const project = page.locator('[data-testid="settings-eeProject"]');
    const basemap = page.locator('[data-testid="settings-basemapUrl"]');
    await until(async () => (await basemap.inputValue()) !== '', 10_000, 100, 'the settings to load');
    await project.fill('Not A Project');
    await basemap.fill('http://tiles.example.org/{z}/{x}/{y}.png');
    await page.locator('[data-testid="save-settings"]').click();
    expect(await project.getAttribute('aria-invalid')).toBe('true');
    expect(await basemap.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('.field-error').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringMatching(/Cloud project id/), expect.stringMatching(/https URL template/)]));
    // Focus goes to the first wrong field; nothing was written.
    expect(await page.evaluate(`document.activeElement?.getAttribute('data-testid')`)).toBe('settings-eeProject');
    expect(existsSync(join(configDir, 'settings.json'))).toBe(false);

    // The emulator's project: the assets panel below signs in with it (a project the emulator refuses would fail).
    await project.fill(PROJECT);
    await basemap.fill('https://tiles.example.org/osm/{z}/{x}/{y}.png');
    await page.locator('[data-testid="save-settings"]').click();
    await until(async () => /Saved/.test(await text(page, 'settings-said')), 10_000, 100, 'saved');
    expect(await text(page, 'settings-said')).toMatch(/Reload the page/);
    await page.screenshot({ path: screenshotPath('settings-panel.png') });
    const file = join(configDir, 'settings.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ eeProject: PROJECT, basemapUrl: 'https://tiles.example.org/osm/{z}/{x}/{y}.png' });
    const csp = (await fetch(`${served.origin}/`)).headers.get('content-security-policy') ?? '';
    expect(csp).toContain("img-src 'self' data: https://tiles.example.org;");
    expect(csp).not.toContain('tile.openstreetmap.org');
    // The API refuses what the form refuses (the page is not the only client).
    const bad = await fetch(`${served.origin}/api/settings`, { method: 'PUT', headers: { Authorization: `Bearer ${served.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ basemapUrl: "https://x.org/{z}/{x}/{y}.png; script-src *" }) });
    expect(bad.status).toBe(400);

    // A client pasted as Google's JSON: kept 0600, shown by id, never answered with its secret.
    await page.locator('[data-testid="client-json"]').fill('{"installed": {"client_id": "1234-abc.apps.googleusercontent.com"}}');
    await page.locator('[data-testid="save-client"]').click();
    await until(async () => /client_id/.test(await page.locator('[role="alert"]').innerText().catch(() => '')), 10_000, 100, 'the JSON to be refused');
    await page.locator('[data-testid="client-json"]').fill('{"installed": {"client_id": "1234-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-not-real"}}');
    await page.locator('[data-testid="save-client"]').click();
    await until(async () => (await text(page, 'auth-client')).includes('1234-abc.apps.googleusercontent.com'), 10_000, 100, 'the new client');
    expect(statSync(join(configDir, 'client_secret.json')).mode & 0o777).toBe(0o600);
    const status = await (await fetch(`${served.origin}/api/auth`, { headers: { Authorization: `Bearer ${served.token}` } })).text();
    expect(status).not.toContain('GOCSPX');

    // Escape closes the panel and gives the focus back to the button that opened it.
    await page.keyboard.press('Escape');
    await until(async () => (await page.locator('[data-testid="settings"]').count()) === 0, 5_000, 50, 'the panel to close');
    expect(await page.evaluate(`document.activeElement?.getAttribute('data-testid')`)).toBe('open-settings');
    expect(unexpected(problems)).toEqual([]);
    await page.close();
  });
});

describe('the assets panel (tessera serve, Chromium, emulator)', () => {
  it('pages a folder of 103 assets and deletes only the selected ones after confirmation', { timeout: 120_000 }, async () => {
    const session = await emulatorSession(emu.url, PROJECT);
    const ee = await EarthEngine.connect(session);
    // Seeded over EE's REST API (createAsset, as the client sends it), many at a time: the client itself
    // paces its requests, which would make this setup slow without testing anything more.
    const { token } = await session.accessToken();
    const create = async (path: string, type: string) => {
      const r = await fetch(`${emu.url}/v1/${ROOT.replace(/\/assets$/, '')}/assets?assetId=${encodeURIComponent(path)}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ type }),
      });
      expect(r.status, await r.clone().text()).toBe(200);
    };
    await create('panel', 'FOLDER');
    const names = Array.from({ length: 101 }, (_, i) => `panel/t${String(i).padStart(3, '0')}`);
    for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map((n) => create(n, 'FOLDER')));
    await create('panel/z-collection', 'IMAGE_COLLECTION');
    await create('panel/z-folder', 'FOLDER');
    await create('panel/z-folder/inside', 'FOLDER');

    const { page, problems } = await openPage(browser, served.url);
    await page.locator('[data-testid="open-assets"]').click();
    const folder = page.locator('[data-testid="asset-folder"]');
    await folder.fill('users/someone/x');
    await page.locator('[data-testid="asset-list"]').click();
    await until(async () => /a folder such as projects\//.test(await text(page, 'asset-error').catch(() => '')), 5_000, 50, 'the bad name refused');
    await folder.fill(`${ROOT}/nope`);
    await page.locator('[data-testid="asset-list"]').click();
    await until(async () => /does not exist/.test(await text(page, 'asset-error').catch(() => '')), 10_000, 100, 'the missing folder refused');

    await folder.fill(`${ROOT}/panel`);
    await page.locator('[data-testid="asset-list"]').click();
    await until(async () => /103 assets in/.test(await text(page, 'asset-said')), 20_000, 100, 'the listing');
    expect(await page.locator('[data-testid="asset-row"]').count()).toBe(100);
    expect(await page.locator('[data-testid="asset-table"] caption').innerText()).toBe('1–100 of 103');
    // A selection survives paging.
    await page.locator(`[data-testid="asset-row"][data-name="${ROOT}/panel/t099"] input`).check();
    await page.locator('[data-testid="asset-next"]').click();
    expect(await page.locator('[data-testid="asset-row"]').count()).toBe(3);
    expect(await text(page, 'asset-page')).toBe('Page 2 of 2');
    await page.screenshot({ path: screenshotPath('assets-panel.png') });

    // Two plain assets and the folder with a child: the confirmation says folders go with their contents.
    for (const n of ['t100', 'z-folder']) await page.locator(`[data-testid="asset-row"][data-name="${ROOT}/panel/${n}"] input`).check();
    await page.locator('[data-testid="asset-delete"]').click();
    expect(await text(page, 'asset-confirm')).toMatch(/Delete 3 assets, including 3 folders or collections with everything in them\?/);
    // Cancel deletes nothing.
    await page.locator('[data-testid="asset-confirm"] button', { hasText: 'Cancel' }).click();
    expect((await ee.listAssets(`${ROOT}/panel`)).length).toBe(103);
    await page.locator('[data-testid="asset-delete"]').click();
    await page.locator('[data-testid="asset-confirm-delete"]').click();
    await until(async () => /Deleted 4 assets/.test(await text(page, 'asset-said')), 30_000, 100, 'the deletion').catch(async (e: Error) => {
      // Say what the panel shows instead: an error line, or a deletion still under way.
      const said = await text(page, 'asset-said').catch(() => '(no status)');
      const error = await text(page, 'asset-error').catch(() => '(no error)');
      throw new Error(`${e.message}; the panel says "${said}", error "${error}"; page problems: ${JSON.stringify(problems)}`);
    });
    const left = (await ee.listAssets(`${ROOT}/panel`)).map((a) => a.name.split('/').pop());
    expect(left).toHaveLength(100);
    for (const gone of ['t099', 't100', 'z-folder']) expect(left).not.toContain(gone);
    expect(left).toContain('t098');
    expect(left).toContain('z-collection');
    // The listing was refreshed: 100 assets, one page.
    await until(async () => (await text(page, 'asset-page')) === 'Page 1 of 1', 10_000, 100, 'the refreshed listing');
    // What was done stays said after the refresh (it used to be replaced by the listing's line at once).
    expect(await text(page, 'asset-said')).toMatch(/^Deleted 4 assets\. 100 assets in /);
    expect(await page.locator('[data-testid="asset-row"]').count()).toBe(100);
    expect(unexpected(problems)).toEqual([]);
    await page.close();
  });
});
