import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../core/errors';
import { credentialsSession, emulatorSession, type Session } from '../core/google/session';
import { httpFetch } from '../core/net/http';

/** Where the CLI keeps credentials (CONTRACTS.md §1). */
export function credentialsPath(): string {
  return process.env.TESSERA_CREDENTIALS || join(homedir(), '.config', 'tessera', 'credentials.json');
}

/** Signs in: against the emulator by itself with `--emulator`, else from the credentials file. */
export async function connect(emulatorUrl: string | undefined, project: string | undefined): Promise<{ session: Session; timeScale: number }> {
  if (!emulatorUrl) return { session: await credentialsSession(credentialsPath(), project), timeScale: 1 };
  let url: URL;
  try {
    url = new URL(emulatorUrl);
  } catch {
    throw new UserError(`--emulator needs a URL such as http://127.0.0.1:8085, not "${emulatorUrl}"`);
  }
  const base = url.origin;
  const session = await emulatorSession(base, project);
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
