// SafeStorageVault with a fake safeStorage (no Electron): round trip, basic_text asks first, backend
// change and undecryptable blobs sign out, key rotation re-encrypts, the file is 0600 and not plain text.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafeStorageVault, WEAK_STORAGE_MESSAGE, type SafeStorageLike } from '../../main/electron/safe-storage-vault';

const CREDS = { client_id: 'id', client_secret: 'secret', refresh_token: '1//refresh-token-xyz', email: 'ada@example.org' };

function fakeSafeStorage(backend = 'gnome_libsecret', key = 7): SafeStorageLike & { backend: string; rotate: boolean; encrypts: number } {
  const s = {
    backend,
    rotate: false,
    encrypts: 0,
    isAsyncEncryptionAvailable: async () => true,
    encryptStringAsync: async (t: string) => (s.encrypts++, Buffer.from(Buffer.from(t).map((b) => b ^ key))),
    decryptStringAsync: async (b: Buffer) => {
      if (b[0] === 0) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString');
      return { result: Buffer.from(b.map((x) => x ^ key)).toString(), shouldReEncrypt: s.rotate };
    },
    getSelectedStorageBackend: () => s.backend,
  };
  return s;
}

const dir = () => mkdtempSync(join(tmpdir(), 'tessera-vault-'));

describe('SafeStorageVault', () => {
  it('round-trips the sign-in through safeStorage into a 0600 file that does not hold the token in clear', async () => {
    const d = dir();
    const v = new SafeStorageVault(d, fakeSafeStorage(), { platform: 'linux' });
    expect(await v.load()).toBeUndefined();
    await v.save(CREDS);
    expect(await v.load()).toMatchObject(CREDS);
    const blob = readFileSync(join(d, 'credentials.enc'));
    expect(blob.toString('latin1')).not.toContain('refresh-token');
    if (process.platform !== 'win32') expect(statSync(join(d, 'credentials.enc')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(d, 'credentials.meta.json'), 'utf8'))).toMatchObject({ v: 1, backend: 'gnome_libsecret' });
    expect(v.weakStorageWarning()).toBeNull();
    await v.clear();
    expect(await v.load()).toBeUndefined();
  });

  it('with basic_text on Linux, says so and stores only after the user agrees', async () => {
    const asked: string[] = [];
    let answer = false;
    const v = new SafeStorageVault(dir(), fakeSafeStorage('basic_text'), { platform: 'linux', confirmWeakStorage: async (m) => (asked.push(m), answer) });
    expect(v.weakStorageWarning()).toBe(WEAK_STORAGE_MESSAGE);
    expect(v.where).toMatch(/built-in key/);
    await expect(v.save(CREDS)).rejects.toThrow(/not stored/);
    expect(await v.load()).toBeUndefined();
    answer = true;
    await v.save(CREDS);
    expect(asked).toHaveLength(2);
    expect(await v.load()).toMatchObject(CREDS);
  });

  it('basic_text without a way to ask is refused', async () => {
    const v = new SafeStorageVault(dir(), fakeSafeStorage('basic_text'), { platform: 'linux' });
    await expect(v.save(CREDS)).rejects.toThrow(/not stored/);
  });

  it('macOS and Windows never ask', async () => {
    for (const platform of ['darwin', 'win32'] as const) {
      const v = new SafeStorageVault(dir(), fakeSafeStorage('basic_text'), { platform, confirmWeakStorage: async () => false });
      await v.save(CREDS);
      expect(await v.load()).toMatchObject(CREDS);
    }
  });

  it('a blob from another backend, or one that does not decrypt, signs out instead of failing for ever', async () => {
    const d = dir();
    const s = fakeSafeStorage('kwallet5');
    const warnings: string[] = [];
    const v = new SafeStorageVault(d, s, { platform: 'linux', warn: (m) => warnings.push(m) });
    await v.save(CREDS);
    s.backend = 'gnome_libsecret';
    expect(await v.load()).toBeUndefined();
    expect(warnings[0]).toMatch(/another secret store/);
    s.backend = 'kwallet5';
    await v.save(CREDS);
    writeFileSync(join(d, 'credentials.enc'), Buffer.from([0, 1, 2]));
    expect(await v.load()).toBeUndefined();
    expect(warnings[1]).toMatch(/cannot be decrypted/);
  });

  it('re-encrypts when safeStorage rotated its key', async () => {
    const s = fakeSafeStorage();
    const v = new SafeStorageVault(dir(), s, { platform: 'linux' });
    await v.save(CREDS);
    s.rotate = true;
    expect(await v.load()).toMatchObject(CREDS);
    expect(s.encrypts).toBe(2);
  });

  it('refuses to store when no encryption is available', async () => {
    const s = { ...fakeSafeStorage(), isAsyncEncryptionAvailable: async () => false };
    await expect(new SafeStorageVault(dir(), s, { platform: 'linux' }).save(CREDS)).rejects.toThrow(/no secret store/);
  });
});
