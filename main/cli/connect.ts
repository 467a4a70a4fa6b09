import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../core/errors';
import { FileVault } from '../core/auth/vault';
import { EMULATOR_CLIENT, emulatorSession, googleEndpoints, sessionFromCredentials, type Session } from '../core/google/session';
import { httpFetch } from '../core/net/http';
import { serviceAccountSession } from '../core/auth/service-account';
import { environmentServiceAccount, loadServiceAccount, serviceAccountFile, type StoredServiceAccount } from '../core/auth/service-account-store';

/** Where the CLI keeps credentials (docs/cli.md#credentials). */
export function credentialsPath(): string {
  return process.env.TESSERA_CREDENTIALS || join(homedir(), '.config', 'tessera', 'credentials.json');
}

export function cliVault(): FileVault {
  return new FileVault(credentialsPath(), (m) => process.stderr.write(`warning: ${m}\n`));
}

export function emulatorBase(emulatorUrl: string): string {
  try {
    return new URL(emulatorUrl).origin;
  } catch {
    throw new UserError(`--emulator needs a URL such as http://127.0.0.1:8085, not "${emulatorUrl}"`);
  }
}

/**
 * Signs in for a run: with `--emulator`, the stored sign-in for that emulator when there is one, else
 * by itself; for Google, the stored sign-in of `tessera login`.
 */
export async function connect(emulatorUrl: string | undefined, project: string | undefined): Promise<{ session: Session; timeScale: number }> {
  // A service account (docs/service-accounts.md) signs in without a browser: the stored key first, then a person's sign-in, then GOOGLE_APPLICATION_CREDENTIALS.
  const base = emulatorUrl ? emulatorBase(emulatorUrl) : undefined;
  const sa = await serviceAccountFor(base);
  if (sa) return { session: serviceAccountSession(sa.key, googleEndpoints(base), project ?? sa.project), timeScale: base ? await emulatorTimeScale(base) : 1 };
  const stored = await cliVault().load();
  if (!base) {
    if (!stored) throw new UserError(`not signed in: run tessera login first (credentials are kept in ${credentialsPath()})`, 3);
    if (stored.emulator) throw new UserError(`the stored sign-in is for the emulator at ${stored.emulator}; run tessera login to sign in to Google`, 3);
    return { session: sessionFromCredentials(stored, googleEndpoints(), project), timeScale: 1 };
  }
  let session: Session | undefined;
  if (stored && stored.emulator === base) {
    session = sessionFromCredentials(stored, googleEndpoints(base), project ?? stored.project ?? EMULATOR_CLIENT.project);
    // A stored token from an earlier emulator on the same port is dead: sign in afresh instead.
    session = await session.accessToken().then(() => session, () => undefined);
  }
  session ??= await emulatorSession(base, project);
  return { session, timeScale: await emulatorTimeScale(base) };
}

/**
 * The service account to act as, for Google (`base` undefined) or one emulator: the key stored by
 * `tessera login --service-account`, else — when no person is signed in — GOOGLE_APPLICATION_CREDENTIALS.
 * A key made for an emulator is never used with Google, nor a Google key with an emulator.
 */
export async function serviceAccountFor(base: string | undefined): Promise<StoredServiceAccount | undefined> {
  const fits = (sa: StoredServiceAccount | undefined) => (sa && sa.emulator === base ? sa : undefined);
  const stored = fits(await loadServiceAccount(serviceAccountFile(credentialsPath())));
  if (stored) return stored;
  const person = await cliVault().load().catch(() => undefined);
  if (person && person.emulator === base) return undefined;
  return fits(await environmentServiceAccount(process.env));
}

async function emulatorTimeScale(base: string): Promise<number> {
  try {
    const r = await httpFetch(`${base}/__emulator/config`);
    const cfg = (await r.json()) as { timeScale?: unknown };
    return typeof cfg.timeScale === 'number' && cfg.timeScale > 0 ? cfg.timeScale : 1;
  } catch {
    return 1;
  }
}
