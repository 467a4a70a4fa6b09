import { OAuth2Client } from 'google-auth-library';
import { UserError } from '../errors';
import { headlessBrowser, oauthClientFor, signIn } from '../auth/signin';
import type { StoredCredentials } from '../auth/vault';

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

/**
 * Scopes: Earth Engine (and cloud-platform, which EE accepts too) and full Drive — EE's own clients ask
 * for it since 2025, and `drive.file` cannot reach the files EE creates; `openid email` name the account.
 */
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
  readonly email?: string;
  /** A token valid for at least a minute (refreshed ahead of expiry; `force` after a 401). */
  accessToken(force?: boolean): Promise<{ token: string; expiresAt: number }>;
}

/** A session from stored credentials; the access token is fetched (refreshed) on first use. */
export function sessionFromCredentials(creds: StoredCredentials, endpoints: GoogleEndpoints, project: string | undefined): Session {
  const chosen = project ?? creds.project;
  if (!chosen) throw new UserError('no Earth Engine project: set "ee": { "project": … } in the job file, or sign in with tessera login --project');
  const client = oauthClientFor(endpoints, { clientId: creds.client_id, clientSecret: creds.client_secret });
  client.setCredentials({ refresh_token: creds.refresh_token });
  return {
    client,
    project: chosen,
    endpoints,
    email: creds.email,
    async accessToken(force = false) {
      const expiry = client.credentials.expiry_date ?? 0;
      // Refresh ourselves ahead of expiry: the EE client's own refresh drops POST bodies (ee_client.md §2.2).
      if (force || !client.credentials.access_token || expiry - Date.now() < 60_000) {
        // The refresh token in use: the stored one, or the one a new sign-in handed this session since.
        const current = client.credentials.refresh_token ?? undefined;
        if (!current) throw new UserError('signed out: the sign-in was removed; sign in again (tessera login, or the dashboard)', 3);
        try {
          const r = await client.refreshAccessToken();
          client.setCredentials({ ...r.credentials, refresh_token: r.credentials.refresh_token ?? current });
        } catch (e) {
          throw signInError(e);
        }
      }
      return { token: client.credentials.access_token!, expiresAt: client.credentials.expiry_date ?? Date.now() + 3_600_000 };
    },
  };
}

/**
 * Signs in against the emulator by itself (CONTRACTS.md §1): the same loopback + PKCE flow as with
 * Google, with a headless "browser" — the emulator approves consent at once.
 */
export async function emulatorSession(emulatorUrl: string, project = EMULATOR_CLIENT.project): Promise<Session> {
  const endpoints = googleEndpoints(emulatorUrl);
  let result;
  try {
    result = await signIn({ endpoints, client: { clientId: EMULATOR_CLIENT.id, clientSecret: EMULATOR_CLIENT.secret }, openBrowser: headlessBrowser, timeoutMs: 30_000 });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot sign in at the emulator ${emulatorUrl} (${(e as Error).message}); is \`tessera emulator\` running there?`);
  }
  const session = sessionFromCredentials({ ...result.credentials, project }, endpoints, project);
  session.client.setCredentials({ access_token: result.accessToken, expiry_date: result.expiresAt, refresh_token: result.credentials.refresh_token });
  return session;
}

/** `invalid_grant` means the refresh token is dead (revoked, or 7 days old on a "Testing" consent screen). */
export function signInError(e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  if (/invalid_grant/.test(msg)) return new UserError('signed out: Google no longer accepts the stored sign-in (invalid_grant); sign in again with tessera login', 3);
  return e instanceof Error ? e : new Error(msg);
}
