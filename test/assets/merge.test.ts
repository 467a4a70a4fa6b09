/**
 * Issue 13's merge, end to end: `tessera run` of table jobs to assets merges the tile assets server-side
 * into one TABLE asset, verifies its feature count against the tiles', and only then deletes the job's
 * temporary assets — nothing else in the folder. Crashes between merge and clean-up and mid-clean-up
 * resume safely; a wrong count deletes nothing; `tessera assets merge` does and resumes the same merge.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type EmulatorHandle } from '../../main/emulator';
import { tesseraAsync } from '../helpers/cli';
import { runJob } from '../helpers/emulator';
import { rectangleJob, type TestJob } from '../helpers/job';
import { eeCall, runEmulatorTask, useEmulatorWithEe, type Ee as EeBase } from '../emulator/google-clients';

type Ee = { (...args: unknown[]): Ee; new (...args: unknown[]): Ee } & { readonly [K in keyof EeBase | 'FeatureCollection' | 'Feature' | 'toAsset' | 'createFolder']: Ee };

const TILE = 64;
const SIZE = TILE * 10;
const X0 = Math.round(4_000_000 / SIZE) * SIZE;
const Y0 = Math.round(3_000_000 / SIZE) * SIZE;
const PROJECT = 'tessera-test';
const ROOT = `projects/${PROJECT}/assets`;

let emu: EmulatorHandle;
let ee: Ee;

useEmulatorWithEe<Ee>({ timeScale: 1000, taskBaseSeconds: 20, slots: 8, dataDir: mkdtempSync(join(tmpdir(), 'emu-merge-')) }, PROJECT, (started) => ({ emu, ee } = started));

const cli = (args: string[], env: Record<string, string> = {}) => tesseraAsync(args, { env, cwd: process.cwd() });

/** A points job over cols × rows tiles with ((c + 2r) mod 3) + 1 points in tile (c, r); returns the job and the point count. */
function pointsJob(name: string, cols: number, rows: number, folder: string, destination: Record<string, unknown> = {}): { job: TestJob; total: number } {
  const probe = rectangleJob(name, cols, rows, {}, TILE);
  const pts: [number, number][] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const k = ((c + 2 * r) % 3) + 1;
      for (let m = 0; m < k; m++) pts.push([X0 + c * SIZE + 15 + 90 * m, Y0 + r * SIZE + 15 + 90 * m]);
    }
  }
  writeFileSync(join(probe.dir, 'points.geojson'), JSON.stringify({
    type: 'FeatureCollection',
    crs: { type: 'name', properties: { name: 'EPSG:3035' } },
    features: pts.map((c, k) => ({ type: 'Feature', properties: { plot: `P${k}` }, geometry: { type: 'Point', coordinates: c } })),
  }));
  const job = rectangleJob(name, cols, rows, {
    drive: undefined,
    destination: { type: 'asset', folder, ...destination },
    maxInFlight: 12,
    points: join(probe.dir, 'points.geojson'),
    recipe: { preset: 'points', params: { image: { preset: 'asset', params: { id: 'projects/tessera-test/assets/dem' } } } },
  }, TILE);
  return { job, total: pts.length };
}

async function runTask(task: Ee): Promise<void> {
  const r = await runEmulatorTask(emu, task as unknown as EeBase);
  if (r.state !== 'SUCCEEDED') throw new Error(`task ${r.state}: ${r.error}`);
}

const assetsUnder = (folder: string) => emu.state().assets.filter((a) => a.name.startsWith(`${folder}/`) && !a.name.slice(folder.length + 1).includes('/'));
const tileAssets = (folder: string, job: string) => assetsUnder(folder).filter((a) => new RegExp(`^${folder}/${job}_x\\d+_y\\d+$`).test(a.name));
const live = (folder: string) => assetsUnder(folder).filter((a) => a.deletedAt === null);

