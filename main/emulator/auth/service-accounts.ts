import { createPublicKey, generateKeyPair, randomBytes, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../common/atomic-write';

/**
 * Service accounts the emulator trusts (main/emulator/README.md, "Service accounts"): keys it generated
 * itself (`--service-account-key OUT.json` writes one as Google's key file), and the check of a JWT
 * bearer grant's assertion (RS256, signed by one of them, `aud` the token endpoint, at most an hour).
 * With a data folder the public halves persist in `service-accounts.json`, so a key file keeps working
 * across restarts.
 */

/** What Google's token endpoint says when it refuses an assertion (error `invalid_grant`). */
export type AssertionVerdict = { ok: true; email: string; scopes: string[] } | { ok: false; error: string; description: string };

interface TrustedKey {
  keyId: string;
  email: string;
  publicPem: string;
}

const FILE = 'service-accounts.json';
/** The audience Google documents ("always https://oauth2.googleapis.com/token"), and the older one. */
const GOOGLE_AUDIENCES = ['https://oauth2.googleapis.com/token', 'https://www.googleapis.com/oauth2/v4/token', 'https://accounts.google.com/o/oauth2/token'];
/** Google refuses assertions that live longer than this ("a maximum of 1 hour after the issued time"). */
const MAX_LIFETIME_S = 3600;
/** Clock skew tolerated on `iat` / `exp`. */
const SKEW_S = 300;

export class ServiceAccounts {
  private readonly keys = new Map<string, TrustedKey & { key: KeyObject }>();

  constructor(
    private readonly dataRoot: string | null,
    private readonly now: () => number = Date.now,
  ) {
    if (!dataRoot) return;
    try {
      const saved = JSON.parse(readFileSync(join(dataRoot, FILE), 'utf8')) as TrustedKey[];
      for (const k of saved) this.keys.set(k.keyId, { ...k, key: createPublicKey(k.publicPem) });
    } catch {
      // no keys yet
    }
  }

  /** A fresh key for `email` in Google's key-file format, trusted from now on. */
  async create(opts: { project: string; tokenUri: string; name?: string }): Promise<Record<string, string>> {
    const { privateKey, publicKey } = await new Promise<{ privateKey: KeyObject; publicKey: KeyObject }>((resolve, reject) =>
      generateKeyPair('rsa', { modulusLength: 2048 }, (err, pub, priv) => (err ? reject(err) : resolve({ privateKey: priv, publicKey: pub }))),
    );
    const keyId = randomBytes(20).toString('hex');
    const email = `${opts.name ?? 'tessera-runner'}@${opts.project}.iam.gserviceaccount.com`;
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.keys.set(keyId, { keyId, email, publicPem, key: publicKey });
    this.save();
    const clientId = BigInt(`0x${randomBytes(8).toString('hex')}`).toString().padStart(21, '1').slice(0, 21);
    return {
      type: 'service_account',
      project_id: opts.project,
      private_key_id: keyId,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: email,
      client_id: clientId,
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      // The emulator's token endpoint (Google's clients post to their own fixed URL; Tessera redirects them).
      token_uri: opts.tokenUri,
      auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
      client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(email)}`,
      universe_domain: 'googleapis.com',
    };
  }

  /** Checks a JWT bearer grant's assertion as Google's token endpoint does. */
  verify(assertion: string, ownTokenUrl: string): AssertionVerdict {
    const bad = (description: string): AssertionVerdict => ({ ok: false, error: 'invalid_grant', description });
    const parts = assertion.split('.');
    if (parts.length !== 3) return bad('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    let header: { alg?: unknown; kid?: unknown };
    let claims: { iss?: unknown; scope?: unknown; aud?: unknown; exp?: unknown; iat?: unknown };
    try {
      header = JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return bad('Invalid JWT Signature.');
    }
    if (header.alg !== 'RS256') return bad('Invalid JWT Signature.');
    if (typeof claims.iss !== 'string') return bad('Invalid JWT: missing iss');
    const candidates = [...this.keys.values()].filter((k) => k.email === claims.iss && (typeof header.kid !== 'string' || k.keyId === header.kid));
    if (candidates.length === 0) return { ok: false, error: 'invalid_grant', description: 'Invalid grant: account not found' };
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    const signature = Buffer.from(parts[2] as string, 'base64url');
    if (!candidates.some((k) => verify('sha256', signed, k.key, signature))) return bad('Invalid JWT Signature.');
    if (typeof claims.aud !== 'string' || ![...GOOGLE_AUDIENCES, ownTokenUrl].includes(claims.aud)) return bad('Invalid JWT: Failed audience check. The right audience is https://oauth2.googleapis.com/token');
    const nowS = Math.floor(this.now() / 1000);
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp - claims.iat > MAX_LIFETIME_S || claims.iat > nowS + SKEW_S || claims.exp < nowS - SKEW_S) {
      return bad('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    }
    if (typeof claims.scope !== 'string' || claims.scope.trim() === '') return { ok: false, error: 'invalid_scope', description: 'Invalid OAuth scope or ID token audience provided.' };
    return { ok: true, email: claims.iss, scopes: claims.scope.split(/\s+/).filter(Boolean) };
  }

  private save(): void {
    if (!this.dataRoot) return;
    writeFileAtomicSync(join(this.dataRoot, FILE), JSON.stringify([...this.keys.values()].map(({ keyId, email, publicPem }) => ({ keyId, email, publicPem }))));
  }
}
