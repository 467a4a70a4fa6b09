/**
 * Earth Engine assets in the emulator (issue 13, docs/earth-engine-client.md#assets) with the unmodified client: folders,
 * image collections, toAsset exports creating IMAGE / TABLE assets, listing with paging, delete, copy,
 * move, Google's error strings, `/__emulator/state` and persistence with dataDir.
 */
import { describe, expect, it } from 'vitest';
import { type EmulatorHandle } from '../../main/emulator';
import { useScratchDir } from '../helpers/hooks';
import { eeCall, runEmulatorTask, useEmulatorWithEe, type Ee as EeBase } from '../emulator/google-clients';

/** The client's untyped API, with the asset calls this file uses. */
type Ee = { (...args: unknown[]): Ee; new (...args: unknown[]): Ee } & { readonly [K in keyof EeBase | 'listAssets' | 'toAsset' | 'createFolder' | 'createAsset' | 'getAsset' | 'copyAsset' | 'renameAsset' | 'deleteAsset']: Ee };

const PROJECT = 'tessera-assets-project';
const ROOT = `projects/${PROJECT}/assets`;

let emu: EmulatorHandle;
let ee: Ee;
const dataDir = useScratchDir('tessera-assets-');

const emulator = useEmulatorWithEe<Ee>({ timeScale: 100, taskBaseSeconds: 10, pixelsPerSecond: 1e6, slots: 4, project: PROJECT, dataDir }, PROJECT, (started) => ({ emu, ee } = started));

type Listed = { assets?: { type: string; name: string; id: string; sizeBytes?: string; featureCount?: string }[]; nextPageToken?: string };

const list = (parent: string, params: Record<string, unknown> = {}): Promise<Listed> => eeCall<Listed>((cb) => ee.data.listAssets(parent, params, cb));

const runTask = (task: Ee) => runEmulatorTask(emu, task as unknown as EeBase);

function imageTask(assetId: string, overwrite = false): Ee {
  return ee.batch.Export.image.toAsset({
    image: ee.Image(1).toFloat().addBands(ee.Image(2).toInt16().rename('b2')),
    description: 'img', assetId, crs: 'EPSG:32632', crsTransform: [10, 0, 600000, 0, -10, 5400000], dimensions: '64x32', overwrite,
  });
}

function tableTask(assetId: string, n: number): Ee {
  const features = Array.from({ length: n }, (_, i) => ee.Feature(ee.Geometry.Point([11 + i / 100, 48]), { i }));
  return ee.batch.Export.table.toAsset({ collection: ee.FeatureCollection(features), description: 'tbl', assetId });
}