describe('merging table asset jobs', () => {
  it('merges 50 tile tables into one asset with every point, deletes the 50 temporaries and nothing else', { timeout: 180_000 }, async () => {
    const folder = `${ROOT}/mg/pts`;
    // Unrelated assets in the same folder: a table, an image, and names that look like tile assets.
    await eeCall((cb) => ee.data.createFolder(`${ROOT}/mg`, false, cb));
    await eeCall((cb) => ee.data.createFolder(folder, false, cb));
    const fc = (n: number) => ee.FeatureCollection(Array.from({ length: n }, (_, i) => ee.Feature(ee.Geometry.Point([6 + i / 100, 49.5]), { i })));
    await runTask(ee.batch.Export.table.toAsset({ collection: fc(2), description: 'seed', assetId: `${folder}/notes` }));
    await runTask(ee.batch.Export.table.toAsset({ collection: fc(1), description: 'seed', assetId: `${folder}/otherjob_x1_y1` }));
    await runTask(ee.batch.Export.table.toAsset({ collection: fc(1), description: 'seed', assetId: `${folder}/mjob_x999_y999` }));
    await runTask(ee.batch.Export.image.toAsset({ image: ee.Image(1).toFloat(), description: 'seed', assetId: `${folder}/photo`, crs: 'EPSG:32632', crsTransform: [10, 0, 600000, 0, -10, 5400000], dimensions: '16x16' }));
    const seeded = live(folder).map((a) => a.name).sort();
    expect(seeded).toHaveLength(4);

    const { job, total } = pointsJob('mjob', 10, 5, folder);
    // Batches of 20: three intermediate assets, then the final merge (100 per batch in real use).
    const r = await runJob(job.file, emu.url, { TESSERA_MERGE_BATCH: '20' }, 150_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`merged: ${folder}/mjob: ${total} features merged from 50 tile assets`);
    await emu.sync();
    const s = emu.state();
    const tiles = tileAssets(folder, 'mjob').filter((a) => a.name !== `${folder}/mjob_x999_y999`);
    expect(tiles).toHaveLength(50);
    expect(tiles.reduce((n, a) => n + (a.featureCount ?? 0), 0)).toBe(total);
    expect(tiles.every((a) => a.deletedAt !== null)).toBe(true);
    const merged = s.assets.filter((a) => a.name === `${folder}/mjob`);
    expect(merged).toEqual([expect.objectContaining({ type: 'TABLE', featureCount: total, deletedAt: null })]);
    // The intermediate assets were made, and are gone too.
    const intermediates = assetsUnder(folder).filter((a) => /\/mjob_merge_\d+_\d+$/.test(a.name));
    expect(intermediates).toHaveLength(3);
    expect(intermediates.every((a) => a.deletedAt !== null)).toBe(true);
    // Everything else in the folder is untouched; the folder holds exactly those and the result.
    expect(live(folder).map((a) => a.name).sort()).toEqual([...seeded, `${folder}/mjob`].sort());
    // No tile asset was deleted before the final merge export had ended.
    const finalOp = s.operations.find((o) => o.description === 'mjob_merge_a1' && o.state === 'SUCCEEDED');
    expect(finalOp?.endTime).toBeTruthy();
    for (const t of tiles) expect(Date.parse(t.deletedAt!)).toBeGreaterThanOrEqual(Date.parse(finalOp!.endTime!));

    // Running again changes nothing.
    const again = await runJob(job.file, emu.url);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/merged before/);
    expect(live(folder).map((a) => a.name).sort()).toEqual([...seeded, `${folder}/mjob`].sort());
  });

  it('resumes after crashes between merge and clean-up and mid-clean-up, deleting nothing before the merge is verified', { timeout: 240_000 }, async () => {
    const folder = `${ROOT}/mg/crash`;
    const { job, total } = pointsJob('cjob', 3, 2, folder);
    const env = { TESSERA_MERGE_BATCH: '2' }; // 6 tiles → 3 + 2 intermediates → final
    const first = await runJob(job.file, emu.url, { ...env, TESSERA_CRASH_AT: 'after-merge:1' });
    expect(first.signal, first.stderr).toBe('SIGKILL');
    await emu.sync();
    expect(live(folder).find((a) => a.name === `${folder}/cjob`)).toMatchObject({ type: 'TABLE', featureCount: total });
    // Killed after the merge was verified and before any clean-up: every temporary is still there.
    expect(tileAssets(folder, 'cjob').filter((a) => a.deletedAt !== null)).toEqual([]);
    expect(live(folder).filter((a) => /_merge_/.test(a.name))).toHaveLength(5);
    const status = await cli(['status', job.file, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ merge: { target: `${folder}/cjob`, tiles: 6, state: 'cleaning', deleted: 0 } });

    const second = await runJob(job.file, emu.url, { ...env, TESSERA_CRASH_AT: 'mid-cleanup:3' });
    expect(second.signal, second.stderr).toBe('SIGKILL');
    await emu.sync();
    expect(assetsUnder(folder).filter((a) => a.deletedAt !== null)).toHaveLength(3);

    const third = await runJob(job.file, emu.url, env);
    expect(third.code, third.stderr).toBe(0);
    await emu.sync();
    expect(live(folder).map((a) => a.name)).toEqual([`${folder}/cjob`]);
    expect(live(folder)[0]).toMatchObject({ featureCount: total });
    // One merge export per step, never repeated across the restarts.
    const mergeOps = emu.state().operations.filter((o) => o.description?.startsWith('cjob_merge'));
    expect(mergeOps.filter((o) => o.state === 'SUCCEEDED')).toHaveLength(6);
    expect(new Set(mergeOps.map((o) => o.description)).size).toBe(mergeOps.length);
    // No deletion happened twice, and none before the final merge ended.
    const finalOp = mergeOps.find((o) => o.description === 'cjob_merge_a1')!;
    for (const a of assetsUnder(folder).filter((x) => x.deletedAt !== null)) expect(Date.parse(a.deletedAt!)).toBeGreaterThanOrEqual(Date.parse(finalOp.endTime!));
    expect(assetsUnder(folder).filter((a) => a.deletedAt !== null)).toHaveLength(6 + 5);
  });

  it('deletes nothing when the merged count is wrong or a tile asset is gone, and says why in one line', { timeout: 180_000 }, async () => {
    const folder = `${ROOT}/mg/mismatch`;
    const { job, total } = pointsJob('xjob', 3, 2, folder, { merge: false });
    const r = await runJob(job.file, emu.url);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/merged:/);
    await emu.sync();
    expect(live(folder)).toHaveLength(6); // merge: false leaves the tiles as they are

    await emu.configure({ dropFeatures: 1 }); // the merged table loses a feature
    const bad = await cli(['assets', 'merge', job.file, '--emulator', emu.url]);
    expect(bad.code).toBe(3);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain(`${folder}/xjob holds ${total - 1} features but its 6 inputs hold ${total}; nothing was deleted`);
    await emu.sync();
    expect(tileAssets(folder, 'xjob').every((a) => a.deletedAt === null)).toBe(true);
    expect(tileAssets(folder, 'xjob')).toHaveLength(6);

    // The user removes the bad result, and (by mistake) one tile asset: the merge refuses, deletes nothing.
    await emu.configure({ dropFeatures: 0 });
    const [gone] = tileAssets(folder, 'xjob');
    const rm = await cli(['assets', 'rm', `${folder}/xjob`, gone!.name, '--yes', '--emulator', emu.url]);
    expect(rm.code, rm.stderr).toBe(0);
    const partial = await cli(['assets', 'merge', job.file, '--emulator', emu.url]);
    expect(partial.code).toBe(2);
    expect(partial.stderr.trim().split('\n')).toHaveLength(1);
    expect(partial.stderr).toContain(`Collection asset '${gone!.name}' not found`);
    expect(partial.stderr).toContain('nothing was deleted');
    await emu.sync();
    expect(live(folder)).toHaveLength(5);
    expect(live(folder).every((a) => a.name !== `${folder}/xjob`)).toBe(true);
  });

  it('tessera assets merge merges a finished table job explicitly (no longer "not implemented")', { timeout: 120_000 }, async () => {
    const folder = `${ROOT}/mg/explicit`;
    const { job, total } = pointsJob('ejob', 2, 2, folder, { merge: false, mergedAsset: `${ROOT}/mg/explicit-merged` });
    const r = await runJob(job.file, emu.url);
    expect(r.code, r.stderr).toBe(0);
    const m = await cli(['assets', 'merge', job.file, '--json', '--emulator', emu.url]);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).not.toMatch(/not implemented/);
    expect(JSON.parse(m.stdout)).toEqual({ job: 'ejob', merged: `${ROOT}/mg/explicit-merged`, type: 'TABLE', tiles: 4, featureCount: total, deleted: 4 });
    await emu.sync();
    expect(live(folder)).toHaveLength(0);
    expect(emu.state().assets.find((a) => a.name === `${ROOT}/mg/explicit-merged`)).toMatchObject({ type: 'TABLE', featureCount: total, deletedAt: null });
    const twice = await cli(['assets', 'merge', job.file, '--emulator', emu.url]);
    expect(twice.code, twice.stderr).toBe(0);
    expect(twice.stdout).toMatch(/merged before/);
  });
});
