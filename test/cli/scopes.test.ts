/**
 * Granted scopes and the OAuth client's type (docs/signin-and-doctor.md#granted-scopes): Google's consent screen lets a user
 * untick a permission, and the token response's `scope` says what was granted. Every sign-in (CLI, the
 * dashboards' account service) and every run checks it; a "Web application" client file is refused.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OAuth2Client } from 'google-auth-library';
import { drive as driveApi } from '@googleapis/drive';
import { Account } from '../../main/core/auth/account';
import { headlessBrowser } from '../../main/core/auth/signin';
import { MemoryVault } from '../../main/core/auth/vault';
import { EMULATOR_CLIENT, googleEndpoints, sessionFromCredentials } from '../../main/core/google/session';
import { tesseraAsync } from '../helpers/cli';
import { rectangleJob } from '../helpers/job';
import { webhookReceiver } from '../helpers/webhook';
import { useEmulator } from '../helpers/emulator';

const FAKE_BROWSER = `${process.execPath} ${join(__dirname, '..', 'helpers', 'fake-browser.cjs')}`;
const G = 'https://www.googleapis.com/auth/';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20 });

const cli = (args: string[], env: Record<string, string>) => tesseraAsync(args, { env });

const freshCredentials = () => join(mkdtempSync(join(tmpdir(), 'creds-')), 'credentials.json');

/** A consent through google-auth-library as any app would make it: the code, then the token response. */
async function consent(scopes: string[]) {
  const redirectUri = 'http://127.0.0.1:1/cb';
  const client = new OAuth2Client({ clientId: EMULATOR_CLIENT.id, clientSecret: EMULATOR_CLIENT.secret, redirectUri, endpoints: { oauth2AuthBaseUrl: `${emu.url}/o/oauth2/v2/auth`, oauth2TokenUrl: `${emu.url}/token` } });
  const url = client.generateAuthUrl({ access_type: 'offline', scope: scopes });
  const location = (await fetch(url, { redirect: 'manual' })).headers.get('location')!;
  const code = new URL(location).searchParams.get('code')!;
  const { tokens } = await client.getToken({ code, redirect_uri: redirectUri });
  client.setCredentials(tokens);
  return { client, tokens, redirectScope: new URL(location).searchParams.get('scope') };
}

describe('the emulator\'s consent screen (grantScopes)', () => {
  it('grants only the ticked boxes, says so in the token response, and Drive answers 403 without its scope', async () => {
    emu.configure({ grantScopes: 'earthengine,cloud-platform' });
    try {
      const { client, tokens, redirectScope } = await consent(['openid', 'email', `${G}earthengine`, `${G}cloud-platform`, `${G}drive`]);
      const granted = tokens.scope!.split(' ');
      expect(granted).toEqual(expect.arrayContaining(['openid', `${G}userinfo.email`, `${G}earthengine`, `${G}cloud-platform`]));
      expect(granted).not.toContain(`${G}drive`);
      expect(redirectScope!.split(' ')).not.toContain(`${G}drive`);
      // A refresh says the same.
      const refreshed = await client.refreshAccessToken();
      expect(refreshed.credentials.scope).toBe(tokens.scope);
      const drive = driveApi({ version: 'v3', auth: client, rootUrl: `${emu.url}/` });
      const err = await drive.about.get({ fields: 'storageQuota' }, { retry: false }).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 403 });
      expect((err as Error).message).toBe('Request had insufficient authentication scopes.');
    } finally {
      emu.configure({ grantScopes: null });
    }
    // By default every scope asked for is granted.
    const { tokens } = await consent([`${G}earthengine`, `${G}drive`]);
    expect(tokens.scope!.split(' ').sort()).toEqual([`${G}drive`, `${G}earthengine`]);
  });
});

