import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { OAuth2Client } from 'google-auth-library';
import { UserError } from '../errors';
import type { GoogleEndpoints } from '../google/session';
import { SCOPES } from './scopes';
import type { StoredCredentials } from './vault';
import { httpFetch } from '../net/http';
import { checkGrantedScopes } from './scopes';

export interface OAuthClientConfig {
  clientId: string;
  clientSecret: string;
}

export interface SignInOptions {
  endpoints: GoogleEndpoints;
  client: OAuthClientConfig;
  /** Shows the consent page: the system browser, a printed URL, or (tests, emulator) a headless fetch. */
  openBrowser: (url: string) => Promise<void>;
  /** Fixed loopback port; default 0, any free one (RFC 8252 §7.3). */
  port?: number;
  timeoutMs?: number;
  /** Gives up waiting for the browser (the app quits, the user cancels): the loopback server closes. */
  signal?: AbortSignal;
  /** With `--no-browser`: the redirect URL pasted by the user, instead of waiting on the loopback server. */
  pastedRedirect?: () => Promise<string>;
}

export interface SignInResult {
  credentials: Omit<StoredCredentials, 'project'>;
  accessToken: string;
  expiresAt: number;
}

const CLOSE_PAGE = '<!doctype html><meta charset="utf-8"><title>Tessera</title><p style="font:16px system-ui;margin:3em">Signed in to Tessera. You can close this window.</p>';

export function oauthClientFor(endpoints: GoogleEndpoints, client: OAuthClientConfig, redirectUri?: string): OAuth2Client {
  return new OAuth2Client({
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    redirectUri,
    eagerRefreshThresholdMillis: 60_000,
    endpoints: {
      oauth2AuthBaseUrl: endpoints.authUrl,
      oauth2TokenUrl: endpoints.tokenUrl,
      oauth2RevokeUrl: endpoints.revokeUrl,
      ...(endpoints.emulator ? { oauth2FederatedSignonPemCertsUrl: `${endpoints.eeBaseUrl}/oauth2/v1/certs`, oauth2FederatedSignonJwkCertsUrl: `${endpoints.eeBaseUrl}/oauth2/v3/certs` } : {}),
    },
  });
}

/**
 * Google sign-in for a native app (RFC 8252): authorization code with PKCE (S256) and `state`, the
 * redirect caught by a loopback server on 127.0.0.1 that accepts exactly one request and closes, bounded
 * by a timeout. The email comes from the verified id_token.
 */
export async function signIn(o: SignInOptions): Promise<SignInResult> {
  const state = randomBytes(16).toString('hex');
  const { server, port } = await listenLoopback(o.port ?? 0);
  const redirectUri = `http://127.0.0.1:${port}/oauth2callback`;
  const client = oauthClientFor(o.endpoints, o.client, redirectUri);
  const pkce = await client.generateCodeVerifierAsync();
  const url = client.generateAuthUrl({
    access_type: 'offline',
    prompt: 'consent',
    scope: SCOPES,
    state,
    code_challenge: pkce.codeChallenge,
    code_challenge_method: 'S256' as never,
  });
  let code: string;
  try {
    if (o.pastedRedirect) {
      await o.openBrowser(url);
      code = codeFrom(parseRedirect(await o.pastedRedirect()), state);
    } else {
      const redirect = waitForRedirect(server, o.timeoutMs ?? 300_000, o.signal);
      await o.openBrowser(url);
      code = codeFrom(await redirect, state);
    }
  } finally {
    server.close();
  }
  let tokens;
  try {
    tokens = (await client.getToken({ code, codeVerifier: pkce.codeVerifier, redirect_uri: redirectUri })).tokens;
  } catch (e) {
    throw new UserError(`sign-in failed at the token exchange (${(e as Error).message})`);
  }
  // Before anything is kept: a consent with an unticked box is refused here (exit 3), the stored sign-in untouched.
  checkGrantedScopes(tokens.scope);
  if (!tokens.refresh_token) throw new UserError('sign-in returned no refresh token; remove Tessera from your Google account’s third-party access and sign in again');
  let email: string | undefined;
  if (tokens.id_token) {
    try {
      const ticket = await client.verifyIdToken({ idToken: tokens.id_token, audience: o.client.clientId });
      email = ticket.getPayload()?.email;
    } catch (e) {
      throw new UserError(`the sign-in's id_token did not verify (${(e as Error).message})`);
    }
  }
  return {
    credentials: { client_id: o.client.clientId, client_secret: o.client.clientSecret, refresh_token: tokens.refresh_token, email, ...(o.endpoints.emulator ? { emulator: o.endpoints.eeBaseUrl } : {}) },
    accessToken: tokens.access_token ?? '',
    expiresAt: tokens.expiry_date ?? Date.now() + 3_600_000,
  };
}

/** Revokes the refresh token (the whole consent), so a copied credentials file is useless. */
export async function revoke(endpoints: GoogleEndpoints, credentials: StoredCredentials): Promise<void> {
  const client = oauthClientFor(endpoints, { clientId: credentials.client_id, clientSecret: credentials.client_secret });
  try {
    await client.revokeToken(credentials.refresh_token);
  } catch (e) {
    const status = (e as { response?: { status?: number } }).response?.status;
    if (status !== 400) throw new UserError(`revoking the sign-in failed (${(e as Error).message}); the file was kept, try again`);
    // 400 invalid_token: already revoked or expired — nothing left to revoke.
  }
}

/** A "browser" that follows redirects without rendering: the emulator approves consent at once. */
export async function headlessBrowser(url: string): Promise<void> {
  let next = url;
  for (let hop = 0; hop < 5; hop++) {
    const res = await httpFetch(next, { redirect: 'manual' });
    const location = res.headers.get('location');
    await res.arrayBuffer();
    if (!location) return;
    next = new URL(location, next).toString();
  }
}

function parseRedirect(text: string): URL {
  try {
    return new URL(text.trim());
  } catch {
    throw new UserError('that is not the redirect URL: paste the whole address the browser ended on (http://127.0.0.1:…/oauth2callback?…)');
  }
}

function codeFrom(url: URL, state: string): string {
  const error = url.searchParams.get('error');
  if (url.searchParams.get('state') !== state) throw new UserError('sign-in refused: the answer did not carry this sign-in’s state (a stale or forged redirect); try again');
  if (error) throw new UserError(error === 'access_denied' ? 'sign-in cancelled: consent was denied' : `sign-in failed: ${error}`, 3);
  const code = url.searchParams.get('code');
  if (!code) throw new UserError('sign-in failed: the redirect carried no authorization code');
  return code;
}

function listenLoopback(port: number): Promise<{ server: Server; port: number }> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new UserError(`sign-in cannot listen on 127.0.0.1:${port}: the port is taken; choose another or leave it to the system`) : e),
    );
    server.listen(port, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

/** Resolves with the first request to /oauth2callback (answered with a page saying it can be closed). */
function waitForRedirect(server: Server, timeoutMs: number, signal?: AbortSignal): Promise<URL> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new UserError(`sign-in timed out after ${Math.round(timeoutMs / 1000)} s without an answer from the browser`)), timeoutMs);
    timer.unref();
    const onAbort = () => {
      clearTimeout(timer);
      reject(new UserError('sign-in cancelled'));
    };
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    server.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== '/oauth2callback') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end(CLOSE_PAGE);
      server.removeAllListeners('request'); // exactly one redirect is accepted
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(url);
    });
  });
}
