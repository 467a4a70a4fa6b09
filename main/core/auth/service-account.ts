import { readFile } from 'node:fs/promises';
import { JWT } from 'google-auth-library';
import { UserError } from '../errors';
import { refreshingSession, type GoogleEndpoints, type Session } from '../google/session';
import { MissingAccessError, NEEDED_ACCESS, STORAGE_ACCESS, type NeededAccess } from './scopes';

/**
 * Signing in as a service account (docs/service-accounts.md): no browser, no refresh token — the key
 * signs a JWT bearer grant (RS256) each time a token is needed. The signing and the grant are
 * google-auth-library's `JWT` client; Tessera only points its token request at an emulator when there is
 * one (Google's client always posts to Google's token URL).
 */

const GOOGLE = 'https://www.googleapis.com/auth/';
/** What a service account asks for: Earth Engine, Cloud Storage, and Drive (its own small Drive, for doctor's warning). */
export const SERVICE_ACCOUNT_SCOPES = [`${GOOGLE}earthengine`, `${GOOGLE}devstorage.read_write`, `${GOOGLE}drive`];
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** The fields of Google's service-account key file that Tessera reads. */
export interface ServiceAccountKey {
  readonly type: 'service_account';
  readonly client_email: string;
  readonly private_key: string;
  readonly private_key_id?: string;
  readonly project_id?: string;
  readonly token_uri?: string;
}

/** Reads and checks a key file; one line naming what is wrong otherwise. */
export async function readServiceAccountKey(path: string): Promise<ServiceAccountKey> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read the service-account key ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseServiceAccountKey(text, path);
}

export function parseServiceAccountKey(text: string, where: string): ServiceAccountKey {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text.replace(/^\uFEFF/, '')) as Record<string, unknown>;
  } catch {
    throw new UserError(`${where} is not JSON: give the key file downloaded from the Google Cloud console (IAM → Service accounts → Keys → Add key → JSON)`);
  }
  if (v.installed || v.web) throw new UserError(`${where} is an OAuth client file, not a service-account key; sign in as a person with tessera login --client-file ${where}, or give a service account's JSON key`);
  if (v.type !== 'service_account') throw new UserError(`${where} is not a service-account key ("type" is ${JSON.stringify(v.type ?? null)}, not "service_account")`);
  if (typeof v.client_email !== 'string' || !v.client_email.includes('@')) throw new UserError(`${where} has no "client_email": the key file is damaged; download a new key`);
  if (typeof v.private_key !== 'string' || !v.private_key.includes('PRIVATE KEY')) throw new UserError(`${where} has no "private_key": the key file is damaged; download a new key`);
  return v as unknown as ServiceAccountKey;
}

/**
 * A session acting as the service account. The first token of the session is checked for the access a
 * run needs (the token's granted scopes, via tokeninfo), as a person's sign-in is.
 */
export function serviceAccountSession(key: ServiceAccountKey, endpoints: GoogleEndpoints, project: string | undefined): Session {
  const chosen = project ?? key.project_id;
  if (!chosen) throw new UserError('no Earth Engine project: set "ee": { "project": … } in the job file, or give --project');
  const client = serviceAccountClient(key, endpoints);
  const session = refreshingSession({ client, project: chosen, endpoints, email: key.client_email }, async () => {
    try {
      await client.authorize();
    } catch (e) {
      throw serviceAccountError(e, key);
    }
  });
  let checked = false;
  return {
    ...session,
    async accessToken(force = false) {
      const current = await session.accessToken(force);
      if (!checked) {
        await checkServiceAccountAccess(client, current.token);
        checked = true;
      }
      return current;
    },
  };
}

/** google-auth-library's JWT client for the key; with an emulator, its grant goes to the emulator's token URL. */
export function serviceAccountClient(key: ServiceAccountKey, endpoints: GoogleEndpoints): JWT {
  const client = new JWT({
    email: key.client_email,
    key: key.private_key,
    keyId: key.private_key_id,
    scopes: SERVICE_ACCOUNT_SCOPES,
    endpoints: { oauth2TokenUrl: endpoints.tokenUrl, tokenInfoUrl: `${endpoints.tokenUrl.replace(/\/token$/, '')}/tokeninfo`, oauth2RevokeUrl: endpoints.revokeUrl },
  });
  if (endpoints.emulator) {
    // The client's grant request always goes to Google's fixed token URL: send it to the emulator instead.
    client.transporter.interceptors.request.add({
      resolved: async (config) => {
        if (String(config.url).startsWith(GOOGLE_TOKEN_URL)) config.url = new URL(endpoints.tokenUrl);
        return config;
      },
    });
  }
  return client;
}

/** Earth Engine and Cloud Storage; Drive is optional for a service account (its Drive is its own, small). */
export async function checkServiceAccountAccess(client: JWT, token: string): Promise<void> {
  let scopes: readonly string[];
  try {
    scopes = (await client.getTokenInfo(token)).scopes;
  } catch {
    return; // tokeninfo unreachable: the requests themselves will say what is missing
  }
  const have = new Set(scopes);
  const needed: NeededAccess[] = [...NEEDED_ACCESS.filter((a) => a.id === 'earthengine'), STORAGE_ACCESS];
  const missing = needed.filter((a) => !a.scopes.some((s) => have.has(s)));
  if (missing.length) throw new MissingAccessError(missing);
}

/** A refused grant, said in words: exit 3 (only the user can fix a key Google does not accept). */
export function serviceAccountError(e: unknown, key: ServiceAccountKey): Error {
  const msg = e instanceof Error ? e.message : String(e);
  if (/invalid_grant|invalid_client|unauthorized_client|account not found|Invalid JWT/i.test(msg)) {
    return new UserError(`signed out: Google refused the service account ${key.client_email} (${msg}); the key may have been deleted or disabled — create a new key and run tessera login --service-account KEY.json`, 3);
  }
  return e instanceof Error ? e : new Error(msg);
}