describe('sign-in checks what was granted', () => {
  it('tessera login without Drive access: exit 3, one line naming Google Drive and the box to tick, nothing stored', async () => {
    emu.configure({ grantScopes: 'earthengine,cloud-platform' });
    const creds = freshCredentials();
    const r = await cli(['login', '--emulator', emu.url], { TESSERA_CREDENTIALS: creds, BROWSER: FAKE_BROWSER }).finally(() => emu.configure({ grantScopes: null }));
    expect(r.code, r.stderr).toBe(3);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('tessera:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Google Drive/);
    expect(lines[0]).toMatch(/sign in again/);
    expect(lines[0]).toMatch(/tick "See, edit, create, and delete all of your Google Drive files"/);
    expect(lines[0]).not.toMatch(/Earth Engine/);
    expect(existsSync(creds)).toBe(false);
  });

  it('tessera login refuses a "Web application" client file with one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webclient-'));
    const file = join(dir, 'client_secret.json');
    writeFileSync(file, JSON.stringify({ web: { client_id: '1234-abc.apps.googleusercontent.com', client_secret: 'GOCSPX-abcdef', redirect_uris: ['http://localhost:8080/'] } }));
    const creds = freshCredentials();
    const r = await cli(['login', '--client-file', file], { TESSERA_CREDENTIALS: creds, BROWSER: FAKE_BROWSER });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/"Web application" OAuth client.*"Desktop app"/);
    expect(existsSync(creds)).toBe(false);
  });

  it('the dashboards\' account refuses a web client (400, nothing written) and a consent without Earth Engine (the stored sign-in untouched)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-account-'));
    const vault = new MemoryVault();
    const a = new Account({
      vault,
      endpoints: () => googleEndpoints(emu.url),
      clientFile: join(dir, 'client_secret.json'),
      fallbackClient: () => ({ clientId: EMULATOR_CLIENT.id, clientSecret: EMULATOR_CLIENT.secret }),
      openBrowser: headlessBrowser,
      timeoutMs: 20_000,
    });
    const web = JSON.stringify({ web: { client_id: '1234-abc.apps.googleusercontent.com', client_secret: 'GOCSPX-abcdef' } });
    await expect(a.setClient({ json: web })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/"Web application".*"Desktop app"/) });
    expect(existsSync(join(dir, 'client_secret.json'))).toBe(false);

    await a.signIn();
    const first = await vault.load();
    expect(first?.refresh_token).toBeTruthy();
    emu.configure({ grantScopes: 'drive' });
    const err = await a.signIn().catch((e: unknown) => e).finally(() => emu.configure({ grantScopes: null }));
    expect((err as Error).message).toMatch(/access to Google Earth Engine .*tick "View and manage your Google Earth Engine data"/);
    expect((await a.status()).error).toMatch(/Google Earth Engine/);
    expect((await vault.load())?.refresh_token).toBe(first?.refresh_token);
  });
});

describe('every run checks what was granted', () => {
  it('a stored sign-in whose grant lacks Drive is refused at its refresh: signed out, exit 3', async () => {
    const minted = (await (await fetch(`${emu.url}/__emulator/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scopes: [`${G}earthengine`], clientId: EMULATOR_CLIENT.id }) })).json()) as { refresh_token: string };
    const session = sessionFromCredentials({ client_id: EMULATOR_CLIENT.id, client_secret: EMULATOR_CLIENT.secret, refresh_token: minted.refresh_token }, googleEndpoints(emu.url), 'p');
    const err = await session.accessToken().catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 3, name: 'MissingAccessError' });
    expect((err as Error).message).toMatch(/^Google did not grant Tessera access to Google Drive/);
  });

  it('tessera run whose consent lacks Drive: exit 3, the job waits signed-out, its webhook hears, nothing exported', async () => {
    const hook = await webhookReceiver();
    try {
      const job = rectangleJob('noscope', 2, 1, { notify: { webhook: hook.url } });
      const exportsBefore = emu.state().operations.length;
      emu.configure({ grantScopes: 'earthengine' });
      const env = { TESSERA_CREDENTIALS: freshCredentials() };
      const r = await cli(['run', job.file, '--emulator', emu.url], env).finally(() => emu.configure({ grantScopes: null }));
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/Google Drive/);
      expect(emu.state().operations.length).toBe(exportsBefore);
      const status = await cli(['status', job.file, '--json'], env);
      expect(JSON.parse(status.stdout)).toMatchObject({ waiting: 'signed-out' });
      expect(hook.heard).toEqual([expect.objectContaining({ job: 'noscope', status: 'needs-user', exitCode: 3, message: expect.stringMatching(/Google Drive/) })]);
    } finally {
      await hook.close();
    }
  });
});
