/**
 * What exports leave in Drive, through the unmodified clients: EE's folder rules, split outputs
 * (`-yMin-xMin` parts that GDAL reads with abutting origins), `fileDimensions`, and the Drive quota.
 */
import type { drive_v3 } from '@googleapis/drive';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DRIVE_FULL_MESSAGE } from '../../shared/messages';
import type { EmulatorHandle } from '../../main/emulator';
import { useScratchDir } from '../helpers/hooks';
import { eeCall, plain, startTask, useEmulatorWithEe, waitFor, type Ee } from './google-clients';

const PROJECT = 'outputs-project';
const FOLDER_MIME = 'application/vnd.google-apps.folder';
let emu: EmulatorHandle;
let ee: Ee;
let drive: drive_v3.Drive;
const scratch = useScratchDir('tessera-emu-out-');

interface OpJson { done?: boolean; error?: { message: string }; metadata: { state: string; destinationUris?: string[] } }

useEmulatorWithEe({ timeScale: 2000, taskBaseSeconds: 10, dispatchSeconds: 1, slots: 4 }, PROJECT, (started) => ({ emu, ee, drive } = started));

/** Exports a 2-band Int16 tile (or the image given) and waits until the operation is done. */
async function exportTile(opts: { prefix: string; folder: string; w: number; h: number; fileDimensions?: number[]; image?: Ee; extra?: Record<string, unknown> }): Promise<OpJson> {
  const task = ee.batch.Export.image.toDrive({
    image: opts.image ?? ee.Image(1).toInt16().addBands(ee.Image(2).toInt16()),
    description: opts.prefix,
    folder: opts.folder,
    fileNamePrefix: opts.prefix,
    crs: 'EPSG:32633',
    crsTransform: [30, 0, 500000, 0, -30, 4000000],
    dimensions: `${opts.w}x${opts.h}`,
    ...(opts.fileDimensions ? { fileDimensions: opts.fileDimensions } : {}),
    ...(opts.extra ?? {}),
  });
  const name = `projects/${PROJECT}/operations/${await startTask(task)}`;
  return waitFor(`export ${opts.prefix}`, async () => {
    const op = plain<OpJson>(ee, await eeCall((cb) => ee.data.getOperation(name, cb)));
    return op.done ? op : undefined;
  });
}

function folderOf(op: OpJson): string {
  return (op.metadata.destinationUris?.[0] as string).split('/').pop() as string;
}

async function files(folderId: string): Promise<drive_v3.Schema$File[]> {
  return (await drive.files.list({ q: `'${folderId}' in parents`, orderBy: 'name', fields: 'files(id,name,size,md5Checksum)' })).data.files ?? [];
}

async function fetchTif(fileId: string): Promise<string> {
  const res = await drive.files.get({ fileId, alt: 'media' }, { responseType: 'stream' });
  const chunks: Buffer[] = [];
  for await (const c of res.data as unknown as Readable) chunks.push(c as Buffer);
  const p = path.join(scratch, `${fileId}.tif`);
  writeFileSync(p, Buffer.concat(chunks));
  return p;
}

async function gdalinfo(fileId: string): Promise<{ size: number[]; geoTransform: number[]; bands: unknown[] }> {
  const p = await fetchTif(fileId);
  return JSON.parse(execFileSync('gdalinfo', ['-json', p], { encoding: 'utf8' })) as { size: number[]; geoTransform: number[]; bands: unknown[] };
}

/** The pixel value of band 1 at a CRS point (GDAL's own reading). */
function valueAt(file: string, x: number, y: number): number {
  return Number(execFileSync('gdallocationinfo', ['-valonly', '-geoloc', file, String(x), String(y)], { encoding: 'utf8' }).trim().split('\n')[0]);
}

