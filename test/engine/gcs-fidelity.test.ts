/**
 * The emulator's Cloud Storage JSON API against what Google's own client, `@google-cloud/storage` 7.x
 * (unmodified, `apiEndpoint` = the emulator), parses and what Google documents for the objects resource
 * and objects.list (docs/cloud-storage.md; main/emulator/README.md, "Cloud Storage JSON API"): field names
 * and types (int64 as strings, base64 checksums), custom metadata, pages with pageToken / prefix /
 * delimiter, and the JSON API's error shape and 404 wording.
 */
import { ApiError, Storage, type File } from '@google-cloud/storage';
import { createHash } from 'node:crypto';
import { crc32c } from '@node-rs/crc32';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../main/emulator';
import { startEmulatorAsServiceAccount, type ServiceAccountEmulator } from '../helpers/service-account';

const BUCKET = 'fidelity';
let signed: ServiceAccountEmulator;
let emu: EmulatorHandle;
let storage: Storage;

beforeAll(async () => {
  signed = await startEmulatorAsServiceAccount({ buckets: BUCKET, project: 'fid', seed: 11 });
  emu = signed.emu;
  const jwt = signed.jwt;
  const token = (await jwt.getAccessToken()).token!;
  const auth = { getRequestHeaders: async () => ({ Authorization: `Bearer ${token}` }), getCredentials: async () => ({}) };
  storage = new Storage({ apiEndpoint: emu.url, useAuthWithCustomEndpoint: true, projectId: 'fid', authClient: auth as never, retryOptions: { autoRetry: false } });
  const bucket = storage.bucket(BUCKET);
  for (const name of ['list/a1', 'list/a2', 'list/b/x1', 'list/b/x2', 'list/c/y/z', 'list/d.txt', 'top']) await bucket.file(name).save(name, { resumable: false });
}, 30_000);

afterAll(async () => {
  await signed?.stop();
});

const base64Crc32c = (bytes: Buffer): string => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32c(bytes) >>> 0);
  return b.toString('base64');
};

describe('the objects resource', () => {
  it('has Google\'s fields and types, the same in the upload\'s answer, objects.get and objects.list', async () => {
    const bytes = Buffer.from('{"job":"fidelity","pad":"' + 'x'.repeat(3000) + '"}');
    const file = storage.bucket(BUCKET).file('res/one.json');
    await file.save(bytes, { resumable: false, contentType: 'application/json', metadata: { metadata: { owner: 'tessera', 'run-id': 'r-1' } } });
    const uploaded = { ...file.metadata };
    const [meta] = await file.getMetadata();
    expect(meta).toMatchObject({
      kind: 'storage#object',
      name: 'res/one.json',
      bucket: BUCKET,
      contentType: 'application/json',
      // int64 values are JSON strings in the JSON API; the checksums are base64 (CRC32C big-endian).
      size: String(bytes.length),
      md5Hash: createHash('md5').update(bytes).digest('base64'),
      crc32c: base64Crc32c(bytes),
      metageneration: '1',
      storageClass: 'STANDARD',
      metadata: { owner: 'tessera', 'run-id': 'r-1' },
    });
    expect(meta.generation).toEqual(expect.stringMatching(/^\d+$/));
    expect(meta.id).toBe(`${BUCKET}/res/one.json/${meta.generation}`);
    expect(meta.etag).toEqual(expect.any(String));
    for (const t of [meta.timeCreated, meta.updated]) expect(t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(meta.selfLink).toBe(`https://www.googleapis.com/storage/v1/b/${BUCKET}/o/res%2Fone.json`);
    expect(meta.mediaLink).toContain(`/b/${BUCKET}/o/res%2Fone.json?generation=${meta.generation}&alt=media`);
    expect(uploaded).toEqual(meta);
    const [listed] = await storage.bucket(BUCKET).getFiles({ prefix: 'res/' });
    expect(listed.map((f) => f.metadata)).toEqual([meta]);
    // The client's own checks of the media answer (x-goog-hash) pass, by MD5 and by CRC32C.
    expect((await file.download({ validation: 'md5' }))[0].equals(bytes)).toBe(true);
    expect((await file.download({ validation: 'crc32c' }))[0].equals(bytes)).toBe(true);
    // A generation that is not the live one is not found.
    await expect(storage.bucket(BUCKET).file('res/one.json', { generation: 1 }).getMetadata()).rejects.toMatchObject({ code: 404 });
  });

  it('a new write of the name is a new generation; ifGenerationMatch=0 on a live name is 412 conditionNotMet', async () => {
    const file = storage.bucket(BUCKET).file('res/two.txt');
    await file.save('first', { resumable: false });
    const g1 = String(file.metadata.generation);
    await file.save('second', { resumable: false });
    const g2 = String(file.metadata.generation);
    expect(BigInt(g2)).toBeGreaterThan(BigInt(g1));
    const err = await file.save('third', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 412, message: 'At least one of the pre-conditions you specified did not hold.', errors: [{ reason: 'conditionNotMet', domain: 'global' }] });
    expect((await file.download())[0].toString()).toBe('second');
  });
});

