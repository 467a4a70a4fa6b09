/**
 * The account service behind the dashboards' sign-in (main/core/auth/account.ts), against the emulator's
 * OAuth endpoints: the desktop way (the host opens the browser and waits) and the serve way (the page gets
 * the consent link), the client kept 0600, bad clients refused, a waiting sign-in cancelled, sign-out revoking.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Account } from '../../main/core/auth/account';
import { headlessBrowser } from '../../main/core/auth/signin';
import { MemoryVault } from '../../main/core/auth/vault';
import { JobHost } from '../../main/core/engine/host';
import { EMULATOR_CLIENT, googleEndpoints, sessionFromCredentials } from '../../main/core/google/session';
import { rectangleJob } from '../helpers/job';
import { useEmulator } from '../helpers/emulator';
import { startEmulator } from '../../main/emulator';

const emu = useEmulator({});

function account(opts: { openBrowser?: (url: string) => Promise<void>; fallback?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-account-'));
  const vault = new MemoryVault();
  let signedIn = 0;
  const a = new Account({
    vault,
    endpoints: () => googleEndpoints(emu.url),
    clientFile: join(dir, 'client_secret.json'),
    fallbackClient: () => (opts.fallback === false ? undefined : { clientId: EMULATOR_CLIENT.id, clientSecret: EMULATOR_CLIENT.secret }),
    ...(opts.openBrowser ? { openBrowser: opts.openBrowser } : {}),
    project: () => 'my-ee-project',
    onSignedIn: () => {
      signedIn++;
    },
    timeoutMs: 20_000,
  });
  return { a, vault, dir, signedIns: () => signedIn };
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

describe('Account', () => {
  it('desktop way: opens the browser itself and answers once the sign-in is stored, with the project', async () => {
    const opened: string[] = [];
    const { a, vault, signedIns } = account({ openBrowser: async (url) => {
      opened.push(url);
      await headlessBrowser(url);
    } });
    const s = await a.signIn();
    expect(opened).toHaveLength(1);
    expect(s).toMatchObject({ signedIn: true, consentUrl: null, error: null, client: EMULATOR_CLIENT.id });
    expect(s.email).toMatch(/@/);
    expect(await vault.load()).toMatchObject({ project: 'my-ee-project', client_id: EMULATOR_CLIENT.id, emulator: emu.url.replace(/\/$/, '') });
    expect(signedIns()).toBe(1);
    const out = await a.signOut();
    expect(out.signedIn).toBe(false);
    expect(await vault.load()).toBeUndefined();
  });

  it('serve way: answers with the consent link at once; the sign-in completes when the browser comes back', async () => {
    const { a, vault } = account();
    const first = await a.signIn();
    expect(first.signedIn).toBe(false);
    expect(first.consentUrl).toMatch(new RegExp(`^${emu.url.replace(/\/$/, '')}/o/oauth2/v2/auth\\?`));
    // A second click while it waits offers the same link (one loopback server, not two).
    expect((await a.signIn()).consentUrl).toBe(first.consentUrl);
    await headlessBrowser(first.consentUrl!);
    for (let i = 0; i < 100 && !(await a.status()).signedIn; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await a.status()).toMatchObject({ signedIn: true, consentUrl: null });
    expect(await vault.load()).toBeDefined();
  });

  it('a waiting sign-in can be cancelled: its loopback port closes and the status says why', async () => {
    const { a } = account();
    const s = await a.signIn();
    const port = Number(new URL(new URL(s.consentUrl!).searchParams.get('redirect_uri')!).port);
    expect(await portOpen(port)).toBe(true);
    await a.cancel();
    expect(await portOpen(port)).toBe(false);
    expect(await a.status()).toMatchObject({ signedIn: false, consentUrl: null, error: 'sign-in cancelled' });
  });

  it('keeps a pasted client (0600, Google JSON format), refuses a bad one, and will not sign in without one', async () => {
    const { a, dir } = account({ fallback: false });
    await expect(a.signIn()).rejects.toThrow(/no OAuth client yet/);
    // A "Web application" client is refused (Google answers its random loopback port with redirect_uri_mismatch).
    await expect(a.setClient({ json: '{"web": {"client_id": "x"}}' })).rejects.toThrow(/"Web application" OAuth client/);
    await expect(a.setClient({ json: '{"installed": {"client_id": "x"}}' })).rejects.toThrow(/client_id \/ client_secret/);
    await expect(a.setClient({ json: 'not json' })).rejects.toThrow(/not JSON/);
    const s = await a.setClient({ json: JSON.stringify({ installed: { client_id: '1234-abc.apps.googleusercontent.com', client_secret: 'GOCSPX-x1' } }) });
    expect(s.client).toBe('1234-abc.apps.googleusercontent.com');
    expect(JSON.stringify(s)).not.toContain('GOCSPX');
    const file = join(dir, 'client_secret.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ installed: { client_id: '1234-abc.apps.googleusercontent.com', client_secret: 'GOCSPX-x1' } });
    // The emulator does not know that client: the sign-in fails with a reason, nothing is stored.
    const opened: string[] = [];
    const b = new Account({ vault: new MemoryVault(), endpoints: () => googleEndpoints(emu.url), clientFile: file, openBrowser: async (u) => void opened.push(u), timeoutMs: 500 });
    await expect(b.signIn()).rejects.toThrow();
    expect((await b.status()).signedIn).toBe(false);
  });

  it('signing out stops the jobs that used the sign-in; signing in again lets them finish (not with the dead token)', { timeout: 90_000 }, async () => {
    // Tasks of 0.3 s (simulated 5 minutes) so the job is well under way when the sign-in goes.
    const emu = await startEmulator({ timeScale: 1000, taskBaseSeconds: 300 });
    const vault = new MemoryVault();
    const host = new JobHost({
      connect: async (project) => {
        const stored = await vault.load();
        if (!stored) throw new Error('not signed in');
        return { session: sessionFromCredentials(stored, googleEndpoints(emu.url), project ?? EMULATOR_CLIENT.project), timeScale: 1000 };
      },
      progressIntervalMs: 50,
      writeLog: false,
    });
    const a = new Account({
      vault,
      endpoints: () => googleEndpoints(emu.url),
      clientFile: join(mkdtempSync(join(tmpdir(), 'tessera-account-')), 'client_secret.json'),
      fallbackClient: () => ({ clientId: EMULATOR_CLIENT.id, clientSecret: EMULATOR_CLIENT.secret }),
      openBrowser: headlessBrowser,
      // As tessera serve and the desktop app wire it.
      onSignedIn: async (credentials) => {
        await host.signInChanged(credentials.refresh_token);
        for (const n of host.names()) if (!host.summary(n).running && !host.summary(n).progress.finished) host.start(n);
      },
      onSignedOut: () => host.signInChanged(undefined),
    });
    try {
      await a.signIn();
      const job = rectangleJob('resign', 6, 4, { maxInFlight: 2 });
      await host.add(job.file);
      host.start('resign');
      for (let i = 0; i < 400 && (host.summary('resign').progress.tiles.done ?? 0) < 1; i++) await new Promise((r) => setTimeout(r, 25));
      await a.signOut();
      await host.settled();
      const stopped = host.summary('resign');
      expect(stopped.outcome?.exitCode, stopped.outcome?.message ?? '').toBe(3);
      expect(stopped.outcome?.message).toMatch(/signed out/);
      expect(stopped.progress.tiles.done).toBeLessThan(24);
      await a.signIn();
      for (let i = 0; i < 600 && !host.summary('resign').outcome; i++) await new Promise((r) => setTimeout(r, 50));
      const again = host.summary('resign');
      expect(again.outcome, JSON.stringify({ running: again.running, progress: again.progress, log: again.log.slice(-8) })).toMatchObject({ exitCode: 0 });
      expect(host.summary('resign').progress.tiles.done).toBe(24);
    } finally {
      await host.stop();
      await emu.stop();
    }
  });
});
