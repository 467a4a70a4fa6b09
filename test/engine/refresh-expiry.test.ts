/**
 * Seven-day sign-ins (docs/signin-and-doctor.md#sign-ins-that-expire): an OAuth client in Google's "Testing" publishing status gets
 * refresh tokens that die 7 days after consent, then answer `invalid_grant`. The emulator's
 * `refreshTokenLifetimeSeconds` scales that down; a job running across the expiry stops cleanly — exit 3,
 * waiting `signed-out`, the webhook and the desktop's note told — and never retries for ever.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuth2Client } from 'google-auth-library';
import { JobHost, type RunEnd } from '../../main/core/engine/host';
import { EMULATOR_CLIENT, emulatorSession } from '../../main/core/google/session';
import { noteForRunEnd } from '../../main/electron/notify';
import { rectangleJob } from '../helpers/job';
import { runJob, useEmulator } from '../helpers/emulator';
import { tessera } from '../helpers/cli';
import { webhookReceiver, type WebhookReceiver } from '../helpers/webhook';

// Access tokens live 1 real second, so runs refresh all the time; tasks take 10 real seconds (10 000
// simulated at ×1000), so a job is still running when its sign-in is made to expire.
const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 10_000, tokenLifetimeSeconds: 1 });
let hook: WebhookReceiver;
beforeAll(async () => {
  hook = await webhookReceiver();
});
afterAll(async () => {
  await hook?.close();
});

const tokenRequests = () => emu.state().requests['POST /token'] ?? 0;

/**
 * Once the job has sent its first export, every consent made so far expires: refresh tokens live 1 ms
 * from now on (the lifetime is read at each refresh). Waits on the emulator's state, not on a clock.
 */
async function expireSignInsOnceExporting(job: string): Promise<void> {
  for (let k = 0; k < 600 && !emu.state().operations.some((o) => o.description?.startsWith(`${job}_`)); k++) await new Promise((r) => setTimeout(r, 50));
  emu.configure({ refreshTokenLifetimeSeconds: 0.001 });
}

describe('refresh tokens that expire (refreshTokenLifetimeSeconds)', () => {
  it('answers invalid_grant "Token has been expired or revoked." once the lifetime is over, as Google does', async () => {
    emu.configure({ refreshTokenLifetimeSeconds: 3600 });
    const session = await emulatorSession(emu.url);
    const client = new OAuth2Client({ clientId: EMULATOR_CLIENT.id, clientSecret: EMULATOR_CLIENT.secret, endpoints: { oauth2TokenUrl: `${emu.url}/token` } });
    client.setCredentials({ refresh_token: session.client.credentials.refresh_token! });
    // Within its lifetime the refresh works…
    await expect(client.refreshAccessToken()).resolves.toBeTruthy();
    // …and once the consent is older than the lifetime (a shorter one is read at the next refresh), it is refused.
    emu.configure({ refreshTokenLifetimeSeconds: 0.001 });
    const raw = await fetch(`${emu.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: session.client.credentials.refresh_token!, client_id: EMULATOR_CLIENT.id, client_secret: EMULATOR_CLIENT.secret }),
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    await expect(client.refreshAccessToken()).rejects.toThrow(/invalid_grant/);
    emu.configure({ refreshTokenLifetimeSeconds: null });
  });

  it('tessera run across the expiry: exit 3, signed-out, the webhook hears, no endless refreshing', { timeout: 90_000 }, async () => {
    hook.heard.length = 0;
    const job = rectangleJob('sevenday', 2, 1, { notify: { webhook: hook.url } });
    const env = { TESSERA_CREDENTIALS: join(mkdtempSync(join(tmpdir(), 'creds-')), 'credentials.json') };
    const running = runJob(job.file, emu.url, env, 60_000);
    await expireSignInsOnceExporting('sevenday');
    const r = await running.finally(() => emu.configure({ refreshTokenLifetimeSeconds: null }));
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/signed out: .*invalid_grant.*"Testing"/);
    const status = JSON.parse(tessera(['status', job.file, '--json']).stdout) as { waiting: string };
    expect(status.waiting).toBe('signed-out');
    expect(hook.heard).toEqual([expect.objectContaining({ job: 'sevenday', status: 'needs-user', exitCode: 3 })]);
    // It ended by itself (no retry loop): nothing more reaches the token endpoint once it has stopped.
    const after = tokenRequests();
    await emu.sync();
    expect(tokenRequests()).toBe(after);
  });

  it('tessera serve / the desktop app: the run ends needing the user, the note and the webhook fire once', { timeout: 90_000 }, async () => {
    hook.heard.length = 0;
    const ends: { job: string; end: RunEnd }[] = [];
    const job = rectangleJob('sevenhost', 2, 1, { notify: { webhook: hook.url } });
    const host = new JobHost({ connect: async () => ({ session: await emulatorSession(emu.url), timeScale: 1000 }), progressIntervalMs: 50, onRunEnd: (j, end) => ends.push({ job: j, end }) });
    try {
      await host.add(job.file);
      host.start('sevenhost');
      await expireSignInsOnceExporting('sevenhost');
      await host.settled();
      expect(ends).toHaveLength(1);
      expect(ends[0]!.end.exitCode).toBe(3);
      expect(host.summary('sevenhost').progress.waiting).toBe('signed-out');
      const note = noteForRunEnd('sevenhost', ends[0]!.end);
      expect(note.title).toBe('sevenhost needs you');
      expect(note.body).toMatch(/signed out/);
      for (let k = 0; k < 100 && hook.heard.length === 0; k++) await new Promise((r) => setTimeout(r, 50));
      expect(hook.heard).toEqual([expect.objectContaining({ job: 'sevenhost', status: 'needs-user', exitCode: 3 })]);
    } finally {
      await host.stop();
      emu.configure({ refreshTokenLifetimeSeconds: null });
    }
  });
});
