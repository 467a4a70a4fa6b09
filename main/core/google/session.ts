import { readFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { OAuth2Client } from 'google-auth-library';
import { UserError } from '../errors';
import { httpFetch } from '../net/http';

/** Where Tessera sends its requests: Google, or one emulator URL for everything (CONTRACTS.md §1). */
export interface GoogleEndpoints {
  /** Base URL handed to `ee.initialize` (no trailing slash). */
  readonly eeBaseUrl: string;
  /** `rootUrl` for `@googleapis/drive` (with a trailing slash). */
  readonly driveRootUrl: string;
  readonly authUrl: string;
  readonly tokenUrl: string;
  readonly revokeUrl: string;
  readonly emulator: boolean;
}

export function googleEndpoints(emulatorUrl?: string): GoogleEndpoints {
  if (emulatorUrl) {
    const base = emulatorUrl.replace(/\/+$/, '');
    return { eeBaseUrl: base, driveRootUrl: `${base}/`, authUrl: `${base}/o/oauth2/v2/auth`, tokenUrl: `${base}/token`, revokeUrl: `${base}/revoke`, emulator: true };
  }
  return {
    eeBaseUrl: 'https://earthengine.googleapis.com',
    driveRootUrl: 'https://www.googleapis.com/',
    authUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    revokeUrl: 'https://oauth2.googleapis.com/revoke',
    emulator: false,
  };
}

export const SCOPES = [
  'openid',
  'email',
  'https://www.googleapis.com/auth/earthengine',
  'https://www.googleapis.com/auth/cloud-platform',
  'https://www.googleapis.com/auth/drive',
];

/** The built-in client and project used with `--emulator` when none is configured (CONTRACTS.md §1). */
export const EMULATOR_CLIENT = { id: 'tessera-emulator.apps.googleusercontent.com', secret: 'tessera-emulator-secret', project: 'tessera-emulator' };

/** A signed-in account: an OAuth client that refreshes its access token, and the EE project to bill. */
export interface Session {
  readonly client: OAuth2Client;
  readonly project: string;
  readonly endpoints: GoogleEndpoints;
  /** A token valid for at least a minute (refreshed ahead of expiry). */
  accessToken(): Promise<{ token: string; expiresAt: number }>;
}

function oauthClient(endpoints: GoogleEndpoints, id: string, secret: string, redirectUri?: string): OAuth2Client {
  return new OAuth2Client({
    clientId: id,
    clientSecret: secret,
    redirectUri,
    eagerRefreshThresholdMillis: 60_000,
    endpoints: { oauth2AuthBaseUrl: endpoints.authUrl, oauth2TokenUrl: endpoints.tokenUrl, oauth2RevokeUrl: endpoints.revokeUrl },
  });
}

function makeSession(client: OAuth2Client, project: string, endpoints: GoogleEndpoints): Session {
  return {
    client,
    project,
    endpoints,
    async accessToken() {
      const expiry = client.credentials.expiry_date ?? 0;
      // Refresh ourselves ahead of expiry: the EE client's own refresh drops POST bodies (ee_client.md §2.2).
      if (!client.credentials.access_token || expiry - Date.now() < 60_000) {
        try {
          const r = await client.refreshAccessToken();
          client.setCredentials(r.credentials);
        } catch (e) {
          throw signInError(e);
        }
      }
      return { token: client.credentials.access_token!, expiresAt: client.credentials.expiry_date ?? Date.now() + 3_600_000 };
    },
  };
}

/**
 * Signs in against the emulator without a browser: it approves every consent by redirecting at once, so
 * the authorization code is read from that redirect. PKCE and the client secret are used as with Google.
 */
export async function emulatorSession(emulatorUrl: string, project = EMULATOR_CLIENT.project): Promise<Session> {
  const endpoints = googleEndpoints(emulatorUrl);
  const redirectUri = 'http://127.0.0.1:9/oauth2callback'; // never contacted: the redirect is read, not followed
  const client = oauthClient(endpoints, EMULATOR_CLIENT.id, EMULATOR_CLIENT.secret, redirectUri);
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(16).toString('hex');
  const url = client.generateAuthUrl({ access_type: 'offline', prompt: 'consent', scope: SCOPES, state, code_challenge: challenge, code_challenge_method: 'S256' as never });
  let location: string | null;
  try {
    const res = await httpFetch(url, { redirect: 'manual' });
    location = res.headers.get('location');
  } catch (e) {
    throw new UserError(`cannot reach the emulator at ${emulatorUrl} (${(e as Error).message}); is \`tessera emulator\` running?`);
  }
  const back = location ? new URL(location) : undefined;
  if (!back || back.searchParams.get('state') !== state) throw new UserError(`the emulator at ${emulatorUrl} did not complete the sign-in`);
  const error = back.searchParams.get('error');
  if (error) throw new UserError(`sign-in refused (${error}): the emulator denies consent`, 3);
  const code = back.searchParams.get('code');
  if (!code) throw new UserError(`the emulator at ${emulatorUrl} returned no authorization code`);
  const { tokens } = await client.getToken({ code, codeVerifier: verifier, redirect_uri: redirectUri });
  client.setCredentials(tokens);
  return makeSession(client, project, endpoints);
}

interface CredentialsFile {
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
  project?: string;
  quota_project_id?: string;
}

/**
 * Signs in from a credentials file: Tessera's own, or an `authorized_user` file as written by
 * `gcloud auth application-default login` (client id, secret, refresh token).
 */
export async function credentialsSession(path: string, project: string | undefined): Promise<Session> {
  let creds: CredentialsFile;
  try {
    creds = JSON.parse(await readFile(path, 'utf8')) as CredentialsFile;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `not signed in: no credentials at ${path} (see README, "Signing in")` : `the credentials file ${path} cannot be read (${(e as Error).message})`,
      code === 'ENOENT' ? 3 : 1,
    );
  }
  if (!creds.client_id || !creds.client_secret || !creds.refresh_token) {
    throw new UserError(`the credentials file ${path} needs client_id, client_secret and refresh_token`);
  }
  const chosen = project ?? creds.project ?? creds.quota_project_id;
  if (!chosen) throw new UserError('no Earth Engine project: set "ee": { "project": … } in the job file');
  const client = oauthClient(googleEndpoints(), creds.client_id, creds.client_secret);
  client.setCredentials({ refresh_token: creds.refresh_token });
  return makeSession(client, chosen, googleEndpoints());
}

/** `invalid_grant` means the refresh token is dead (revoked, or 7 days old on a "Testing" consent screen). */
export function signInError(e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  if (/invalid_grant/.test(msg)) return new UserError('signed out: Google no longer accepts the stored sign-in (invalid_grant); sign in again', 3);
  return e instanceof Error ? e : new Error(msg);
}
