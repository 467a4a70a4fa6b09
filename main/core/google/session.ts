import { OAuth2Client } from 'google-auth-library';
import { UserError } from '../errors';
import { headlessBrowser, oauthClientFor, signIn } from '../auth/signin';
import type { StoredCredentials } from '../auth/vault';
import { checkGrantedScopes } from '../auth/scopes';
export { SCOPES } from '../auth/scopes';

/** Where Tessera sends its requests: Google, or one emulator URL for everything (docs/cli.md#--emulator). */
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

/** The built-in client and project used with `--emulator` when none is configured (docs/cli.md#--emulator). */
export const EMULATOR_CLIENT = { id: 'tessera-emulator.apps.googleusercontent.com', secret: 'tessera-emulator-secret', project: 'tessera-emulator' };

/** A signed-in account: an OAuth client that refreshes its access token, and the EE project to bill. */
export interface Session {
  readonly client: OAuth2Client;
  readonly project: string;
  readonly endpoints: GoogleEndpoints;
  readonly email?: string;
  /** A token valid for at least a minute (refreshed ahead of expiry; `force` after a 401). */
  accessToken(force?: boolean): Promise<{ token: string; expiresAt: number }>;
  /**
   * What Google said with the last refresh (`tessera doctor`): the granted `scope`, and when the refresh
   * token itself expires when Google tells (`refresh_token_expires_in`); null when not known.
   */
  grant?(): { scope: string | null; refreshTokenExpiresAt: number | null };
}

/**
 * Whether a session's access token must be fetched now: when forced, when there is none yet, or a minute
 * ahead of its expiry — Tessera refreshes by itself because the EE client's own refresh drops POST bodies
 * (docs/earth-engine-client.md#tokens-and-refresh).
 */
export function accessTokenDue(client: OAuth2Client, force: boolean): boolean {
  const expiry = client.credentials.expiry_date ?? 0;
  return force || !client.credentials.access_token || expiry - Date.now() < 60_000;
}

/** The client's access token and when it expires (in an hour when Google did not say). */
export function currentAccessToken(client: OAuth2Client): { token: string; expiresAt: number } {
  return { token: client.credentials.access_token!, expiresAt: client.credentials.expiry_date ?? Date.now() + 3_600_000 };
}

/**
 * A session over `client` whose access token `refresh` fetches when one is due (accessTokenDue) — how a
 * person's refresh token and a service account's signed grant differ is only in `refresh`.
 */
export function refreshingSession(parts: Omit<Session, 'accessToken' | 'grant'>, refresh: () => Promise<void>): Session {
  return {
    ...parts,
    async accessToken(force = false) {
      if (accessTokenDue(parts.client, force)) await refresh();
      return currentAccessToken(parts.client);
    },
  };
}

/** A session from stored credentials; the access token is fetched (refreshed) on first use. */
export function sessionFromCredentials(creds: StoredCredentials, endpoints: GoogleEndpoints, project: string | undefined): Session {
  const chosen = project ?? creds.project;
  if (!chosen) throw new UserError('no Earth Engine project: set "ee": { "project": … } in the job file, or sign in with tessera login --project');
  const client = oauthClientFor(endpoints, { clientId: creds.client_id, clientSecret: creds.client_secret });
  client.setCredentials({ refresh_token: creds.refresh_token });
  const grant = { scope: null as string | null, refreshTokenExpiresAt: null as number | null };
  const session = refreshingSession({ client, project: chosen, endpoints, email: creds.email }, async () => {
    // The refresh token in use: the stored one, or the one a new sign-in handed this session since.
    const current = client.credentials.refresh_token ?? undefined;
    if (!current) throw new UserError('signed out: the sign-in was removed; sign in again (tessera login, or the dashboard)', 3);
    let r;
    try {
      r = await client.refreshAccessToken();
    } catch (e) {
      throw signInError(e);
    }
    const answer = r.credentials as typeof r.credentials & { refresh_token_expires_in?: number };
    grant.scope = answer.scope ?? null;
    grant.refreshTokenExpiresAt = typeof answer.refresh_token_expires_in === 'number' ? Date.now() + answer.refresh_token_expires_in * 1000 : null;
    // Every run checks what Google granted (a box unticked at consent): signed out, exit 3 (docs/signin-and-doctor.md#granted-scopes).
    checkGrantedScopes(answer.scope);
    client.setCredentials({ ...r.credentials, refresh_token: r.credentials.refresh_token ?? current });
  });
  return { ...session, grant: () => ({ ...grant }) };
}

/**
 * Signs in against the emulator by itself (docs/cli.md#--emulator): the same loopback + PKCE flow as with
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
  if (/invalid_grant/.test(msg)) return new UserError('signed out: Google no longer accepts the stored sign-in (invalid_grant: it was revoked, or it expired — an OAuth client in "Testing" publishing status gets sign-ins that end after 7 days); sign in again (tessera login, or Settings in the dashboard), and publish the consent screen to "In production" so it lasts', 3);
  return e instanceof Error ? e : new Error(msg);
}
