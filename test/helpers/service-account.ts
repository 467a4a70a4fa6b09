import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../main/emulator';
import { parseServiceAccountKey, serviceAccountClient } from '../../main/core/auth/service-account';
import { googleEndpoints } from '../../main/core/google/session';

export interface ServiceAccountEmulator {
  emu: EmulatorHandle;
  /** google-auth-library's JWT client signed in with the key the emulator made (docs/service-accounts.md). */
  jwt: ReturnType<typeof serviceAccountClient>;
  /** Stops the emulator and removes its key's folder. */
  stop(): Promise<void>;
}

/** An emulator that writes a service-account key, and a JWT client signed in with it: no browser. */
export async function startEmulatorAsServiceAccount(options: EmulatorOptions): Promise<ServiceAccountEmulator> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-sa-'));
  const keyPath = join(dir, 'key.json');
  const emu = await startEmulator({ ...options, serviceAccountKey: keyPath });
  const jwt = serviceAccountClient(parseServiceAccountKey(readFileSync(keyPath, 'utf8'), keyPath), googleEndpoints(emu.url));
  return {
    emu,
    jwt,
    stop: async () => {
      await emu.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