describe('EE assets in the emulator', () => {
  it('creates folders and image collections, gets them, refuses duplicates and missing parents', async () => {
    const f = await eeCall<Record<string, unknown>>((cb) => ee.data.createFolder(`${ROOT}/out`, false, cb));
    expect(f).toMatchObject({ type: 'Folder' });
    await eeCall((cb) => ee.data.createAsset({ type: 'ImageCollection' }, `${ROOT}/out/ic`, false, {}, cb));
    const got = await eeCall<Record<string, unknown>>((cb) => ee.data.getAsset(`${ROOT}/out/ic`, cb));
    expect(got).toMatchObject({ type: 'ImageCollection' });
    await expect(eeCall((cb) => ee.data.createFolder(`${ROOT}/out`, false, cb))).rejects.toThrow(`Cannot overwrite asset '${ROOT}/out'.`);
    await expect(eeCall((cb) => ee.data.createFolder(`${ROOT}/nope/x`, false, cb))).rejects.toThrow(`Asset '${ROOT}/nope' does not exist or doesn't allow this operation.`);
    await expect(eeCall((cb) => ee.data.getAsset(`${ROOT}/missing`, cb))).rejects.toThrow(`Asset '${ROOT}/missing' does not exist or doesn't allow this operation.`);
    const root = await list(`${ROOT}/`);
    expect(root.assets?.map((a) => [a.name, a.type])).toEqual([[`${ROOT}/out`, 'FOLDER']]);
  });

  it('exports images and tables to assets with sizes, bands and feature counts; overwrite is refused unless asked', async () => {
    expect(await runTask(imageTask(`${ROOT}/out/ic/t1`))).toEqual({ state: 'SUCCEEDED', error: null });
    expect(await runTask(tableTask(`${ROOT}/out/pts`, 7))).toEqual({ state: 'SUCCEEDED', error: null });
    const img = await eeCall<Record<string, unknown>>((cb) => ee.data.getAsset(`${ROOT}/out/ic/t1`, cb));
    expect(img).toMatchObject({ type: 'Image' });
    const listed = await list(`${ROOT}/out`);
    expect(listed.assets?.map((a) => [a.id, a.type])).toEqual([['out/ic', 'IMAGE_COLLECTION'], ['out/pts', 'TABLE']]);
    expect(listed.assets?.[1]?.featureCount).toBe('7');
    const ic = await list(`${ROOT}/out/ic`);
    expect(ic.assets?.[0]?.sizeBytes).toBe(String(64 * 32 * (4 + 2)));

    expect(await runTask(imageTask(`${ROOT}/out/ic/t1`))).toEqual({ state: 'FAILED', error: `Cannot overwrite asset '${ROOT}/out/ic/t1'.` });
    expect(await runTask(imageTask(`${ROOT}/out/ic/t1`, true))).toEqual({ state: 'SUCCEEDED', error: null });
    expect(await runTask(tableTask(`${ROOT}/missing/pts`, 1))).toEqual({ state: 'FAILED', error: `Asset '${ROOT}/missing' does not exist or doesn't allow this operation.` });

    const state = emu.state().assets.filter((a) => a.name === `${ROOT}/out/ic/t1`);
    expect(state.map((a) => a.deletedAt === null)).toEqual([false, true]); // the overwritten one is deleted
    expect(emu.state().assets.find((a) => a.name === `${ROOT}/out/pts`)).toMatchObject({ type: 'TABLE', featureCount: 7, deletedAt: null });
  });

  it('pages a folder of 1,200 assets (client auto-paging and explicit pageSize)', async () => {
    await eeCall((cb) => ee.data.createFolder(`${ROOT}/many`, false, cb));
    for (let i = 0; i < 1200; i++) await eeCall((cb) => ee.data.createFolder(`${ROOT}/many/f${String(i).padStart(4, '0')}`, false, cb));
    const all = await list(`${ROOT}/many`);
    expect(all.assets?.length).toBe(1200);
    expect(new Set(all.assets?.map((a) => a.name)).size).toBe(1200);
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await list(`${ROOT}/many`, { pageSize: 500, ...(token ? { pageToken: token } : {}) });
      names.push(...(page.assets ?? []).map((a) => a.name));
      token = page.nextPageToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(names).toEqual(all.assets?.map((a) => a.name));
  }, 120_000);

  it('copies, moves and deletes; a non-empty folder is not deleted', async () => {
    await eeCall((cb) => ee.data.copyAsset(`${ROOT}/out/pts`, `${ROOT}/out/pts2`, false, cb));
    await eeCall((cb) => ee.data.renameAsset(`${ROOT}/out/pts2`, `${ROOT}/out/pts3`, cb));
    await expect(eeCall((cb) => ee.data.getAsset(`${ROOT}/out/pts2`, cb))).rejects.toThrow('does not exist');
    await eeCall((cb) => ee.data.deleteAsset(`${ROOT}/out/pts3`, cb));
    await expect(eeCall((cb) => ee.data.deleteAsset(`${ROOT}/out/pts3`, cb))).rejects.toThrow(`Asset '${ROOT}/out/pts3' does not exist or doesn't allow this operation.`);
    await expect(eeCall((cb) => ee.data.deleteAsset(`${ROOT}/out`, cb))).rejects.toThrow(/not empty/);
    expect(emu.state().assets.find((a) => a.name === `${ROOT}/out/pts3`)?.deletedAt).toMatch(/Z$/);
  });

  it('keeps assets across a restart with dataDir', async () => {
    const before = emu.state().assets;
    await emulator.restart();
    expect(emu.state().assets).toEqual(before);
    const listed = await list(`${ROOT}/out`);
    expect(listed.assets?.map((a) => a.id)).toEqual(['out/ic', 'out/pts']);
  });
});