describe("EE's folder rules", () => {
  it('creates the folder at the root when none exists, and reuses it', async () => {
    const a = await exportTile({ prefix: 'fa', folder: 'new-folder', w: 8, h: 8 });
    const b = await exportTile({ prefix: 'fb', folder: 'new-folder', w: 8, h: 8 });
    expect(folderOf(a)).toBe(folderOf(b));
    const folder = await drive.files.get({ fileId: folderOf(a), fields: 'name,parents,mimeType' });
    const root = await drive.files.get({ fileId: 'root', fields: 'id' });
    expect(folder.data).toMatchObject({ name: 'new-folder', parents: [root.data.id], mimeType: FOLDER_MIME });
    expect((await files(folderOf(a))).map((f) => f.name)).toEqual(['fa.tif', 'fb.tif']);
  });

  it('uses a folder of that name wherever it is, the most recently modified one of several, the name taken literally', async () => {
    const parent = await drive.files.create({ requestBody: { name: 'deep', mimeType: FOLDER_MIME }, fields: 'id' });
    const older = await drive.files.create({ requestBody: { name: 'dup', mimeType: FOLDER_MIME, parents: [parent.data.id as string] }, fields: 'id' });
    await new Promise((r) => setTimeout(r, 5));
    const newer = await drive.files.create({ requestBody: { name: 'dup', mimeType: FOLDER_MIME }, fields: 'id' });
    expect(folderOf(await exportTile({ prefix: 'd1', folder: 'dup', w: 4, h: 4 }))).toBe(newer.data.id);
    await new Promise((r) => setTimeout(r, 5));
    await drive.files.update({ fileId: older.data.id as string, requestBody: { description: 'touched', name: 'dup' } });
    expect(folderOf(await exportTile({ prefix: 'd2', folder: 'dup', w: 4, h: 4 }))).toBe(older.data.id);

    const slashed = await exportTile({ prefix: 's1', folder: 'a/b', w: 4, h: 4 });
    expect((await drive.files.get({ fileId: folderOf(slashed), fields: 'name' })).data.name).toBe('a/b');
  });
});

describe('split outputs', () => {
  it('splits above splitBytes into -yMin-xMin parts that GDAL reads with abutting origins', async () => {
    // 2 bands × Int16 = 4 bytes per pixel; 256×256×4 = 256 KiB parts.
    emu.configure({ splitBytes: 256 * 256 * 4 });
    try {
      const op = await exportTile({ prefix: 'big', folder: 'split', w: 600, h: 300 });
      expect(op.metadata.state).toBe('SUCCEEDED');
      const parts = await files(folderOf(op));
      expect(parts.map((f) => f.name)).toEqual([
        'big-0000000000-0000000000.tif', 'big-0000000000-0000000256.tif', 'big-0000000000-0000000512.tif',
        'big-0000000256-0000000000.tif', 'big-0000000256-0000000256.tif', 'big-0000000256-0000000512.tif',
      ]);
      const infos = await Promise.all(parts.map((f) => gdalinfo(f.id as string)));
      expect(infos.map((i) => i.size)).toEqual([[256, 256], [256, 256], [88, 256], [256, 44], [256, 44], [88, 44]]);
      expect(infos.map((i) => [i.geoTransform[0], i.geoTransform[3]])).toEqual([
        [500000, 4000000], [500000 + 256 * 30, 4000000], [500000 + 512 * 30, 4000000],
        [500000, 4000000 - 256 * 30], [500000 + 256 * 30, 4000000 - 256 * 30], [500000 + 512 * 30, 4000000 - 256 * 30],
      ]);
      for (const i of infos) expect(i.bands).toHaveLength(2);
    } finally {
      emu.configure({ splitBytes: 2 ** 31 });
    }
  });

  it('cuts parts of fileDimensions when the request gives them', async () => {
    const op = await exportTile({ prefix: 'fd', folder: 'dims', w: 300, h: 200, fileDimensions: [256, 256] });
    expect((await files(folderOf(op))).map((f) => f.name)).toEqual(['fd-0000000000-0000000000.tif', 'fd-0000000000-0000000256.tif']);
    const one = await exportTile({ prefix: 'fd1', folder: 'dims1', w: 100, h: 100, fileDimensions: [256, 256] });
    expect((await files(folderOf(one))).map((f) => f.name)).toEqual(['fd1.tif']);
  });

  it('takes non-square fileDimensions ([height, width] from the JS client) and shardSize; parts abut in GDAL', async () => {
    // The JS client sends fileDimensions [a, b] as {height: a, width: b} (docs/earth-engine-client.md#exports).
    const op = await exportTile({ prefix: 'ns', folder: 'nonsquare', w: 600, h: 300, fileDimensions: [128, 384], extra: { shardSize: 128 } });
    const parts = await files(folderOf(op));
    expect(parts.map((f) => f.name)).toEqual([
      'ns-0000000000-0000000000.tif', 'ns-0000000000-0000000384.tif',
      'ns-0000000128-0000000000.tif', 'ns-0000000128-0000000384.tif',
      'ns-0000000256-0000000000.tif', 'ns-0000000256-0000000384.tif',
    ]);
    const infos = await Promise.all(parts.map((f) => gdalinfo(f.id as string)));
    expect(infos.map((i) => i.size)).toEqual([[384, 128], [216, 128], [384, 128], [216, 128], [384, 44], [216, 44]]);
    // Each part starts where its left and upper neighbours end.
    const origin = (i: number): number[] => [infos[i]?.geoTransform[0] as number, infos[i]?.geoTransform[3] as number];
    for (let row = 0; row < 3; row++) {
      expect(origin(row * 2)).toEqual([500000, 4000000 - row * 128 * 30]);
      expect(origin(row * 2 + 1)).toEqual([500000 + 384 * 30, 4000000 - row * 128 * 30]);
    }
    // fileDimensions must be a multiple of shardSize: refused at once.
    await expect(exportTile({ prefix: 'bad', folder: 'nonsquare', w: 600, h: 300, fileDimensions: [300, 300] })).rejects.toThrow(/must be a multiple of shardSize/);
  });

  it('masks pixels outside the clip geometry and, with skipEmptyTiles, writes no file for a wholly masked part', async () => {
    // A triangle over the top-left of a 600 × 600 grid split into 256 × 256 parts.
    const x0 = 500000;
    const y0 = 4000000;
    const triangle = ee.Geometry.Polygon([[[x0, y0], [x0 + 500 * 30, y0], [x0, y0 - 500 * 30]]], 'EPSG:32633', false);
    const image = ee.Image(1).toFloat().clip(triangle);
    const all = await exportTile({ prefix: 'tri', folder: 'masked', w: 600, h: 600, fileDimensions: [256, 256], image });
    const kept = await exportTile({ prefix: 'tri_skip', folder: 'masked_skip', w: 600, h: 600, fileDimensions: [256, 256], image, extra: { skipEmptyTiles: true } });
    expect((await files(folderOf(all))).length).toBe(9);
    const names = (await files(folderOf(kept))).map((f) => f.name);
    // Parts whose pixels all lie below the diagonal x + y = 500 (pixels) are left out.
    expect(names).toEqual([
      'tri_skip-0000000000-0000000000.tif', 'tri_skip-0000000000-0000000256.tif',
      'tri_skip-0000000256-0000000000.tif',
    ]);
    const first = (await files(folderOf(all))).find((f) => f.name === 'tri-0000000000-0000000000.tif') as drive_v3.Schema$File;
    const tif = await fetchTif(first.id as string);
    expect(valueAt(tif, x0 + 10 * 30 + 15, y0 - 10 * 30 - 15)).not.toBe(0); // inside the triangle
    expect(valueAt(tif, x0 + 255 * 30 + 15, y0 - 255 * 30 - 15)).toBe(0); // outside: masked
    const corner = (await files(folderOf(all))).find((f) => f.name === 'tri-0000000512-0000000512.tif') as drive_v3.Schema$File;
    const info = JSON.parse(execFileSync('gdalinfo', ['-json', '-stats', await fetchTif(corner.id as string)], { encoding: 'utf8' })) as { bands: { minimum: number; maximum: number }[] };
    expect([info.bands[0]?.minimum, info.bands[0]?.maximum]).toEqual([0, 0]);
  });
});

