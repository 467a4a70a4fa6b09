/**
 * Google's own client libraries, unmodified, pointed at the emulator: google-auth-library's OAuth2Client
 * (PKCE sign-in), @googleapis/drive and @google/earthengine (async calls only).
 */
import { drive as driveApi, type drive_v3 } from '@googleapis/drive';
import { CodeChallengeMethod, OAuth2Client, type Credentials } from 'google-auth-library';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../main/emulator';

export const CLIENT_ID = 'tessera-test.apps.googleusercontent.com';
export const CLIENT_SECRET = 'GOCSPX-tessera-test-secret';
export const SCOPES = [
  'https://www.googleapis.com/auth/earthengine',
  'https://www.googleapis.com/auth/drive',
  'openid',
  'email',
];

/** An OAuth2Client whose every endpoint is the emulator's. */
export function oauthClient(url: string, clientSecret = CLIENT_SECRET): OAuth2Client {
  return new OAuth2Client({
    clientId: CLIENT_ID,
    clientSecret,
    redirectUri: 'http://127.0.0.1:53682/callback',
    endpoints: {
      oauth2AuthBaseUrl: `${url}/o/oauth2/v2/auth`,
      oauth2TokenUrl: `${url}/token`,
      oauth2RevokeUrl: `${url}/revoke`,
      tokenInfoUrl: `${url}/tokeninfo`,
      oauth2FederatedSignonPemCertsUrl: `${url}/oauth2/v1/certs`,
      oauth2FederatedSignonJwkCertsUrl: `${url}/oauth2/v3/certs`,
    },
  });
}

export interface Consent {
  /** Query parameters of the redirect back to the app (code & state, or error & state). */
  readonly redirect: URLSearchParams;
  readonly codeVerifier: string;
  readonly state: string;
}

/**
 * The browser part of the installed-app flow without a browser: GET the consent URL and read the
 * redirect it answers with (the emulator approves at once).
 */
export async function consent(client: OAuth2Client, scopes = SCOPES): Promise<Consent> {
  const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
  const state = `st-${Math.random().toString(36).slice(2)}`;
  const authUrl = client.generateAuthUrl({
    access_type: 'offline',
    scope: scopes,
    state,
    code_challenge_method: CodeChallengeMethod.S256,
    code_challenge: codeChallenge,
    prompt: 'consent',
  });
  const res = await fetch(authUrl, { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`consent answered ${res.status}: ${await res.text()}`);
  const location = new URL(res.headers.get('location') as string);
  return { redirect: location.searchParams, codeVerifier: codeVerifier as string, state };
}

/** Full PKCE sign-in; the client ends up holding the tokens. */
export async function signIn(url: string, scopes = SCOPES): Promise<{ client: OAuth2Client; tokens: Credentials }> {
  const client = oauthClient(url);
  const c = await consent(client, scopes);
  const code = c.redirect.get('code');
  if (!code || c.redirect.get('state') !== c.state) throw new Error(`bad redirect: ${c.redirect.toString()}`);
  const { tokens } = await client.getToken({ code, codeVerifier: c.codeVerifier });
  client.setCredentials(tokens);
  return { client, tokens };
}

export function driveClient(url: string, auth: OAuth2Client): drive_v3.Drive {
  return driveApi({ version: 'v3', auth, rootUrl: `${url}/` });
}

/** The members of the EE client these tests use; add a name here to use another. */
type EeMember =
  | 'data' | 'apiclient' | 'batch' | 'Export' | 'image' | 'toDrive' | 'start' | 'initialize' | 'serialize'
  | 'setAuthToken' | 'getOperation' | 'getTaskStatus' | 'listOperations' | 'cancelOperation' | 'prepareExportImageRequest_'
  | 'Image' | 'toFloat' | 'toInt16' | 'addBands' | 'rename'
  | 'setAuthTokenRefresher' | 'clearAuthToken' | 'table' | 'getInfo' | 'evaluate' | 'bandNames' | 'size' | 'Number' | 'String' | 'List'
  | 'FeatureCollection' | 'Feature' | 'Geometry' | 'Point' | 'Rectangle' | 'Polygon' | 'sampleRegions' | 'reproject' | 'clip' | 'ImageCollection'
  | 'median' | 'select' | 'toByte' | 'toCloudStorage';

/** The EE client's fluent API, typed loosely (the package has no types). */
export type Ee = { (...args: unknown[]): Ee; new (...args: unknown[]): Ee } & { readonly [K in EeMember]: Ee };

/**
 * The unmodified client, loaded from node_modules (one instance per test file: its state is global),
 * with its request throttle lowered (unthrottle) so tests do not wait 350 ms per request.
 */
export function loadEe(): Ee {
  const load = createRequire(path.resolve(__dirname, '../../package.json'));
  const ee = load('@google/earthengine') as Ee;
  unthrottle(ee);
  return ee;
}

/** Token via setAuthToken (updateAuthLibrary false, as in Node), then async initialize. */
export function initEe(ee: Ee, url: string, tokens: Credentials, project: string): Promise<void> {
  const expiresIn = tokens.expiry_date ? Math.floor((tokens.expiry_date - Date.now()) / 1000) : 3600;
  ee.data.setAuthToken(CLIENT_ID, 'Bearer', tokens.access_token, expiresIn, [], undefined, false);
  return new Promise((resolve, reject) => {
    ee.initialize(url, null, () => resolve(), (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))), null, project);
  });
}

