/**
 * Listing at scale through the real clients: more than 1000 operations (the EE client pages with
 * pageSize=500) and more than 1000 Drive files (pageSize ≤ 1000), plus Drive's search language,
 * trash and fields.
 */
import type { drive_v3 } from '@googleapis/drive';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { driveClient, eeCall, initEe, loadEe, plain, signIn, type Ee } from './google-clients';

const PROJECT = 'paging-project';
let emu: EmulatorHandle;
let ee: Ee;
let drive: drive_v3.Drive;
let token: string;

beforeAll(async () => {
  // No slots: the tasks stay PENDING, nothing is written; this file is about listing.
  emu = await startEmulator({ slots: 0 });
  const { client, tokens } = await signIn(emu.url);
  token = tokens.access_token as string;
  ee = loadEe();
  await initEe(ee, emu.url, tokens, PROJECT);
  drive = driveClient(emu.url, client);
});

afterAll(async () => {
  await emu?.stop();
});

/** Runs `fn` over `items`, `width` at a time. */
async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

describe('operations.list over more than 1000 operations', () => {
  it('pages through all of them with the client, newest first', async () => {
    const task = ee.batch.Export.image.toDrive({ image: ee.Image(1), description: 'paging', folder: 'paging', crs: 'EPSG:32632', crsTransform: [10, 0, 0, 0, -10, 0], dimensions: '4x4' });
    const config = (task as unknown as { config_: Record<string, unknown> }).config_;
    const n = 1005;
    // The exact body task.start() would post (docs/earth-engine-client.md#request-ids), sent directly: the client's 350 ms
    // throttle would make 1005 starts take six minutes. Listing below goes through the client.
    await pool(Array.from({ length: n }, (_, i) => i), 25, async (i) => {
      const body = ee.apiclient.serialize(ee.data.prepareExportImageRequest_({ ...config, description: `paging_${i}`, id: randomUUID() }, {}));
      const res = await fetch(`${emu.url}/v1/projects/${PROJECT}/image:export`, {
        method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
    });
    const listKey = 'GET /v1/projects/{project}/operations';
    const before = emu.state().requests[listKey] ?? 0;
    const ops = await eeCall<unknown[]>((cb) => ee.data.listOperations(undefined, cb));
    expect(ops).toHaveLength(n);
    expect((emu.state().requests[listKey] ?? 0) - before).toBe(3); // 500 + 500 + 5
    const json = ops.map((o) => plain<{ name: string; metadata: { createTime: string; state: string } }>(ee, o));
    expect(new Set(json.map((o) => o.name)).size).toBe(n);
    const created = emu.state().operations.filter((o) => o.project === PROJECT).map((o) => o.name).reverse();
    expect(json.map((o) => o.name)).toEqual(created);
    expect(json.every((o) => o.metadata.state === 'PENDING')).toBe(true);
    // A limit stops paging early.
    const few = await eeCall<unknown[]>((cb) => ee.data.listOperations(7, cb));
    expect(few).toHaveLength(7);
  });
});

describe('files.list over more than 1000 files', () => {
  let folderId: string;
  const names: string[] = [];

  beforeAll(async () => {
    const folder = await drive.files.create({ requestBody: { name: 'many', mimeType: 'application/vnd.google-apps.folder' }, fields: 'id' });
    folderId = folder.data.id as string;
    for (let i = 0; i < 1203; i++) names.push(`job_x${i}_y0.tif`);
    await pool(names, 40, (name) => drive.files.create({ requestBody: { name, parents: [folderId], mimeType: 'image/tiff' }, fields: 'id' }));
  });

  async function listAll(params: drive_v3.Params$Resource$Files$List): Promise<{ pages: number; files: drive_v3.Schema$File[] }> {
    const files: drive_v3.Schema$File[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const res = await drive.files.list({ ...params, pageToken });
      files.push(...(res.data.files ?? []));
      pageToken = res.data.nextPageToken ?? undefined;
      pages++;
      if (pages > 50) throw new Error('runaway paging');
    } while (pageToken);
    return { pages, files };
  }

  it('returns at most 1000 per page and every file exactly once', async () => {
    const big = await listAll({ q: `'${folderId}' in parents and trashed = false`, pageSize: 1000, fields: 'nextPageToken,files(id,name,size,md5Checksum)' });
    expect(big.pages).toBe(2);
    expect(new Set(big.files.map((f) => f.name))).toEqual(new Set(names));
    expect(big.files[0]).toMatchObject({ size: '0', md5Checksum: 'd41d8cd98f00b204e9800998ecf8427e' });
    const small = await listAll({ q: `'${folderId}' in parents`, fields: 'nextPageToken,files(id)' });
    expect(small.pages).toBe(13); // default pageSize 100
    expect(small.files).toHaveLength(names.length);
    await expect(drive.files.list({ pageSize: 1001 })).rejects.toMatchObject({ status: 400 });
  });

  it('keeps its place when files are deleted between pages', async () => {
    const q = `'${folderId}' in parents`;
    const first = await drive.files.list({ q, pageSize: 100, orderBy: 'name', fields: 'nextPageToken,files(id,name)' });
    const page1 = first.data.files ?? [];
    for (const f of page1.slice(0, 10)) await drive.files.delete({ fileId: f.id as string });
    const rest = await listAll({ q, pageSize: 1000, orderBy: 'name', pageToken: first.data.nextPageToken as string, fields: 'nextPageToken,files(id,name)' } as drive_v3.Params$Resource$Files$List);
    const seen = new Set([...page1.map((f) => f.name), ...rest.files.map((f) => f.name)]);
    expect(seen).toEqual(new Set(names));
  });

  it('orders by name and natural name; refuses an unknown sort key', async () => {
    const q = `'${folderId}' in parents and name contains 'job_x11'`;
    const byName = await drive.files.list({ q, orderBy: 'name', pageSize: 1000, fields: 'files(name)' });
    const natural = await drive.files.list({ q, orderBy: 'name_natural desc', fields: 'files(name)' });
    const expected = names.filter((n) => n.startsWith('job_x11')).sort();
    expect(byName.data.files?.map((f) => f.name)).toEqual(expected);
    expect(natural.data.files?.[0]?.name).toBe('job_x1199_y0.tif');
    await expect(drive.files.list({ orderBy: 'size' })).rejects.toMatchObject({ status: 400 });
  });
});

describe('the q language, trash and fields', () => {
  it("matches `contains` like Drive: prefixes of the name's tokens, not substrings", async () => {
    const folder = await drive.files.create({ requestBody: { name: 'q-tests', mimeType: 'application/vnd.google-apps.folder' }, fields: 'id' });
    const id = folder.data.id as string;
    for (const name of ['HelloWorld.tif', 'bavaria_x12_ym3.tif', 'bavaria_x12_ym3-0000000000-0000000256.tif', "it's.csv"]) {
      await drive.files.create({ requestBody: { name, parents: [id], mimeType: name.endsWith('.csv') ? 'text/csv' : 'image/tiff' } });
    }
    const find = async (q: string): Promise<string[]> =>
      ((await drive.files.list({ q: `'${id}' in parents and (${q})`, orderBy: 'name', fields: 'files(name)' })).data.files ?? []).map((f) => f.name as string);
    expect(await find("name contains 'Hello'")).toEqual(['HelloWorld.tif']);
    expect(await find("name contains 'World'")).toEqual([]);
    expect(await find("name contains 'hello'")).toEqual(['HelloWorld.tif']);
    expect(await find("name contains 'x12'")).toEqual(['bavaria_x12_ym3-0000000000-0000000256.tif', 'bavaria_x12_ym3.tif']);
    expect(await find("name contains 'avaria'")).toEqual([]);
    expect(await find("name = 'bavaria_x12_ym3.tif'")).toEqual(['bavaria_x12_ym3.tif']);
    expect(await find("name = 'it\\'s.csv'")).toEqual(["it's.csv"]);
    expect(await find("mimeType = 'text/csv' or name contains 'Hello'")).toEqual(['HelloWorld.tif', "it's.csv"]);
    expect(await find("not mimeType = 'image/tiff'")).toEqual(["it's.csv"]);
    await expect(drive.files.list({ q: "name contians 'x'" })).rejects.toMatchObject({ status: 400 });
    await expect(drive.files.list({ q: "(name = 'x'" })).rejects.toMatchObject({ status: 400 });
  });

  it('trashes (still counted in the quota), restores, empties the trash; refuses unknown fields', async () => {
    const created = await drive.files.create({ requestBody: { name: 'to-trash.tif', mimeType: 'image/tiff' }, fields: 'id,trashed,parents' });
    const fileId = created.data.id as string;
    expect(created.data.trashed).toBe(false);
    const trashed = await drive.files.update({ fileId, requestBody: { trashed: true }, fields: 'id,trashed,trashedTime' });
    expect(trashed.data).toMatchObject({ trashed: true, trashedTime: expect.any(String) });
    const inTrash = await drive.files.list({ q: "trashed = true and name = 'to-trash.tif'", fields: 'files(id)' });
    expect(inTrash.data.files?.map((f) => f.id)).toEqual([fileId]);
    expect((await drive.files.list({ q: "trashed = false and name = 'to-trash.tif'" })).data.files).toEqual([]);
    await drive.files.update({ fileId, requestBody: { trashed: false } });
    await drive.files.update({ fileId, requestBody: { trashed: true } });
    expect((await drive.files.emptyTrash({})).status).toBe(204);
    await expect(drive.files.get({ fileId })).rejects.toMatchObject({ status: 404 });
    await expect(drive.files.get({ fileId: 'root', fields: 'id,nonsense' })).rejects.toMatchObject({ status: 400 });
    const root = await drive.files.get({ fileId: 'root', fields: 'id,name,mimeType' });
    expect(root.data).toMatchObject({ name: 'My Drive', mimeType: 'application/vnd.google-apps.folder' });
  });
});
