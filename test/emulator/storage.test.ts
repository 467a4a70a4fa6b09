/**
 * The emulator's Cloud Storage and service accounts, through Google's unmodified clients:
 * @google-cloud/storage 7.x (apiEndpoint = the emulator), google-auth-library's JWT (service-account
 * grant) and @google/earthengine (Export.image.toCloudStorage).
 */
import { Storage } from '@google-cloud/storage';
import { JWT } from 'google-auth-library';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { crc32c } from '@node-rs/crc32';
import type { EmulatorHandle } from '../../main/emulator';
import { useScratchDir } from '../helpers/hooks';
import { runEmulatorTask, startEmulatorWithEe, useEmulatorWithEe, type Ee } from './google-clients';

const PROJECT = 'storage-test';
let emu: EmulatorHandle;
let ee: Ee;
const keyPath = join(useScratchDir('tessera-gcs-emu-'), 'sa.json');
let token: string;

/** google-auth-library's JWT for a key file; its grant (always for Google's token URL) goes to the emulator. */
function jwtFor(key: { client_email: string; private_key: string; private_key_id?: string }, url: string, scopes: string[]): JWT {
  const jwt = new JWT({ email: key.client_email, key: key.private_key, keyId: key.private_key_id, scopes, endpoints: { tokenInfoUrl: `${url}/tokeninfo` } });
  jwt.transporter.interceptors.request.add({
    resolved: async (config) => {
      if (String(config.url).startsWith('https://oauth2.googleapis.com/token')) config.url = new URL(`${url}/token`);
      return config;
    },
  });
  return jwt;
}

function storage(retries = true): Storage {
  const auth = { getRequestHeaders: async () => ({ Authorization: `Bearer ${token}` }), getCredentials: async () => ({}) };
  return new Storage({ apiEndpoint: emu.url, useAuthWithCustomEndpoint: true, projectId: PROJECT, authClient: auth as never, retryOptions: { autoRetry: retries, maxRetries: retries ? 3 : 0 } });
}