/** Promisifies the client's `(result, error)` callbacks. */
export function eeCall<T>(fn: (cb: (result: T, error?: string) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((result, error) => (error ? reject(new Error(error)) : resolve(result)));
  });
}

/** `task.start(ok, err)`; resolves with the task's server id (the last segment of the operation name). */
export function startTask(task: Ee): Promise<string> {
  return new Promise((resolve, reject) => {
    task.start(
      () => resolve(String((task as unknown as { id: string }).id)),
      (e: unknown) => reject(new Error(String(e))),
    );
  });
}

/** Plain JSON of a generated `ee.api.*` object. */
export function plain<T = Record<string, unknown>>(ee: Ee, value: unknown): T {
  return ee.apiclient.serialize(value) as unknown as T;
}

/** Polls `check` until it returns a value, at most `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Lowers the client's process-wide request throttle (one request every 350 ms, docs/earth-engine-client.md#request-throttle) so
 * tests spend no time in it. A timing knob of the client, not a change to what it sends.
 */
export function unthrottle(ee: Ee): void {
  (ee.apiclient as unknown as { RequestThrottle: { interval_: number } }).RequestThrottle.interval_ = 1;
}

/** An emulator, and the real Earth Engine client signed in to it for `project` (its own extended type `E`). */
export async function startEmulatorWithEe<E = Ee>(options: EmulatorOptions, project: string): Promise<{ emu: EmulatorHandle; ee: E; client: OAuth2Client; tokens: Credentials }> {
  const emu = await startEmulator(options);
  const signed = await signIn(emu.url);
  const ee = loadEe();
  await initEe(ee, emu.url, signed.tokens, project);
  return { emu, ee: ee as unknown as E, client: signed.client, tokens: signed.tokens };
}

/** What `useEmulatorWithEe` hands a test file: the emulator, the signed-in EE client, Drive's client and the tokens. */
export interface EmulatorWithClients<E = Ee> {
  emu: EmulatorHandle;
  ee: E;
  drive: drive_v3.Drive;
  tokens: Credentials;
}

/**
 * One emulator with the real clients signed in to it, for the tests of a file: started before them (`use`
 * receives it; the EE client is not a plain object a proxy could stand for), stopped after them.
 * `restart` stops it and starts another with the same options — with a `dataDir`, on the same state.
 */
export function useEmulatorWithEe<E = Ee>(options: EmulatorOptions, project: string, use: (started: EmulatorWithClients<E>) => void): { restart(): Promise<void> } {
  let emu: EmulatorHandle | undefined;
  const start = async (): Promise<void> => {
    const started = await startEmulatorWithEe<E>(options, project);
    emu = started.emu;
    use({ emu, ee: started.ee, drive: driveClient(emu.url, started.client), tokens: started.tokens });
  };
  beforeAll(start);
  afterAll(async () => {
    await emu?.stop();
  });
  return {
    restart: async () => {
      await emu?.stop();
      await start();
    },
  };
}

/** Starts a task with the client and waits (bounded) until the emulator reports it SUCCEEDED or FAILED. */
export async function runEmulatorTask(emu: EmulatorHandle, task: Ee): Promise<{ state: string; error: string | null }> {
  const id = await startTask(task);
  const op = await waitFor('task done', async () => {
    await fetch(`${emu.url}/__emulator/state`);
    const o = emu.state().operations.find((x) => x.name.endsWith(`/${id}`));
    return o && (o.state === 'SUCCEEDED' || o.state === 'FAILED') ? o : undefined;
  }, 20_000, 20);
  return { state: op.state, error: op.error?.message ?? null };
}
