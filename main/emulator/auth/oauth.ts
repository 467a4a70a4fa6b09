import { createHash, createPrivateKey, createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import type { EmuRequest } from '../http/router';
import { driveError, eeError, json, oauthError, type Reply } from '../http/reply';
import type { IdFactory } from '../random';
import type { ServiceAccounts } from './service-accounts';

/**
 * Google's OAuth 2.0 for installed apps, on loopback: an authorization endpoint that approves at once
 * (or denies, with `denyConsent`), a token endpoint with the authorization-code (PKCE) and refresh
 * grants, revocation, token info, and signed id tokens with the keys served on the usual cert URLs.
 * Access tokens expire after `tokenLifetimeSeconds` of real time.
 */

const SCOPE = 'https://www.googleapis.com/auth/';
const SHORT_SCOPES: Record<string, string> = { email: `${SCOPE}userinfo.email`, profile: `${SCOPE}userinfo.profile` };
const ISSUER = 'https://accounts.google.com';
const CODE_LIFETIME_MS = 10 * 60_000;
export const DEFAULT_EMAIL = 'emulated-user@example.com';

export type Service = 'ee' | 'drive' | 'storage';

/** RFC 7523's grant type: a service account's signed assertion instead of a consent. */
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** One consent: what a refresh token stands for. Access tokens die with it when it is revoked. */
export interface Grant {
  refreshToken: string;
  clientId: string;
  scopes: string[];
  email: string;
  revoked: boolean;
  /** When the consent was given (real ms): refresh tokens may expire a fixed time after it. */
  createdAt?: number;
}

interface AccessToken {
  token: string;
  grant: Grant;
  expiresAt: number;
}

export interface AuthCode {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  email: string;
  challenge: string | null;
  challengeMethod: 'S256' | 'plain';
  expiresAt: number;
  used: boolean;
}

/** The server's state as plain data (persist.ts): its signing key, consents, access tokens and codes. */
export interface AuthState {
  readonly key: { readonly privatePem: string; readonly publicPem: string };
  readonly grants: readonly Grant[];
  readonly tokens: readonly { readonly token: string; readonly refreshToken: string; readonly expiresAt: number }[];
  readonly codes: readonly (AuthCode & { readonly code: string })[];
}

/** Who made a request (set on EE and Drive requests once the token checks out). */
export interface Caller {
  email: string;
  scopes: readonly string[];
  clientId: string;
}

export interface OAuthSettings {
  tokenLifetimeSeconds(): number;
  denyConsent(): boolean;
  /** The consent screen's ticked boxes (null: every scope asked for). */
  grantScopes?(): string | readonly string[] | null;
  /** Refresh tokens die this long after their consent (null: never), as a "Testing" client's do after 7 days. */
  refreshTokenLifetimeSeconds?(): number | null;
}

export class OAuthServer {
  private readonly codes = new Map<string, AuthCode>();
  private readonly grants = new Map<string, Grant>();
  private readonly tokens = new Map<string, AccessToken>();
  private readonly kid: string;
  /** What changed since the last takeChanges() (persistence journals it). */
  private changed = { grants: new Set<Grant>(), tokens: new Set<AccessToken>(), codes: new Set<string>() };
  /** Keys whose JWT bearer grants the token endpoint accepts (service-accounts.ts), and its own URL. */
  private serviceAccounts: { accounts: ServiceAccounts; tokenUrl: () => string } | null = null;

  private constructor(
    private readonly ids: IdFactory,
    private readonly settings: OAuthSettings,
    private readonly privateKey: KeyObject,
    private readonly publicKey: KeyObject,
    private readonly now: () => number,
  ) {
    this.kid = createHash('sha1').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
  }

  static async create(ids: IdFactory, settings: OAuthSettings, now: () => number = Date.now, restored?: AuthState): Promise<OAuthServer> {
    if (restored) {
      const server = new OAuthServer(ids, settings, createPrivateKey(restored.key.privatePem), createPublicKey(restored.key.publicPem), now);
      server.restore(restored);
      return server;
    }
    const { privateKey, publicKey } = await new Promise<{ privateKey: KeyObject; publicKey: KeyObject }>((resolve, reject) =>
      generateKeyPair('rsa', { modulusLength: 2048 }, (err, pub, priv) => (err ? reject(err) : resolve({ privateKey: priv, publicKey: pub }))),
    );
    return new OAuthServer(ids, settings, privateKey, publicKey, now);
  }

  // ---- persistence -------------------------------------------------------------------------------------

  /** Everything, as plain data; access tokens expired for more than a day are left out. */
  snapshot(): AuthState {
    const horizon = this.now() - 86_400_000;
    return {
      key: {
        privatePem: this.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        publicPem: this.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
      grants: [...this.grants.values()].map((g) => ({ ...g })),
      tokens: [...this.tokens.values()].filter((t) => t.expiresAt > horizon).map((t) => ({ token: t.token, refreshToken: t.grant.refreshToken, expiresAt: t.expiresAt })),
      codes: [...this.codes.entries()].map(([code, c]) => ({ ...c, code })),
    };
  }

  /** What changed since the last call, as plain data (null when nothing did). */
  takeChanges(): Omit<AuthState, 'key'> | null {
    const c = this.changed;
    if (c.grants.size + c.tokens.size + c.codes.size === 0) return null;
    this.changed = { grants: new Set(), tokens: new Set(), codes: new Set() };
    return {
      grants: [...c.grants].map((g) => ({ ...g })),
      tokens: [...c.tokens].map((t) => ({ token: t.token, refreshToken: t.grant.refreshToken, expiresAt: t.expiresAt })),
      codes: [...c.codes].flatMap((code) => {
        const v = this.codes.get(code);
        return v ? [{ ...v, code }] : [];
      }),
    };
  }

  private restore(state: AuthState): void {
    for (const g of state.grants) this.grants.set(g.refreshToken, { ...g });
    for (const t of state.tokens) {
      const grant = this.grants.get(t.refreshToken);
      if (grant) this.tokens.set(t.token, { token: t.token, grant, expiresAt: t.expiresAt });
    }
    for (const { code, ...c } of state.codes) this.codes.set(code, c);
  }

  /** Accepts JWT bearer grants signed by these keys (main/emulator/README.md, "Service accounts"). */
  trustServiceAccounts(accounts: ServiceAccounts, tokenUrl: () => string): void {
    this.serviceAccounts = { accounts, tokenUrl };
  }

  /**
   * A service account's grant: the assertion is checked, then an access token is issued for the scopes it
   * names, without a refresh token (a service account signs a new assertion instead).
   */
  private jwtBearer(form: URLSearchParams): Reply {
    const assertion = form.get('assertion');
    if (!assertion) return oauthError(400, 'invalid_request', 'Missing required parameter: assertion');
    if (!this.serviceAccounts) return oauthError(400, 'invalid_grant', 'Invalid grant: account not found');
    const v = this.serviceAccounts.accounts.verify(assertion, this.serviceAccounts.tokenUrl());
    if (!v.ok) return oauthError(400, v.error, v.description);
    const grant: Grant = { refreshToken: this.ids.token('sa//', 60), clientId: v.email, scopes: normalizeScopes(v.scopes.join(' ')), email: v.email, revoked: false, createdAt: this.now() };
    this.grants.set(grant.refreshToken, grant);
    this.changed.grants.add(grant);
    const out = this.issue(grant, false);
    // Google's answer to a JWT grant carries no id_token unless one was asked for (target_audience).
    delete out.id_token;
    return json(200, out, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  }

  // ---- GET /o/oauth2/v2/auth -----------------------------------------------------------------------

  authorize(req: EmuRequest): Reply {
    const q = req.query;
    const clientId = q.get('client_id');
    const redirectUri = q.get('redirect_uri');
    if (!clientId) return consentError('invalid_request', 'Missing required parameter: client_id');
    if (!redirectUri) return consentError('invalid_request', 'Missing required parameter: redirect_uri');
    if (!isLoopbackRedirect(redirectUri)) {
      return consentError('redirect_uri_mismatch', `redirect_uri must be a loopback address (http://127.0.0.1:PORT/… or http://localhost:PORT/…) for a desktop client; got ${redirectUri}`);
    }
    const responseType = q.get('response_type');
    if (responseType !== 'code') return consentError('unsupported_response_type', `Invalid response_type: ${responseType ?? '(missing)'}`);
    const scopeText = q.get('scope');
    if (!scopeText) return consentError('invalid_request', 'Missing required parameter: scope');
    const challenge = q.get('code_challenge');
    const method = q.get('code_challenge_method') ?? 'plain';
    if (challenge !== null && method !== 'S256' && method !== 'plain') return consentError('invalid_request', `Invalid code_challenge_method: ${method}`);
    if (challenge !== null && !/^[A-Za-z0-9\-._~]{43,128}$/.test(challenge)) return consentError('invalid_request', 'Invalid code_challenge.');

    const state = q.get('state');
    const target = new URL(redirectUri);
    if (this.settings.denyConsent()) {
      target.searchParams.set('error', 'access_denied');
      if (state !== null) target.searchParams.set('state', state);
      return { status: 302, headers: { Location: target.toString(), 'Content-Type': 'text/html; charset=utf-8' }, body: '' };
    }
    const scopes = grantedScopes(normalizeScopes(scopeText), this.settings.grantScopes?.() ?? null);
    const hint = q.get('login_hint');
    const code = this.ids.token('4/0A', 70);
    this.codes.set(code, {
      clientId, redirectUri, scopes, email: hint && hint.includes('@') ? hint : DEFAULT_EMAIL,
      challenge, challengeMethod: method as 'S256' | 'plain', expiresAt: this.now() + CODE_LIFETIME_MS, used: false,
    });
    this.changed.codes.add(code);
    if (state !== null) target.searchParams.set('state', state);
    target.searchParams.set('code', code);
    target.searchParams.set('scope', scopes.join(' '));
    return { status: 302, headers: { Location: target.toString(), 'Content-Type': 'text/html; charset=utf-8' }, body: '' };
  }

  // ---- POST /token -----------------------------------------------------------------------------------

  token(req: EmuRequest): Reply {
    const form = readForm(req);
    const basic = basicAuth(req.headers.authorization);
    const clientId = form.get('client_id') ?? basic?.id ?? null;
    const clientSecret = form.get('client_secret') ?? basic?.secret ?? null;
    const grantType = form.get('grant_type');
    if (grantType === JWT_BEARER) return this.jwtBearer(form);
    if (!clientId) return oauthError(400, 'invalid_request', 'Could not determine client ID from request.');
    if (!clientSecret) return oauthError(400, 'invalid_request', 'client_secret is missing.');

    if (grantType === 'authorization_code') {
      const codeText = form.get('code');
      if (!codeText) return oauthError(400, 'invalid_request', 'Missing required parameter: code');
      const code = this.codes.get(codeText);
      if (!code) return oauthError(400, 'invalid_grant', 'Malformed auth code.');
      if (code.used || code.expiresAt < this.now()) return oauthError(400, 'invalid_grant', 'Bad Request');
      if (code.clientId !== clientId) return oauthError(401, 'invalid_client', 'Unauthorized');
      const redirect = form.get('redirect_uri');
      if (redirect !== code.redirectUri) return oauthError(400, 'redirect_uri_mismatch', 'Bad Request');
      if (code.challenge !== null) {
        const verifier = form.get('code_verifier');
        if (!verifier) return oauthError(400, 'invalid_grant', 'Missing code verifier.');
        const computed = code.challengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
        if (computed !== code.challenge) return oauthError(400, 'invalid_grant', 'Invalid code verifier.');
      }
      code.used = true;
      this.changed.codes.add(codeText);
      const grant: Grant = { refreshToken: this.ids.token('1//0g', 100), clientId, scopes: code.scopes, email: code.email, revoked: false, createdAt: this.now() };
      this.grants.set(grant.refreshToken, grant);
      this.changed.grants.add(grant);
      return this.tokenReply(grant, true);
    }

    if (grantType === 'refresh_token') {
      const rt = form.get('refresh_token');
      if (!rt) return oauthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
      const grant = this.grants.get(rt);
      if (!grant || grant.revoked || this.refreshExpired(grant)) return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
      if (grant.clientId !== clientId) return oauthError(401, 'unauthorized_client', 'Unauthorized');
      return this.tokenReply(grant, false);
    }

    return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`);
  }

  /** Mints a token without the consent dance (test hook behind /__emulator/token). */
  mint(opts: { scopes?: string[]; email?: string; clientId?: string; lifetimeSeconds?: number }): Record<string, unknown> {
    const grant: Grant = {
      refreshToken: this.ids.token('1//0g', 100),
      clientId: opts.clientId ?? 'emulator-test-client',
      scopes: normalizeScopes((opts.scopes ?? [`${SCOPE}earthengine`, `${SCOPE}drive`, 'openid', 'email']).join(' ')),
      email: opts.email ?? DEFAULT_EMAIL,
      revoked: false,
    };
    this.grants.set(grant.refreshToken, grant);
    this.changed.grants.add(grant);
    const reply = this.issue(grant, true, opts.lifetimeSeconds);
    return reply;
  }

  /**
   * A refresh token past its lifetime (an OAuth client in "Testing" status: 7 days after consent). Access
   * tokens already issued live on until their own expiry, as at Google. The lifetime is read at each
   * refresh, so changing it at run time reaches existing consents too.
   */
  private refreshExpired(grant: Grant): boolean {
    const lifetime = this.settings.refreshTokenLifetimeSeconds?.() ?? null;
    return lifetime !== null && grant.createdAt !== undefined && this.now() - grant.createdAt >= lifetime * 1000;
  }

  private tokenReply(grant: Grant, withRefresh: boolean): Reply {
    return json(200, this.issue(grant, withRefresh), { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  }

  private issue(grant: Grant, withRefresh: boolean, lifetimeSeconds?: number): Record<string, unknown> {
    const lifetime = lifetimeSeconds ?? this.settings.tokenLifetimeSeconds();
    const token = this.ids.token('ya29.a0', 150);
    const record = { token, grant, expiresAt: this.now() + lifetime * 1000 };
    this.tokens.set(token, record);
    this.changed.tokens.add(record);
    const out: Record<string, unknown> = {
      access_token: token,
      expires_in: lifetime,
      scope: grant.scopes.join(' '),
      token_type: 'Bearer',
    };
    if (withRefresh) out.refresh_token = grant.refreshToken;
    if (grant.scopes.includes('openid')) out.id_token = this.idToken(grant, token);
    return out;
  }

  private idToken(grant: Grant, accessToken: string): string {
    const iat = Math.floor(this.now() / 1000);
    const header = { alg: 'RS256', kid: this.kid, typ: 'JWT' };
    const atHash = createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
    const payload: Record<string, unknown> = {
      iss: ISSUER, azp: grant.clientId, aud: grant.clientId, sub: subjectOf(grant.email), at_hash: atHash, iat, exp: iat + 3600,
    };
    if (grant.scopes.includes(SHORT_SCOPES.email as string)) {
      payload.email = grant.email;
      payload.email_verified = true;
    }
    const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
    const data = `${b64(header)}.${b64(payload)}`;
    return `${data}.${sign('sha256', Buffer.from(data), this.privateKey).toString('base64url')}`;
  }

  // ---- POST /revoke ----------------------------------------------------------------------------------

  /** Revoking either token of a consent ends the whole consent, as Google does. */
  revoke(req: EmuRequest): Reply {
    const token = req.query.get('token') ?? readForm(req).get('token');
    if (!token) return oauthError(400, 'invalid_request', 'Missing required parameter: token');
    const grant = this.grants.get(token) ?? this.tokens.get(token)?.grant;
    const access = this.tokens.get(token);
    if (!grant || grant.revoked || (access && access.expiresAt <= this.now())) return oauthError(400, 'invalid_token', 'Token expired or revoked');
    grant.revoked = true;
    this.changed.grants.add(grant);
    return json(200, {});
  }

  // ---- token info, user info, certs, discovery ---------------------------------------------------------

  tokenInfo(req: EmuRequest): Reply {
    // google-auth-library 10 sends the token as a bearer header; older clients in the query or form.
    const token = req.query.get('access_token') ?? readForm(req).get('access_token');
    const t = token ? this.tokens.get(token) : this.lookup(req);
    if (!t || !this.valid(t)) return oauthError(400, 'invalid_token', 'Invalid Value');
    const expiresIn = Math.max(0, Math.floor((t.expiresAt - this.now()) / 1000));
    return json(200, {
      azp: t.grant.clientId, aud: t.grant.clientId, sub: subjectOf(t.grant.email), scope: t.grant.scopes.join(' '),
      exp: String(Math.floor(t.expiresAt / 1000)), expires_in: String(expiresIn), email: t.grant.email, email_verified: 'true', access_type: 'offline',
    });
  }

  userInfo(req: EmuRequest): Reply {
    const t = this.lookup(req);
    if (!t || !this.valid(t)) return eeError(401, INVALID_CREDENTIALS, { headers: WWW_AUTH });
    return json(200, { sub: subjectOf(t.grant.email), email: t.grant.email, email_verified: true });
  }

  pemCerts(): Reply {
    return json(200, { [this.kid]: this.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
  }

  jwkCerts(): Reply {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return json(200, { keys: [{ ...jwk, kid: this.kid, alg: 'RS256', use: 'sig' }] });
  }

  discovery(baseUrl: string): Reply {
    return json(200, {
      issuer: ISSUER,
      authorization_endpoint: `${baseUrl}/o/oauth2/v2/auth`,
      token_endpoint: `${baseUrl}/token`,
      revocation_endpoint: `${baseUrl}/revoke`,
      userinfo_endpoint: `${baseUrl}/oauth2/v3/userinfo`,
      jwks_uri: `${baseUrl}/oauth2/v3/certs`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'profile'],
      code_challenge_methods_supported: ['plain', 'S256'],
      grant_types_supported: ['authorization_code', 'refresh_token', JWT_BEARER],
    });
  }

  // ---- resource servers --------------------------------------------------------------------------------

  /**
   * Checks the bearer token of an Earth Engine or Drive request: 401 in the service's error format when
   * it is missing, unknown, revoked or expired; 403 when its scopes do not cover the service.
   */
  authenticate(req: EmuRequest, service: Service): Caller | Reply {
    const header = req.headers.authorization;
    if (!header) return unauthenticated(service, 'missing');
    const t = this.lookup(req);
    if (!t) return unauthenticated(service, 'invalid');
    if (t.grant.revoked) return unauthenticated(service, 'invalid');
    if (t.expiresAt <= this.now()) return unauthenticated(service, 'expired');
    if (!hasScope(t.grant.scopes, service, req.method)) return insufficientScopes(service);
    return { email: t.grant.email, scopes: t.grant.scopes, clientId: t.grant.clientId };
  }

  private lookup(req: EmuRequest): AccessToken | undefined {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    return m ? this.tokens.get(m[1] as string) : undefined;
  }

  private valid(t: AccessToken): boolean {
    return !t.grant.revoked && t.expiresAt > this.now();
  }
}

const INVALID_CREDENTIALS =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
const MISSING_CREDENTIALS =
  'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
const WWW_AUTH = { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/"' };

function unauthenticated(service: Service, why: 'missing' | 'invalid' | 'expired'): Reply {
  const message = why === 'missing' ? MISSING_CREDENTIALS : INVALID_CREDENTIALS;
  if (service === 'drive' || service === 'storage') {
    const item = why === 'missing'
      ? { message: 'Login Required.', reason: 'required', location: 'Authorization', locationType: 'header' as const }
      : { message: 'Invalid Credentials', reason: 'authError', location: 'Authorization', locationType: 'header' as const };
    return driveError(401, message, item, { headers: WWW_AUTH });
  }
  const reason = why === 'missing' ? 'CREDENTIALS_MISSING' : why === 'expired' ? 'ACCESS_TOKEN_EXPIRED' : 'ACCESS_TOKEN_TYPE_UNSUPPORTED';
  return eeError(401, message, { info: { reason, metadata: { service: 'earthengine.googleapis.com' } }, headers: WWW_AUTH });
}

function insufficientScopes(service: Service): Reply {
  const message = 'Request had insufficient authentication scopes.';
  if (service === 'drive' || service === 'storage') return driveError(403, message, { message: 'Insufficient Permission', reason: 'insufficientPermissions' });
  return eeError(403, message, { info: { reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', metadata: { service: 'earthengine.googleapis.com' } } });
}

function hasScope(scopes: readonly string[], service: Service, method: string): boolean {
  const read = method === 'GET' || method === 'HEAD';
  const has = (s: string): boolean => scopes.includes(SCOPE + s);
  if (service === 'storage') return has('devstorage.full_control') || has('devstorage.read_write') || has('cloud-platform') || (read && (has('devstorage.read_only') || has('cloud-platform.read-only')));
  if (service === 'ee') return has('earthengine') || has('cloud-platform') || (read && (has('earthengine.readonly') || has('cloud-platform.read-only')));
  return has('drive') || has('drive.file') || (read && has('drive.readonly'));
}

/** Sign-In scopes: Google's granular consent screen never offers them as boxes to untick. */
const SIGN_IN_SCOPES = new Set(['openid', SHORT_SCOPES.email as string, SHORT_SCOPES.profile as string]);

/**
 * What the consent grants: every scope asked for, or — with `grantScopes`, the boxes left ticked — only
 * those of them (never more than asked). Short names (`drive`, `earthengine`) mean Google's scope URLs.
 */
function grantedScopes(asked: string[], ticked: string | readonly string[] | null): string[] {
  if (ticked === null) return asked;
  const list = typeof ticked === 'string' ? ticked.split(/[\s,]+/) : ticked;
  const allowed = new Set(list.filter(Boolean).map((s) => (s.includes(':') || s === 'openid' ? s : SHORT_SCOPES[s] ?? SCOPE + s)));
  return asked.filter((s) => SIGN_IN_SCOPES.has(s) || allowed.has(s));
}

/** Google expands `email` and `profile` to their URLs; the rest is kept as asked, deduplicated. */
function normalizeScopes(text: string): string[] {
  const out: string[] = [];
  for (const s of text.split(/[\s+]+/).filter(Boolean)) {
    const full = SHORT_SCOPES[s] ?? s;
    if (!out.includes(full)) out.push(full);
  }
  return out;
}

function subjectOf(email: string): string {
  // A stable 21-digit subject per address, like Google's numeric user ids.
  const h = createHash('sha256').update(email).digest();
  let s = '1';
  for (let i = 0; s.length < 21; i++) s += String((h[i % h.length] as number) % 10);
  return s;
}

/** Google lets desktop clients use any loopback port, on 127.0.0.1, [::1] or localhost. */
function isLoopbackRedirect(uri: string): boolean {
  try {
    const u = new URL(uri);
    return u.protocol === 'http:' && (u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]');
  } catch {
    return false;
  }
}

function readForm(req: EmuRequest): URLSearchParams {
  const type = req.headers['content-type'] ?? '';
  const text = req.body.toString('utf8');
  if (type.includes('application/json')) {
    try {
      const obj = JSON.parse(text) as Record<string, unknown>;
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(obj)) if (typeof v === 'string' || typeof v === 'number') p.set(k, String(v));
      return p;
    } catch {
      return new URLSearchParams();
    }
  }
  return new URLSearchParams(text);
}

function basicAuth(header: string | undefined): { id: string; secret: string } | null {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return null;
  const [id, ...rest] = Buffer.from(m[1] as string, 'base64').toString('utf8').split(':');
  return id ? { id: decodeURIComponent(id), secret: decodeURIComponent(rest.join(':')) } : null;
}

/** Google shows an error page instead of redirecting when the request itself is broken. */
function consentError(error: string, description: string): Reply {
  const html = `<!doctype html><html><head><title>Error 400: ${error}</title></head><body><h1>Access blocked: Authorization Error</h1><p>Error 400: ${escapeHtml(error)}</p><p>${escapeHtml(description)}</p></body></html>`;
  return { status: 400, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: html };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
