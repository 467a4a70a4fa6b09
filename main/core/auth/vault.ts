import { readFile, rm, stat } from 'node:fs/promises';
import { UserError } from '../errors';
import { writePrivateFileSync } from '../../common/atomic-write';

/** What Tessera keeps to act for a person between runs. The refresh token is as sensitive as a password. */
export interface StoredCredentials {
  client_id: string;
  client_secret: string;
  refresh_token: string;
  /** The Earth Engine project to bill. */
  project?: string;
  /** Who signed in (from the id_token). */
  email?: string;
  /** Set when the sign-in was against an emulator: its URL. Such a file is never sent to Google. */
  emulator?: string;
  type?: 'authorized_user';
}

/** Where the refresh token lives: memory (tests), a 0600 file (CLI), Electron safeStorage (desktop). */
export interface Vault {
  load(): Promise<StoredCredentials | undefined>;
  save(credentials: StoredCredentials): Promise<void>;
  clear(): Promise<void>;
  /** Human-readable place, for messages. */
  readonly where: string;
}

export class MemoryVault implements Vault {
  readonly where = 'memory';
  private value: StoredCredentials | undefined;
  async load() {
    return this.value;
  }
  async save(c: StoredCredentials) {
    this.value = { ...c };
  }
  async clear() {
    this.value = undefined;
  }
}

/**
 * The CLI's vault: a JSON file written atomically with mode 0600. Reading a file that others can read
 * warns (it still works: the user may have reasons), so a leaked token does not go unnoticed.
 */
export class FileVault implements Vault {
  constructor(
    readonly where: string,
    private readonly warn: (message: string) => void = () => undefined,
  ) {}

  async load(): Promise<StoredCredentials | undefined> {
    let text: string;
    try {
      text = await readFile(this.where, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new UserError(`the credentials file ${this.where} cannot be read (${(e as Error).message})`);
    }
    const mode = (await stat(this.where)).mode & 0o777;
    if (mode & 0o077) this.warn(`${this.where} can be read by others (mode ${mode.toString(8)}); it holds your sign-in: chmod 600 it`);
    try {
      const c = JSON.parse(text) as StoredCredentials;
      if (!c.client_id || !c.client_secret || !c.refresh_token) throw new Error('client_id, client_secret and refresh_token are needed');
      return c;
    } catch (e) {
      throw new UserError(`the credentials file ${this.where} is damaged (${(e as Error).message}); sign in again with tessera login`);
    }
  }

  async save(credentials: StoredCredentials): Promise<void> {
    writePrivateFileSync(this.where, JSON.stringify({ type: 'authorized_user', ...credentials }, null, 2) + '\n');
  }

  async clear(): Promise<void> {
    await rm(this.where, { force: true });
  }
}
