/**
 * Tessera's Cloud Storage adapter (main/core/gcs/client.ts) against the emulator's storage faults
 * (docs/cloud-storage.md, "Downloads"): a body cut short never leaves a read waiting for ever.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { GcsClient } from '../../main/core/gcs/client';
import { parseServiceAccountKey, serviceAccountClient } from '../../main/core/auth/service-account';
import { googleEndpoints } from '../../main/core/google/session';

let emu: EmulatorHandle;
let dir: string;
let gcs: GcsClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-gcs-client-'));
  const keyPath = join(dir, 'key.json');
  emu = await startEmulator({ buckets: 'b', serviceAccountKey: keyPath, project: 'p', seed: 3 });
  const jwt = serviceAccountClient(parseServiceAccountKey(readFileSync(keyPath, 'utf8'), keyPath), googleEndpoints(emu.url));
  gcs = new GcsClient({ accessToken: async () => (await jwt.getAccessToken()).token!, apiEndpoint: emu.url, stallMs: 500, requestTimeoutMs: 2_000, retry: { maxRetries: 0, maxDelaySeconds: 1 } });
}, 30_000);

afterAll(async () => {
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('reading a small object (the lease) while bodies are cut short', () => {
  for (const kind of ['truncateRate', 'resetRate'] as const) {
    it(`${kind}: a read whose every answer is cut fails within seconds instead of waiting for ever`, async () => {
      const text = JSON.stringify({ job: 'j', host: 'h', pad: 'x'.repeat(4000) });
      await gcs.writeText('b', `cut/${kind}.json`, text);
      emu.configure({ [kind]: 1 });
      const started = Date.now();
      try {
        await expect(gcs.readText('b', `cut/${kind}.json`)).rejects.toThrow(/cut\/\w+\.json/);
      } finally {
        emu.configure({ [kind]: 0 });
      }
      expect(Date.now() - started).toBeLessThan(8_000);
      // Whole again once the connection behaves.
      expect((await gcs.readText('b', `cut/${kind}.json`))?.text).toBe(text);
    }, 20_000);
  }
});

describe('a delete whose answer never comes', () => {
  it('is given up within the request timeout; the next try finds it done (404 counts as deleted)', async () => {
    await gcs.writeText('b', 'lost/one.json', '{}');
    emu.configure({ lostAnswerRate: 1, lostAnswerMode: 'timeout' });
    const started = Date.now();
    try {
      await expect(gcs.remove('b', 'lost/one.json')).rejects.toThrow();
    } finally {
      emu.configure({ lostAnswerRate: 0, lostAnswerMode: 'reset' });
    }
    expect(Date.now() - started).toBeLessThan(8_000);
    await gcs.remove('b', 'lost/one.json');
    await emu.sync();
    expect(emu.state().objects.find((o) => o.name === 'lost/one.json')?.deletedAt).not.toBeNull();
  }, 20_000);
});
