/**
 * What a server-side merge needs from the emulator (issue 13), through the unmodified client: TABLE
 * assets keep their features (and keep them across a restart with dataDir), `ee.FeatureCollection(id)`
 * (`Collection.loadTable`), `.merge()` (`Collection.merge`) and `ee.FeatureCollection(list).flatten()`
 * (`Collection` of collections + `Collection.flatten`) evaluate and export to a TABLE asset with the
 * right featureCount and sizeBytes; `getAssetRootQuota` and the asset count limit.
 */
import { describe, expect, it } from 'vitest';
import { type EmulatorHandle } from '../../main/emulator';
import { useScratchDir } from '../helpers/hooks';
import { eeCall, runEmulatorTask, useEmulatorWithEe, type Ee as EeBase } from '../emulator/google-clients';

type Ee = { (...args: unknown[]): Ee; new (...args: unknown[]): Ee } & { readonly [K in keyof EeBase | 'FeatureCollection' | 'Feature' | 'List' | 'toAsset' | 'createFolder' | 'getAssetRootQuota' | 'flatten' | 'merge' | 'size' | 'evaluate' | 'serialize']: Ee };

const PROJECT = 'tessera-merge-project';
const ROOT = `projects/${PROJECT}/assets`;
let emu: EmulatorHandle;
let ee: Ee;
const dataDir = useScratchDir('tessera-merge-emu-');

const emulator = useEmulatorWithEe<Ee>({ timeScale: 100, taskBaseSeconds: 10, slots: 4, project: PROJECT, dataDir }, PROJECT, (started) => ({ emu, ee } = started));

const runTask = (task: Ee) => runEmulatorTask(emu, task as unknown as EeBase);

function points(n: number, tag: string): Ee {
  return ee.FeatureCollection(Array.from({ length: n }, (_, i) => ee.Feature(ee.Geometry.Point([6 + i / 100, 49.5]), { tag, i, w: i * 0.5 })));
}

const toAsset = (collection: Ee, assetId: string): Ee => ee.batch.Export.table.toAsset({ collection, description: 'merge-test', assetId });
const asset = (name: string) => emu.state().assets.find((a) => a.name === name && a.deletedAt === null);
const evaluate = <T>(obj: Ee): Promise<T> => eeCall<T>((cb) => obj.evaluate(cb));