describe('objects.list', () => {
  type Page = [File[], Record<string, unknown> | null, { kind?: string; items?: unknown[]; prefixes?: string[]; nextPageToken?: string }];
  const page = async (query: Record<string, unknown>): Promise<Page> => (await storage.bucket(BUCKET).getFiles({ ...query, autoPaginate: false })) as unknown as Page;

  it('with a delimiter: objects directly under the prefix in items, deeper ones rolled up once each into prefixes', async () => {
    const [files, next, raw] = await page({ prefix: 'list/', delimiter: '/' });
    expect(files.map((f) => f.name)).toEqual(['list/a1', 'list/a2', 'list/d.txt']);
    expect(raw.prefixes).toEqual(['list/b/', 'list/c/']);
    expect(raw.kind).toBe('storage#objects');
    expect(next).toBeNull();
    // Without a delimiter, everything under the prefix; no prefixes key at all.
    const [all, , rawAll] = await page({ prefix: 'list/' });
    expect(all.map((f) => f.name)).toEqual(['list/a1', 'list/a2', 'list/b/x1', 'list/b/x2', 'list/c/y/z', 'list/d.txt']);
    expect(rawAll).not.toHaveProperty('prefixes');
  });

  it('pages by pageToken: maxResults counts items plus prefixes, and the pages add up to the whole listing', async () => {
    const items: string[] = [];
    const prefixes: string[] = [];
    let query: Record<string, unknown> | null = { prefix: 'list/', delimiter: '/', maxResults: 2 };
    let pages = 0;
    for (; query && pages < 10; pages++) {
      const [files, next, raw]: Page = await page(query);
      expect(files.length + (raw.prefixes?.length ?? 0)).toBeLessThanOrEqual(2);
      items.push(...files.map((f) => f.name));
      prefixes.push(...(raw.prefixes ?? []));
      if (next) expect(next.pageToken).toBe(raw.nextPageToken);
      query = next;
    }
    expect(pages).toBe(3);
    expect(items).toEqual(['list/a1', 'list/a2', 'list/d.txt']);
    expect(prefixes).toEqual(['list/b/', 'list/c/']);
    // The client follows the tokens by itself too.
    const [auto] = await storage.bucket(BUCKET).getFiles({ prefix: 'list/', maxResults: 4 });
    expect(auto).toHaveLength(4);
    const [everything] = await storage.bucket(BUCKET).getFiles({ prefix: 'list/', autoPaginate: true, maxApiCalls: 10 });
    expect(everything).toHaveLength(6);
  });

  it('an empty listing is {"kind": "storage#objects"} with no items', async () => {
    const [files, next, raw] = await page({ prefix: 'nothing/', delimiter: '/' });
    expect(files).toEqual([]);
    expect(next).toBeNull();
    expect(raw).toEqual({ kind: 'storage#objects' });
  });
});

describe('errors in the JSON API\'s shape', () => {
  it('a missing object: 404 "No such object: bucket/name", reason notFound', async () => {
    const file = storage.bucket(BUCKET).file('no/such.tif');
    for (const call of [() => file.getMetadata(), () => file.delete()]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ code: 404, message: 'No such object: fidelity/no/such.tif', errors: [{ reason: 'notFound', domain: 'global', message: 'No such object: fidelity/no/such.tif' }] });
    }
    // A media request's error body is read by the client as text: its message is the JSON document.
    const media = await file.download().catch((e: unknown) => e);
    expect(media).toMatchObject({ code: 404 });
    expect(JSON.parse((media as Error).message)).toMatchObject({ error: { code: 404, message: 'No such object: fidelity/no/such.tif', errors: [{ reason: 'notFound' }] } });
    expect((await storage.bucket(BUCKET).file('no/such.tif').exists())[0]).toBe(false);
  });

  it('a missing bucket: 404 "The specified bucket does not exist.", for the bucket and its objects', async () => {
    const nope = storage.bucket('no-such-bucket');
    expect((await nope.exists())[0]).toBe(false);
    expect((await storage.bucket(BUCKET).exists())[0]).toBe(true);
    for (const call of [() => nope.getFiles(), () => nope.file('a').getMetadata(), () => nope.file('a').save('x', { resumable: false })]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ code: 404, message: 'The specified bucket does not exist.', errors: [{ reason: 'notFound', domain: 'global', message: 'The specified bucket does not exist.' }] });
    }
  });
});
