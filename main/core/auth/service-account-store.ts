import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UserError } from '../errors';
import { writePrivateFileSync } from '../../common/atomic-write';
import { parseServiceAccountKey, type ServiceAccountKey } from './service-account';

/**
 * Where `tessera login --service-account` keeps the key (docs/service-accounts.md): a copy, mode 0600, as
 * `service-account.json` beside the credentials file, with Tessera's own note of the project and — for a
 * key made by the emulator — the emulator's URL (such a key is never sent to Google).
 */
export interface StoredServiceAccount {
  readonly key: ServiceAccountKey;
  readonly project?: string;
  readonly emulator?: string;
  /** Where it came from: the stored copy or GOOGLE_APPLICATION_CREDENTIALS. */
  readonly source: string;
}

export function serviceAccountFile(credentialsFile: string): string {
  return join(dirname(credentialsFile), 'service-account.json');
}

export function saveServiceAccount(file: string, key: ServiceAccountKey, note: { project?: string; emulator?: string }): void {
  writePrivateFileSync(file, `${JSON.stringify({ ...key, tessera: note }, null, 2)}\n`);
}

export async function loadServiceAccount(file: string): Promise<StoredServiceAccount | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`the stored service-account key ${file} cannot be read (${(e as Error).message})`);
  }
  const key = parseServiceAccountKey(text, file);
  const note = (JSON.parse(text) as { tessera?: { project?: unknown; emulator?: unknown } }).tessera ?? {};
  return {
    key,
    source: file,
    ...(typeof note.project === 'string' ? { project: note.project } : {}),
    ...(typeof note.emulator === 'string' ? { emulator: note.emulator } : {}),
  };
}

export async function forgetServiceAccount(file: string): Promise<boolean> {
  try {
    await rm(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * The key named by GOOGLE_APPLICATION_CREDENTIALS, when it is a service account's (other kinds of
 * Application Default Credentials are for other tools: ignored). An emulator's key names its token URL.
 */
export async function environmentServiceAccount(env: NodeJS.ProcessEnv): Promise<StoredServiceAccount | undefined> {
  const path = env.GOOGLE_APPLICATION_CREDENTIALS;
  if (!path) return undefined;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UserError(`GOOGLE_APPLICATION_CREDENTIALS names ${path}, which cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); fix or unset it`);
  }
  let type: unknown;
  try {
    type = (JSON.parse(text) as { type?: unknown }).type;
  } catch {
    throw new UserError(`GOOGLE_APPLICATION_CREDENTIALS names ${path}, which is not JSON; fix or unset it`);
  }
  if (type !== 'service_account') return undefined;
  const key = parseServiceAccountKey(text, path);
  const emulator = key.token_uri && !key.token_uri.startsWith('https://oauth2.googleapis.com') && !key.token_uri.startsWith('https://accounts.google.com') ? new URL(key.token_uri).origin : undefined;
  return { key, source: `GOOGLE_APPLICATION_CREDENTIALS (${path})`, ...(key.project_id ? { project: key.project_id } : {}), ...(emulator ? { emulator } : {}) };
}
