/**
 * The desktop app's Vault (main/core/auth/vault.ts): the sign-in encrypted with Electron's `safeStorage`
 * (async API, Electron ≥ 42) in a 0600 file under userData, with the storage backend it was written with.
 * No `electron` import: main.ts passes `safeStorage` in, tests a fake cipher.
 *
 * - When Linux has no secret service, safeStorage falls back to `basic_text` (a hard-coded key: anyone who
 *   can read the file can read the token). The vault says so and asks (`confirmWeakStorage`) before storing.
 * - A blob written under another backend, or one that no longer decrypts, is removed: the user is signed
 *   out and asked to sign in again, rather than given an error that never goes away.
 * - `shouldReEncrypt` (key rotation) re-encrypts and saves.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../core/errors';
import { writePrivateFileSync } from '../common/atomic-write';
import type { StoredCredentials, Vault } from '../core/auth/vault';

/** The part of Electron's `safeStorage` used here. */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>;
  encryptStringAsync(plainText: string): Promise<Buffer>;
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }>;
  /** Linux only. */
  getSelectedStorageBackend?(): string;
}

export interface SafeStorageVaultOptions {
  platform?: NodeJS.Platform;
  /** Asked before storing with `basic_text`; resolve true to store anyway. */
  confirmWeakStorage?: (message: string) => Promise<boolean>;
  warn?: (message: string) => void;
}

export const WEAK_STORAGE_MESSAGE =
  'This computer has no secret service (GNOME Keyring, KWallet): Electron would store your Google sign-in with a built-in key, so anyone who can read your files could use it. Install and unlock a keyring, or agree to store it this way.';

interface Meta {
  v: 1;
  backend: string;
  createdAt: string;
}

export class SafeStorageVault implements Vault {
  private readonly blob: string;
  private readonly metaFile: string;
  private readonly platform: NodeJS.Platform;

  constructor(
    dir: string,
    private readonly safeStorage: SafeStorageLike,
    private readonly options: SafeStorageVaultOptions = {},
  ) {
    this.blob = join(dir, 'credentials.enc');
    this.metaFile = join(dir, 'credentials.meta.json');
    this.platform = options.platform ?? process.platform;
  }

  get where(): string {
    if (this.platform === 'darwin') return 'the macOS Keychain (encrypted file in the app data folder)';
    if (this.platform === 'win32') return 'Windows DPAPI (encrypted file in the app data folder)';
    return this.weak() ? `an encrypted file with a built-in key (${this.blob})` : `the system keyring (${this.backend()})`;
  }

  /** The backend in use ('keychain'/'dpapi' on macOS/Windows). */
  backend(): string {
    if (this.platform === 'darwin') return 'keychain';
    if (this.platform === 'win32') return 'dpapi';
    return this.safeStorage.getSelectedStorageBackend?.() ?? 'unknown';
  }

  /** The warning to show when the storage is weak (Linux basic_text), else null. */
  weakStorageWarning(): string | null {
    return this.weak() ? WEAK_STORAGE_MESSAGE : null;
  }

  private weak(): boolean {
    return this.platform === 'linux' && this.backend() === 'basic_text';
  }

  async load(): Promise<StoredCredentials | undefined> {
    let data: Buffer;
    try {
      data = await readFile(this.blob);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const meta = await readFile(this.metaFile, 'utf8').then((t) => JSON.parse(t) as Meta, () => undefined);
    if (!meta || meta.backend !== this.backend()) {
      this.options.warn?.(`the stored sign-in was written with another secret store (${meta?.backend ?? 'unknown'}, now ${this.backend()}); sign in again`);
      await this.clear();
      return undefined;
    }
    if (!(await this.safeStorage.isAsyncEncryptionAvailable())) throw new UserError('the system secret store is not available now; unlock your keyring and try again', 3);
    let text: string;
    let again = false;
    try {
      const r = await this.safeStorage.decryptStringAsync(data);
      text = r.result;
      again = r.shouldReEncrypt;
    } catch (e) {
      this.options.warn?.(`the stored sign-in cannot be decrypted (${(e as Error).message}); sign in again`);
      await this.clear();
      return undefined;
    }
    let c: StoredCredentials;
    try {
      c = JSON.parse(text) as StoredCredentials;
      if (!c.client_id || !c.client_secret || !c.refresh_token) throw new Error('incomplete');
    } catch {
      this.options.warn?.('the stored sign-in is damaged; sign in again');
      await this.clear();
      return undefined;
    }
    if (again) await this.write(c);
    return c;
  }

  async save(credentials: StoredCredentials): Promise<void> {
    if (!(await this.safeStorage.isAsyncEncryptionAvailable())) throw new UserError('no secret store is available to keep your sign-in; unlock your keyring and try again', 3);
    if (this.weak()) {
      const ok = (await this.options.confirmWeakStorage?.(WEAK_STORAGE_MESSAGE)) ?? false;
      if (!ok) throw new UserError('your sign-in was not stored: no secret service on this computer (see the message before)', 3);
    }
    await this.write(credentials);
  }

  async clear(): Promise<void> {
    await rm(this.blob, { force: true });
    await rm(this.metaFile, { force: true });
  }

  private async write(credentials: StoredCredentials): Promise<void> {
    const data = await this.safeStorage.encryptStringAsync(JSON.stringify({ type: 'authorized_user', ...credentials }));
    const meta: Meta = { v: 1, backend: this.backend(), createdAt: new Date().toISOString() };
    writePrivateFileSync(this.metaFile, JSON.stringify(meta) + '\n');
    writePrivateFileSync(this.blob, data);
  }
}