async function exportTo(bucket: string, prefix: string, pixels = 64): Promise<{ state: string; error: string | null }> {
  const task = ee.batch.Export.image.toCloudStorage({
    image: ee.Image(1).toFloat(), description: prefix.replace(/\//g, '_'), bucket, fileNamePrefix: prefix,
    crs: 'EPSG:32632', crsTransform: [10, 0, 600000, 0, -10, 5400000], dimensions: `${pixels}x${pixels}`,
  });
  return runEmulatorTask(emu, task);
}

useEmulatorWithEe({ timeScale: 2000, taskBaseSeconds: 10, dispatchSeconds: 1, slots: 4, buckets: 'tiles-bucket,other', serviceAccountKey: keyPath, project: PROJECT }, PROJECT, (started) => ({ emu, ee } = started));
beforeAll(async () => {
  const key = JSON.parse(readFileSync(keyPath, 'utf8')) as { client_email: string; private_key: string; private_key_id: string };
  const jwt = jwtFor(key, emu.url, ['https://www.googleapis.com/auth/devstorage.read_write', 'https://www.googleapis.com/auth/earthengine']);
  token = (await jwt.getAccessToken()).token as string;
});

describe('service accounts', () => {
  it('writes a key file in Google\'s format, 0600, whose JWT grant the token endpoint accepts', async () => {
    const key = JSON.parse(readFileSync(keyPath, 'utf8')) as Record<string, string>;
    expect(key.type).toBe('service_account');
    expect(key.client_email).toMatch(/@storage-test\.iam\.gserviceaccount\.com$/);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    const jwt = jwtFor(key as never, emu.url, ['https://www.googleapis.com/auth/earthengine']);
    const t = (await jwt.getAccessToken()).token as string;
    const info = await jwt.getTokenInfo(t);
    expect(info.email).toBe(key.client_email);
    expect(info.scopes).toEqual(['https://www.googleapis.com/auth/earthengine']);
  });

  it('refuses an assertion signed by a key it did not make', async () => {
    const key = JSON.parse(readFileSync(keyPath, 'utf8')) as Record<string, string>;
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const jwt = jwtFor({ client_email: key.client_email as string, private_key: stranger }, emu.url, ['https://www.googleapis.com/auth/earthengine']);
    await expect(jwt.getAccessToken()).rejects.toThrow(/invalid_grant|Invalid JWT Signature/);
  });
});

describe('Cloud Storage JSON API', () => {
  it('an export to a bucket becomes objects with Google\'s checksums; list pages, ranged reads and deletes work through the official client', async () => {
    for (const n of ['a', 'b', 'c']) expect((await exportTo('tiles-bucket', `jobs/run1/t_${n}`)).state).toBe('SUCCEEDED');
    const bucket = storage().bucket('tiles-bucket');
    // Paging: one object per page, following nextPageToken by hand.
    const names: string[] = [];
    let query: Record<string, unknown> | null = { prefix: 'jobs/run1/', maxResults: 1, autoPaginate: false };
    for (let i = 0; query && i < 10; i++) {
      const [files, next] = (await bucket.getFiles(query)) as unknown as [{ name: string }[], Record<string, unknown> | null];
      names.push(...files.map((f) => f.name));
      query = next;
    }
    expect(names).toEqual(['jobs/run1/t_a.tif', 'jobs/run1/t_b.tif', 'jobs/run1/t_c.tif']);
    const file = bucket.file('jobs/run1/t_a.tif');
    const [meta] = await file.getMetadata();
    const [bytes] = await file.download();
    expect(Number(meta.size)).toBe(bytes.length);
    expect(meta.md5Hash).toBe(createHash('md5').update(bytes).digest('base64'));
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32c(bytes) >>> 0);
    expect(meta.crc32c).toBe(crc.toString('base64'));
    const [part] = await file.download({ start: 10, end: 99 });
    expect(part.equals(bytes.subarray(10, 100))).toBe(true);
    await file.delete();
    const gone = emu.state().objects.find((o) => o.name === 'jobs/run1/t_a.tif');
    expect(gone?.deletedAt).not.toBeNull();
    expect(gone?.timeCreated).toMatch(/^\d{4}-\d\d-\d\dT/);
    await expect(file.getMetadata()).rejects.toMatchObject({ code: 404 });
    // An empty listing has no items at all.
    expect((await bucket.getFiles({ prefix: 'nothing-here/' }))[0]).toEqual([]);
  });

  it('an export to a bucket the emulator does not have fails as a task, and leaves no object', async () => {
    const r = await exportTo('no-such-bucket', 'x/y');
    expect(r.state).toBe('FAILED');
    // Google documents no wording for this: the emulator's guess, listed in main/emulator/README.md.
    expect(r.error).toBe('Unable to write to bucket no-such-bucket: the bucket does not exist, or the account running the export may not create objects in it.');
    expect(emu.state().objects.filter((o) => o.bucket === 'no-such-bucket')).toEqual([]);
    await expect(storage().bucket('no-such-bucket').getFiles()).rejects.toMatchObject({ code: 404 });
  });

  it('composite objects carry only a CRC32C', async () => {
    emu.configure({ compositeRate: 1 });
    try {
      expect((await exportTo('other', 'comp/one')).state).toBe('SUCCEEDED');
    } finally {
      emu.configure({ compositeRate: 0 });
    }
    const [meta] = await storage().bucket('other').file('comp/one.tif').getMetadata();
    expect(meta.md5Hash).toBeUndefined();
    expect(meta.crc32c).toMatch(/^[A-Za-z0-9+/]{6}==$/);
  });

  it('faults reach the storage routes: 5xx and 429 in the JSON API\'s error format', async () => {
    emu.configure({ http5xxRate: 1 });
    try {
      await expect(storage(false).bucket('other').getFiles()).rejects.toMatchObject({ code: expect.any(Number) });
      const r = await fetch(`${emu.url}/storage/v1/b/other/o`, { headers: { authorization: `Bearer ${token}` } });
      expect([500, 503]).toContain(r.status);
    } finally {
      emu.configure({ http5xxRate: 0 });
    }
    emu.configure({ rateLimitRate: 1 });
    try {
      const r = await fetch(`${emu.url}/storage/v1/b/other/o`, { headers: { authorization: `Bearer ${token}` } });
      expect(r.status).toBe(429);
      expect(((await r.json()) as { error: { errors: { reason: string }[] } }).error.errors[0]?.reason).toBe('rateLimitExceeded');
    } finally {
      emu.configure({ rateLimitRate: 0 });
    }
  });

  it('a token without a storage scope is refused with 403', async () => {
    const key = JSON.parse(readFileSync(keyPath, 'utf8')) as Record<string, string>;
    const eeOnly = (await jwtFor(key as never, emu.url, ['https://www.googleapis.com/auth/earthengine']).getAccessToken()).token;
    const r = await fetch(`${emu.url}/storage/v1/b/other/o`, { headers: { authorization: `Bearer ${eeOnly}` } });
    expect(r.status).toBe(403);
  });
});

describe('with --data-dir', () => {
  it('keeps trusting its service-account keys and keeps the objects after a restart', async () => {
    const data = mkdtempSync(join(tmpdir(), 'tessera-gcs-data-'));
    const key2 = join(data, 'key.json');
    try {
      const first = await startEmulatorWithEe({ dataDir: join(data, 'emu'), timeScale: 2000, taskBaseSeconds: 10, dispatchSeconds: 1, buckets: 'kept', serviceAccountKey: key2 }, PROJECT);
      const saved = { emu, ee };
      emu = first.emu;
      ee = first.ee;
      try {
        expect((await exportTo('kept', 'p/one')).state).toBe('SUCCEEDED');
      } finally {
        await emu.stop();
        ({ emu, ee } = saved);
      }
      const again = await import('../../main/emulator').then((m) => m.startEmulator({ dataDir: join(data, 'emu') }));
      try {
        const key = JSON.parse(readFileSync(key2, 'utf8')) as { client_email: string; private_key: string; private_key_id: string };
        const t = (await jwtFor(key, again.url, ['https://www.googleapis.com/auth/devstorage.read_write']).getAccessToken()).token as string;
        const r = await fetch(`${again.url}/storage/v1/b/kept/o?prefix=p/`, { headers: { authorization: `Bearer ${t}` } });
        expect(r.status).toBe(200);
        const body = (await r.json()) as { items: { name: string; size: string }[] };
        expect(body.items.map((i) => i.name)).toEqual(['p/one.tif']);
        const media = await fetch(`${again.url}/storage/v1/b/kept/o/${encodeURIComponent('p/one.tif')}?alt=media`, { headers: { authorization: `Bearer ${t}` } });
        expect((await media.arrayBuffer()).byteLength).toBe(Number(body.items[0]!.size));
      } finally {
        await again.stop();
      }
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  }, 60_000);
});