describe('server-side merges in the emulator', () => {
  it('loads TABLE assets back and merges / flattens them into a new TABLE asset', { timeout: 60_000 }, async () => {
    await eeCall((cb) => ee.data.createFolder(`${ROOT}/m`, false, cb));
    expect(await runTask(toAsset(points(3, 'a'), `${ROOT}/m/a`))).toEqual({ state: 'SUCCEEDED', error: null });
    expect(await runTask(toAsset(points(2, 'b'), `${ROOT}/m/b`))).toEqual({ state: 'SUCCEEDED', error: null });

    // What the client sends: Google's algorithm and argument names.
    const flat = ee.FeatureCollection(ee.List([ee.FeatureCollection(`${ROOT}/m/a`), ee.FeatureCollection(`${ROOT}/m/b`)])).flatten();
    const sent = (flat as unknown as { serialize(): string }).serialize();
    expect(sent).toContain('Collection.loadTable');
    expect(sent).toContain('tableId');
    expect(sent).toContain('Collection.flatten');

    const info = await evaluate<{ features: { id: string; properties: Record<string, unknown> }[] }>(ee.FeatureCollection(`${ROOT}/m/a`));
    expect(info.features.map((f) => f.properties)).toEqual([{ tag: 'a', i: 0, w: 0 }, { tag: 'a', i: 1, w: 0.5 }, { tag: 'a', i: 2, w: 1 }]);
    expect(await evaluate(ee.FeatureCollection(`${ROOT}/m/a`).merge(ee.FeatureCollection(`${ROOT}/m/b`)).size())).toBe(5);
    const flatInfo = await evaluate<{ features: { id: string }[] }>(flat);
    expect(flatInfo.features.map((f) => f.id)).toEqual(['0_0', '0_1', '0_2', '1_0', '1_1']);

    expect(await runTask(toAsset(flat, `${ROOT}/m/ab`))).toEqual({ state: 'SUCCEEDED', error: null });
    expect(await runTask(toAsset(ee.FeatureCollection(`${ROOT}/m/a`).merge(ee.FeatureCollection(`${ROOT}/m/ab`)), `${ROOT}/m/aab`))).toEqual({ state: 'SUCCEEDED', error: null });
    await emu.sync();
    expect(asset(`${ROOT}/m/ab`)).toMatchObject({ type: 'TABLE', featureCount: 5 });
    expect(asset(`${ROOT}/m/aab`)).toMatchObject({ type: 'TABLE', featureCount: 8 });
    // sizeBytes: the features as JSON, so a merge is about the sum of its parts.
    const [a, b, ab] = [asset(`${ROOT}/m/a`)!, asset(`${ROOT}/m/b`)!, asset(`${ROOT}/m/ab`)!];
    expect(ab.sizeBytes).toBeGreaterThan(Math.max(a.sizeBytes!, b.sizeBytes!));
    expect(Math.abs(ab.sizeBytes! - (a.sizeBytes! + b.sizeBytes!))).toBeLessThan(40);

    // A table that does not exist fails the task with EE's message; nothing is made.
    const missing = await runTask(toAsset(ee.FeatureCollection(`${ROOT}/m/nope`), `${ROOT}/m/nope2`));
    expect(missing).toEqual({ state: 'FAILED', error: `Collection.loadTable: Collection asset '${ROOT}/m/nope' not found.` });
    expect(asset(`${ROOT}/m/nope2`)).toBeUndefined();
  });

  it('answers getAssetRootQuota like Google and refuses exports and folders beyond maxAssets', { timeout: 60_000 }, async () => {
    const q = await eeCall<{ asset_count: { usage: number; limit: number }; asset_size: { usage: number; limit: number } }>((cb) => ee.data.getAssetRootQuota(`${ROOT}/`, cb));
    const live = emu.state().assets.filter((x) => x.deletedAt === null).length;
    expect(q.asset_count).toEqual({ usage: live, limit: 10_000 });
    expect(q.asset_size.usage).toBeGreaterThan(0);
    expect(emu.state().assetQuota[PROJECT]).toMatchObject({ assetCount: live, maxAssets: 10_000 });

    await emu.configure({ maxAssets: live });
    const full = await runTask(toAsset(points(1, 'c'), `${ROOT}/m/c`));
    expect(full.state).toBe('FAILED');
    expect(full.error).toMatch(/^Asset quota exceeded: project 'tessera-merge-project' already holds the maximum of \d+ assets\.$/);
    await expect(eeCall((cb) => ee.data.createFolder(`${ROOT}/m2`, false, cb))).rejects.toThrow(/Asset quota exceeded/);
    const q2 = await eeCall<{ asset_count: { limit: number } }>((cb) => ee.data.getAssetRootQuota(`${ROOT}/`, cb));
    expect(q2.asset_count.limit).toBe(live);
    await emu.configure({ maxAssets: 10_000 });
    expect(await runTask(toAsset(points(1, 'c'), `${ROOT}/m/c`))).toEqual({ state: 'SUCCEEDED', error: null });
  });

  it('keeps the features of TABLE assets across a restart with dataDir', { timeout: 60_000 }, async () => {
    await emulator.restart();
    expect(await evaluate(ee.FeatureCollection(`${ROOT}/m/ab`).size())).toBe(5);
    expect(await runTask(toAsset(ee.FeatureCollection(`${ROOT}/m/ab`).merge(ee.FeatureCollection(`${ROOT}/m/c`)), `${ROOT}/m/abc`))).toEqual({ state: 'SUCCEEDED', error: null });
    await emu.sync();
    expect(asset(`${ROOT}/m/abc`)).toMatchObject({ featureCount: 6 });
  });
});
