// The built dashboard in Chromium with a fake preload bridge (`window.tessera`, as the desktop preload
// exposes it): the page picks the Electron transport, shows the job from `snapshot`, applies stream
// messages, and sends commands through the bridge — no HTTP API, no token.
import { describe, expect, it } from 'vitest';
import { legendCounts, openBridgePage, until } from '../dashboard/helpers';
import { useBrowser } from '../helpers/browser';
import { jobView } from './fakes';

const browser = useBrowser();

describe('the dashboard inside the desktop shell (fake bridge)', () => {
  it('uses window.tessera for snapshot, stream and commands', async () => {
    const snapshot = { seq: 0, jobs: [jobView('demo')] };
    const { page, problems, requests } = await openBridgePage(browser, `(() => {
      const snapshot = ${JSON.stringify(snapshot)};
      const listeners = new Set();
      window.__calls = [];
      const ok = (value) => Promise.resolve({ ok: true, value });
      window.__emit = (m) => listeners.forEach((l) => l(m));
      window.tessera = {
        snapshot: () => (window.__calls.push('snapshot'), ok(snapshot)),
        summary: () => ok(null),
        tile: () => Promise.resolve({ ok: false, error: { status: 404, message: 'no such tile' } }),
        command: (c) => (window.__calls.push('command:' + c.type), ok({ ok: true })),
        subscribe: () => (window.__calls.push('subscribe'), ok({ seq: 0 })),
        unsubscribe: () => ok({ ok: true }),
        onStream: (l) => (listeners.add(l), () => listeners.delete(l)),
      };
    })()`);
    await until(async () => (await legendCounts(page)).done === 1, 20_000, 100, 'the job from the bridge');
    expect(await legendCounts(page)).toMatchObject({ done: 1, queued: 1 });
    await page.evaluate(`window.__emit({ kind: 'event', seq: 1, event: { type: 'tile-state', job: 'demo', tile: 'r0c1', state: 'done', attempt: 1, at: '1970-01-01T00:00:00.000Z' } })`);
    await until(async () => (await legendCounts(page)).done === 2, 10_000, 100, 'the streamed transition');
    const calls = await page.evaluate<string[]>('window.__calls');
    expect(calls).toEqual(expect.arrayContaining(['subscribe', 'snapshot']));
    expect(requests.filter((p) => p.startsWith('/api/'))).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('settings and sign-in inside the desktop shell (fake bridge)', () => {
  it('shows the desktop-only settings, saves through setSettings, signs in through signIn (the main side opens the browser)', { timeout: 60_000 }, async () => {
    const settings = { preventSleep: true, startAtLogin: false, notifications: true, basemapUrl: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png', eeProject: null, jobFiles: [] };
    const { page, problems, requests } = await openBridgePage(browser, `(() => {
      let settings = ${JSON.stringify(settings)};
      let signedIn = false;
      window.__calls = [];
      const ok = (value) => Promise.resolve({ ok: true, value });
      const auth = () => ({ signedIn, email: signedIn ? 'ada@example.org' : null, storage: 'the system keychain', warning: null, client: '1234-abc.apps.googleusercontent.com', consentUrl: null, error: null });
      window.tessera = {
        snapshot: () => ok({ seq: 0, jobs: [] }),
        summary: () => ok(null),
        tile: () => Promise.resolve({ ok: false, error: { status: 404, message: 'no such tile' } }),
        command: () => ok({ ok: true }),
        subscribe: () => ok({ seq: 0 }),
        unsubscribe: () => ok({ ok: true }),
        onStream: () => () => undefined,
        getSettings: () => ok(settings),
        setSettings: (p) => (window.__calls.push(['setSettings', p]), settings = { ...settings, ...p }, ok(settings)),
        authStatus: () => ok(auth()),
        signIn: (r) => (window.__calls.push(['signIn', r]), signedIn = true, ok(auth())),
        signOut: () => (signedIn = false, ok(auth())),
      };
    })()`);
    await until(async () => (await page.getByTestId('account').textContent()) === 'Sign in', 10_000, 50, 'the account button');
    await page.getByTestId('account').click();
    await page.getByTestId('settings').waitFor();
    expect(await page.getByTestId('auth-status').textContent()).toContain('kept in the system keychain');
    // The main side opens the system browser and answers when the sign-in is stored: no consent link in the page.
    await page.getByTestId('sign-in').click();
    await until(async () => /Signed in as ada@example.org/.test((await page.getByTestId('auth-status').textContent()) ?? ''), 10_000, 50, 'signed in');
    expect(await page.getByTestId('consent-link').count()).toBe(0);
    expect(await page.getByTestId('account').textContent()).toBe('ada@example.org');
    // Desktop-only settings are offered and saved with the rest.
    await page.getByTestId('settings-preventSleep').uncheck();
    await page.getByTestId('settings-startAtLogin').check();
    await page.getByTestId('settings-eeProject').fill('my-ee-project');
    await page.getByTestId('save-settings').click();
    await until(async () => (await page.getByTestId('settings-said').textContent()) === 'Saved.', 10_000, 50, 'saved');
    const calls = await page.evaluate<[string, unknown][]>('window.__calls');
    expect(calls).toEqual([
      ['signIn', {}],
      ['setSettings', { eeProject: 'my-ee-project', basemapUrl: settings.basemapUrl, notifications: true, preventSleep: false, startAtLogin: true }],
    ]);
    expect(requests.filter((p) => p.startsWith('/api/'))).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
