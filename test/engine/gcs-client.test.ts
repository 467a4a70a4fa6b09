/**
 * Tessera's Cloud Storage adapter (main/core/gcs/client.ts) against the emulator's storage faults
 * (docs/cloud-storage.md, "Downloads"): a body cut short never leaves a read waiting for ever.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../main/emulator';
import { startEmulatorAsServiceAccount, type ServiceAccountEmulator } from '../helpers/service-account';
import { GcsClient } from '../../main/core/gcs/client';

let signed: ServiceAccountEmulator;
let emu: EmulatorHandle;
let gcs: GcsClient;

beforeAll(async () => {
  signed = await startEmulatorAsServiceAccount({ buckets: 'b', project: 'p', seed: 3 });
  emu = signed.emu;
  const jwt = signed.jwt;
  gcs = new GcsClient({ accessToken: async () => (await jwt.getAccessToken()).token!, apiEndpoint: emu.url, stallMs: 500, requestTimeoutMs: 2_000, retry: { maxRetries: 0, maxDelaySeconds: 1 } });
}, 30_000);

afterAll(async () => {
  await signed?.stop();
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
