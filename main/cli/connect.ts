import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../core/errors';
import { FileVault } from '../core/auth/vault';
import { EMULATOR_CLIENT, emulatorSession, googleEndpoints, sessionFromCredentials, type Session } from '../core/google/session';
import { httpFetch } from '../core/net/http';

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
  const stored = await cliVault().load();
  if (!emulatorUrl) {
    if (!stored) throw new UserError(`not signed in: run tessera login first (credentials are kept in ${credentialsPath()})`, 3);
    if (stored.emulator) throw new UserError(`the stored sign-in is for the emulator at ${stored.emulator}; run tessera login to sign in to Google`, 3);
    return { session: sessionFromCredentials(stored, googleEndpoints(), project), timeScale: 1 };
  }
  const base = emulatorBase(emulatorUrl);
  let session: Session | undefined;
  if (stored?.emulator === base) {
    session = sessionFromCredentials(stored, googleEndpoints(base), project ?? stored.project ?? EMULATOR_CLIENT.project);
    // A stored token from an earlier emulator on the same port is dead: sign in afresh instead.
    session = await session.accessToken().then(() => session, () => undefined);
  }
  session ??= await emulatorSession(base, project);
  return { session, timeScale: await emulatorTimeScale(base) };
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