describe('the Drive quota', () => {
  it('counts outputs when they appear, fails an export that does not fit, and takes a new limit at run time', async () => {
    const usage = async (): Promise<number> => Number((await drive.about.get({ fields: 'storageQuota(usage,limit)' })).data.storageQuota?.usage);
    const used = await usage();
    emu.configure({ driveQuotaBytes: used + 1000 });
    try {
      const quota = (await drive.about.get({ fields: 'storageQuota' })).data.storageQuota;
      expect(quota?.limit).toBe(String(used + 1000));
      const full = await exportTile({ prefix: 'nofit', folder: 'quota', w: 64, h: 64 });
      expect(full.metadata.state).toBe('FAILED');
      expect(full.error?.message).toBe(DRIVE_FULL_MESSAGE);
      expect(await usage()).toBe(used);
      emu.configure({ driveQuotaBytes: used + 10 ** 6 });
      const ok = await exportTile({ prefix: 'fits', folder: 'quota', w: 64, h: 64 });
      expect(ok.metadata.state).toBe('SUCCEEDED');
      const [file] = await files(folderOf(ok));
      expect(await usage()).toBe(used + Number(file?.size));
      expect(emu.state().quota).toMatchObject({ limit: used + 10 ** 6, usage: used + Number(file?.size) });
      // Trashed files still count; emptying the trash frees them.
      await drive.files.update({ fileId: file?.id as string, requestBody: { trashed: true } });
      expect(emu.state().quota.usageInDriveTrash).toBe(Number(file?.size));
      expect(await usage()).toBe(used + Number(file?.size));
      await drive.files.emptyTrash({});
      expect(await usage()).toBe(used);
    } finally {
      emu.configure({ driveQuotaBytes: null });
    }
  });
});
