/**
 * OAuth 2.0 for installed apps against the emulator, through google-auth-library's OAuth2Client: PKCE,
 * client secret, id token, refresh, revoke, consent denied, and token expiry → 401 on every EE and Drive
 * route in each service's error format.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { CLIENT_ID, consent, driveClient, eeCall, initEe, loadEe, oauthClient, signIn } from './google-clients';

let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({ timeScale: 100 });
});

afterAll(async () => {
  await emu?.stop();
});

function jwtPayload(jwt: string): Record<string, unknown> {
  const [, payload] = jwt.split('.');
  return JSON.parse(Buffer.from(payload as string, 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function tokenRequest(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${emu.url}/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('authorization code with PKCE', () => {
  it('signs in: access and refresh tokens, and an id token with the email that verifies against the emulator certs', async () => {
    const { client, tokens } = await signIn(emu.url);
    expect(tokens.access_token).toMatch(/^ya29\./);
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.scope?.split(' ')).toEqual(expect.arrayContaining(['https://www.googleapis.com/auth/earthengine', 'https://www.googleapis.com/auth/userinfo.email', 'openid']));
    const claims = jwtPayload(tokens.id_token as string);
    expect(claims).toMatchObject({ iss: 'https://accounts.google.com', aud: CLIENT_ID, email: expect.stringContaining('@'), email_verified: true });
    const ticket = await client.verifyIdToken({ idToken: tokens.id_token as string, audience: CLIENT_ID });
    expect(ticket.getPayload()?.email).toBe(claims.email);
  });

  it('gives no id token without openid, and no email claim without the email scope', async () => {
    const noOpenId = await signIn(emu.url, ['https://www.googleapis.com/auth/drive']);
    expect(noOpenId.tokens.id_token).toBeFalsy();
    const noEmail = await signIn(emu.url, ['https://www.googleapis.com/auth/drive', 'openid']);
    expect(jwtPayload(noEmail.tokens.id_token as string).email).toBeUndefined();
  });

  it('redirects back with code and state, and checks the verifier, the secret and single use', async () => {
    const client = oauthClient(emu.url);
    const c = await consent(client);
    expect(c.redirect.get('state')).toBe(c.state);
    const code = c.redirect.get('code') as string;
    const base = { grant_type: 'authorization_code', code, client_id: CLIENT_ID, redirect_uri: 'http://127.0.0.1:53682/callback' };

    const wrongVerifier = await tokenRequest({ ...base, client_secret: 's', code_verifier: 'x'.repeat(43) });
    expect(wrongVerifier).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const noVerifier = await tokenRequest({ ...base, client_secret: 's' });
    expect(noVerifier).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const noSecret = await tokenRequest({ ...base, code_verifier: c.codeVerifier });
    expect(noSecret).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'client_secret is missing.' } });

    const ok = await tokenRequest({ ...base, client_secret: 's', code_verifier: c.codeVerifier });
    expect(ok.status).toBe(200);
    const reused = await tokenRequest({ ...base, client_secret: 's', code_verifier: c.codeVerifier });
    expect(reused).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const bogus = await tokenRequest({ ...base, code: '4/0Abogus', client_secret: 's', code_verifier: c.codeVerifier });
    expect(bogus).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('through the client library: a missing secret and a wrong verifier are errors', async () => {
    const noSecret = oauthClient(emu.url, '');
    const c1 = await consent(noSecret);
    await expect(noSecret.getToken({ code: c1.redirect.get('code') as string, codeVerifier: c1.codeVerifier })).rejects.toMatchObject({ status: 400 });
    const client = oauthClient(emu.url);
    const c2 = await consent(client);
    await expect(client.getToken({ code: c2.redirect.get('code') as string, codeVerifier: `${c2.codeVerifier}x` })).rejects.toThrow(/invalid_grant/);
  });

  it('denyConsent redirects with error=access_denied and the state', async () => {
    emu.configure({ denyConsent: true });
    try {
      const c = await consent(oauthClient(emu.url));
      expect(c.redirect.get('error')).toBe('access_denied');
      expect(c.redirect.get('state')).toBe(c.state);
      expect(c.redirect.get('code')).toBeNull();
    } finally {
      emu.configure({ denyConsent: false });
    }
  });

  it('refuses a non-loopback redirect_uri like a desktop client', async () => {
    const res = await fetch(`${emu.url}/o/oauth2/v2/auth?client_id=x&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&response_type=code&scope=openid`, { redirect: 'manual' });
    expect(res.status).toBe(400);
  });
});

describe('refresh, revoke, expiry', () => {
  it('refreshes with the refresh_token grant, revokes the whole consent', async () => {
    const { client, tokens } = await signIn(emu.url);
    const refreshed = await client.refreshAccessToken();
    expect(refreshed.credentials.access_token).toMatch(/^ya29\./);
    expect(refreshed.credentials.access_token).not.toBe(tokens.access_token);
    const drive = driveClient(emu.url, client);
    expect((await drive.about.get({ fields: 'user(emailAddress)' })).data.user?.emailAddress).toContain('@');
    await client.revokeToken(tokens.refresh_token as string);
    const stale = oauthClient(emu.url);
    stale.setCredentials({ access_token: refreshed.credentials.access_token });
    await expect(driveClient(emu.url, stale).about.get({ fields: 'storageQuota' })).rejects.toMatchObject({ status: 401 });
    const again = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: CLIENT_ID, client_secret: 's' });
    expect(again).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('expires access tokens after tokenLifetimeSeconds: 401 on EE and Drive, in their formats; the library refreshes by itself', async () => {
    emu.configure({ tokenLifetimeSeconds: 1 });
    let signedIn;
    try {
      signedIn = await signIn(emu.url);
    } finally {
      emu.configure({ tokenLifetimeSeconds: 3600 });
    }
    expect(signedIn.tokens.expiry_date).toBeLessThanOrEqual(Date.now() + 1000);
    // The client starts with a token of normal life (starting may take longer than a second on a busy
    // machine), then is handed the short one, which has expired by the time it is used.
    const ee = loadEe();
    const normal = await signIn(emu.url);
    await initEe(ee, emu.url, normal.tokens, 'p-expiry');
    ee.data.setAuthToken(CLIENT_ID, 'Bearer', signedIn.tokens.access_token, 3600, [], undefined, false);
    await new Promise((r) => setTimeout(r, Math.max(0, (signedIn.tokens.expiry_date ?? 0) - Date.now()) + 100));

    // EE: the client reports Google's message.
    await expect(eeCall((cb) => ee.data.listOperations(undefined, cb))).rejects.toThrow(/^Request had invalid authentication credentials\./);
    // Drive, without a refresh token: 401 with the legacy errors array.
    const bare = oauthClient(emu.url);
    bare.setCredentials({ access_token: signedIn.tokens.access_token });
    const err = (await driveClient(emu.url, bare).files.list({}).then(
      () => ({ status: 200 }),
      (e: unknown) => e,
    )) as { status: number; response?: { data: unknown } };
    expect(err.status).toBe(401);
    expect(err.response?.data).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED', errors: [{ reason: 'authError', location: 'Authorization' }] } });
    // With its refresh token, OAuth2Client notices the expiry and refreshes before calling.
    const list = await driveClient(emu.url, signedIn.client).files.list({});
    expect(list.status).toBe(200);
  });

  it('answers 401 without a token on every Earth Engine and Drive route, never on /__emulator', async () => {
    const routes: [string, string][] = [
      ['GET', '/v1/projects/p/algorithms'], ['POST', '/v1/projects/p/image:export'], ['POST', '/v1/projects/p/table:export'],
      ['GET', '/v1/projects/p/operations'], ['GET', '/v1/projects/p/operations/X'], ['POST', '/v1/projects/p/operations/X:cancel'],
      ['GET', '/drive/v3/files'], ['POST', '/drive/v3/files'], ['GET', '/drive/v3/files/abc'], ['GET', '/drive/v3/files/abc?alt=media'],
      ['PATCH', '/drive/v3/files/abc'], ['DELETE', '/drive/v3/files/abc'], ['DELETE', '/drive/v3/files/trash'], ['GET', '/drive/v3/about?fields=storageQuota'],
    ];
    for (const [method, path] of routes) {
      const res = await fetch(emu.url + path, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = (await res.json()) as { error: { code: number; status: string; message: string; errors?: unknown[] } };
      expect(body.error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED', message: expect.stringMatching(/^Request is missing required authentication credential/) });
      expect(Array.isArray(body.error.errors)).toBe(path.startsWith('/drive/'));
    }
    const batch = await fetch(`${emu.url}/batch`, {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/mixed; boundary=b' },
      body: '--b\r\nContent-Type: application/http\r\nContent-ID: <x>\r\n\r\nGET /v1/projects/p/operations/X HTTP/1.1\r\n\r\n\r\n--b--\r\n',
    });
    expect(batch.status).toBe(200);
    expect(await batch.text()).toMatch(/Content-ID: <response-x>\r\n\r\nHTTP\/1\.1 401 /);
    expect((await fetch(`${emu.url}/__emulator/config`)).status).toBe(200);
  });

  it('refuses a token without the service\'s scope with 403', async () => {
    const { client } = await signIn(emu.url, ['https://www.googleapis.com/auth/earthengine']);
    await expect(driveClient(emu.url, client).files.list({})).rejects.toMatchObject({ status: 403 });
  });
});
