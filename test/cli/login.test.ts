import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../main/emulator';
import { FileVault } from '../../main/core/auth/vault';
import { emulatorSession, googleEndpoints, sessionFromCredentials } from '../../main/core/google/session';
import { EarthEngine } from '../../main/core/google/earthengine';
import { tesseraAsync } from '../helpers/cli';
import { rectangleJob } from '../helpers/job';
import { checkFinishedJob, jobFiles, md5File, useEmulator } from '../helpers/emulator';

const FAKE_BROWSER = `${process.execPath} ${join(__dirname, '..', 'helpers', 'fake-browser.cjs')}`;

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20, tokenLifetimeSeconds: 3 });

const cli = (args: string[], env: Record<string, string>) => tesseraAsync(args, { env });

const requests = (route: string) => emu.state().requests[route] ?? 0;

describe('tessera login / logout', () => {
  it('signs in through the browser, keeps a 0600 file, runs with it, refreshes, and signs out revoking it', async () => {
    const creds = join(mkdtempSync(join(tmpdir(), 'creds-')), 'credentials.json');
    const env = { TESSERA_CREDENTIALS: creds, BROWSER: FAKE_BROWSER };
    const login = await cli(['login', '--emulator', emu.url], env);
    expect(login.stderr).toMatch(/browser was opened/);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toMatch(/Signed in as emulated-user@example\.com for Earth Engine project tessera-emulator/);
    expect(statSync(creds).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(creds, 'utf8'));
    expect(stored).toMatchObject({ client_id: expect.any(String), refresh_token: expect.any(String), emulator: emu.url });

    // A run uses the stored sign-in (no new consent) and outlives 3-second access tokens.
    const consents = requests('GET /o/oauth2/v2/auth');
    const job = rectangleJob('withlogin', 3, 2);
    emu.configure({ taskBaseSeconds: 1500 });
    const run = await cli(['run', job.file, '--emulator', emu.url], env).finally(() => emu.configure({ taskBaseSeconds: 20 }));
    expect(run.code, run.stderr).toBe(0);
    expect(requests('GET /o/oauth2/v2/auth')).toBe(consents);
    checkFinishedJob(emu.state(), 'withlogin', job.output, 6);

    const revokes = requests('POST /revoke');
    const logout = await cli(['logout', '--emulator', emu.url], env);
    expect(logout.code, logout.stderr).toBe(0);
    expect(existsSync(creds)).toBe(false);
    expect(requests('POST /revoke')).toBe(revokes + 1);
    // The revoked refresh token no longer works: a copy of the file would be useless.
    const session = sessionFromCredentials(stored, googleEndpoints(emu.url), 'p');
    await expect(session.accessToken()).rejects.toThrow(/signed out/);
  });

  it('a sign-in revoked mid-run stops the run with exit 3, losing nothing', async () => {
    const creds = join(mkdtempSync(join(tmpdir(), 'creds-')), 'credentials.json');
    const env = { TESSERA_CREDENTIALS: creds, BROWSER: FAKE_BROWSER };
    expect((await cli(['login', '--emulator', emu.url], env)).code).toBe(0);
    const { refresh_token } = JSON.parse(readFileSync(creds, 'utf8'));
    const job = rectangleJob('revoked', 4, 2, { maxInFlight: 2 });
    emu.configure({ taskBaseSeconds: 1500 });
    const running = cli(['run', job.file, '--emulator', emu.url], env);
    for (let k = 0; k < 300 && !existsSync(job.output); k++) await new Promise((r) => setTimeout(r, 50));
    for (let k = 0; k < 300 && !(await import('node:fs')).readdirSync(job.output).some((n) => n.endsWith('.tif')); k++) await new Promise((r) => setTimeout(r, 50));
    // The user removes Tessera's access in their Google account.
    await fetch(`${emu.url}/revoke?token=${encodeURIComponent(refresh_token)}`, { method: 'POST' });
    const r = await running.finally(() => emu.configure({ taskBaseSeconds: 20 }));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/signed out/);
    await emu.sync();
    const files = jobFiles(emu.state(), 'revoked');
    for (const f of files.all.filter((x) => x.deletedAt !== null)) expect(md5File(join(job.output, f.name))).toBe(f.md5Checksum);
  });

  it('an Earth Engine 401 after a revoke refreshes once and then says signed out, not a tile failure', async () => {
    // Hour-long tokens: nothing is refreshed ahead of time, so only the 401 can reveal the revoke.
    const own = await startEmulator({ tokenLifetimeSeconds: 3600 });
    try {
      const session = await emulatorSession(own.url);
      const ee = await EarthEngine.connect(session);
      expect(await ee.listOperations()).toBeInstanceOf(Array);
      await fetch(`${own.url}/revoke?token=${encodeURIComponent(session.client.credentials.refresh_token!)}`, { method: 'POST' });
      const err = await ee.listOperations().catch((e: unknown) => e);
      expect(err).toMatchObject({ exitCode: 3 });
      expect(String((err as Error).message)).toMatch(/signed out/);
    } finally {
      await own.stop();
    }
  });

  it('--no-browser prints the URL and takes the pasted redirect address', async () => {
    const creds = join(mkdtempSync(join(tmpdir(), 'creds-')), 'credentials.json');
    const paste = (answer: (url: string) => Promise<string>) =>
      tesseraAsync(['login', '--no-browser', '--emulator', emu.url], {
        env: { TESSERA_CREDENTIALS: creds },
        timeoutMs: 30_000,
        answer: (stderr) => {
          const m = /(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\S+)/.exec(stderr);
          return m && /paste/.test(stderr) ? answer(m[1]!) : undefined;
        },
      });
    // Garbage pasted: one clear line, nothing stored.
    const bad = await paste(async () => 'not an address');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/tessera: that is not the redirect URL/);
    expect(existsSync(creds)).toBe(false);
    // The browser elsewhere ends on the loopback address (it cannot load there): that address is pasted.
    const good = await paste(async (url) => (await fetch(url, { redirect: 'manual' })).headers.get('location')!);
    expect(good.code, good.stderr).toBe(0);
    await expect(new FileVault(creds).load()).resolves.toMatchObject({ email: 'emulated-user@example.com' });
  });

  it.each([
    ['a forged state', { FAKE_BROWSER: 'tamper-state' }, [], /state/],
    ['a denied consent', {}, [], /consent was denied/],
    ['a browser that never answers', { FAKE_BROWSER: 'ignore' }, ['--timeout', '1'], /timed out after 1 s/],
  ] as const)('%s gives one clear line', async (_what, extraEnv, extraArgs, message) => {
    const creds = join(mkdtempSync(join(tmpdir(), 'creds-')), 'credentials.json');
    if (_what === 'a denied consent') emu.configure({ denyConsent: true });
    try {
      const r = await cli(['login', '--emulator', emu.url, ...extraArgs], { TESSERA_CREDENTIALS: creds, BROWSER: FAKE_BROWSER, ...extraEnv });
      expect(r.code).not.toBe(0);
      const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('tessera:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(existsSync(creds)).toBe(false);
    } finally {
      emu.configure({ denyConsent: false });
    }
  });

  it('a loopback port already taken gives one clear line', async () => {
    const blocker = createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await cli(['login', '--emulator', emu.url, '--port', String(port)], { TESSERA_CREDENTIALS: join(tmpdir(), 'never.json'), BROWSER: FAKE_BROWSER });
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`tessera: sign-in cannot listen on 127.0.0.1:${port}: the port is taken; choose another or leave it to the system`);
    } finally {
      blocker.close();
    }
  });

  it('run without a sign-in for Google needs the user (exit 3)', async () => {
    const job = rectangleJob('nologin', 1, 1);
    const r = await cli(['run', job.file], { TESSERA_CREDENTIALS: join(tmpdir(), 'absent-credentials.json') });
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toMatch(/^tessera: not signed in: run tessera login first/);
  });

  it('warns when the credentials file can be read by others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'creds-'));
    const warnings: string[] = [];
    const vault = new FileVault(join(dir, 'c.json'), (m) => warnings.push(m));
    await vault.save({ client_id: 'a', client_secret: 'b', refresh_token: 'c' });
    expect(statSync(join(dir, 'c.json')).mode & 0o777).toBe(0o600);
    await vault.load();
    expect(warnings).toEqual([]);
    const { chmodSync } = await import('node:fs');
    chmodSync(join(dir, 'c.json'), 0o644);
    await vault.load();
    expect(warnings[0]).toMatch(/can be read by others/);
  });
});
