/**
 * Issue 13: the asset-count gate (a job waits, visibly, while the project's asset quota is full and
 * goes on when it frees; a job that alone exceeds the quota stops with exit 3 naming the limit), and the
 * mosaic choice for image jobs (one IMAGE asset on the job's grid instead of the image collection).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type EmulatorHandle } from '../../main/emulator';
import { BIN } from '../helpers/cli';
import { runJob } from '../helpers/emulator';
import { rectangleJob } from '../helpers/job';
import { eeCall, useEmulatorWithEe, waitFor, type Ee as EeBase } from '../emulator/google-clients';

type Ee = { (...args: unknown[]): Ee; new (...args: unknown[]): Ee } & { readonly [K in keyof EeBase | 'createFolder' | 'deleteAsset']: Ee };

const PROJECT = 'tessera-gate';
const ROOT = `projects/${PROJECT}/assets`;
let emu: EmulatorHandle;
let ee: Ee;

useEmulatorWithEe<Ee>({ timeScale: 1000, taskBaseSeconds: 20, slots: 4, dataDir: mkdtempSync(join(tmpdir(), 'emu-gate-')) }, PROJECT, (started) => ({ emu, ee } = started));

const liveIn = (prefix: string) => emu.state().assets.filter((a) => a.deletedAt === null && a.name.startsWith(`${prefix}/`));
const imageJob = (name: string, cols: number, rows: number, folder: string, extra: Record<string, unknown> = {}) =>
  rectangleJob(name, cols, rows, { drive: undefined, destination: { type: 'asset', folder, ...extra }, maxInFlight: 6 }, 64);

describe('the asset-count gate', () => {
  it('waits (asset-quota) while the project is full, and goes on once assets are freed', { timeout: 120_000 }, async () => {
    await eeCall((cb) => ee.data.createFolder(`${ROOT}/fill`, false, cb));
    for (let i = 0; i < 5; i++) await eeCall((cb) => ee.data.createFolder(`${ROOT}/fill/f${i}`, false, cb));
    // 6 assets now; the job makes its folder and collection (2) and has 6 tiles: room for 3 of them.
    await emu.configure({ maxAssets: 6 + 2 + 3 });
    const job = imageJob('gate', 3, 2, `${ROOT}/gate/ic`);
    const running = runJob(job.file, emu.url, {}, 100_000);
    const status = await waitFor('the job to wait for asset quota', async () => {
      await emu.sync();
      const s = spawnSync(process.execPath, [BIN, 'status', job.file, '--json'], { encoding: 'utf8' });
      const v = JSON.parse(s.stdout || '{}') as { waiting?: string; tiles?: Record<string, number> };
      return v.waiting === 'asset-quota' && v.tiles?.done === 3 ? v : undefined;
    }, 60_000, 200);
    expect(status.tiles).toMatchObject({ done: 3, pending: 3, failed: 0 });
    expect(liveIn(`${ROOT}/gate/ic`)).toHaveLength(3);
    // Still waiting a moment later: nothing was sent that could fail.
    await new Promise((r) => setTimeout(r, 500));
    expect(emu.state().operations.filter((o) => o.description?.startsWith('gate_'))).toHaveLength(3);

    for (let i = 0; i < 5; i++) await eeCall((cb) => ee.data.deleteAsset(`${ROOT}/fill/f${i}`, cb));
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    await emu.sync();
    expect(liveIn(`${ROOT}/gate/ic`)).toHaveLength(6);
    const ops = emu.state().operations.filter((o) => o.description?.startsWith('gate_'));
    expect(ops.map((o) => o.state)).toEqual(Array(6).fill('SUCCEEDED'));
    const after = spawnSync(process.execPath, [BIN, 'status', job.file, '--json'], { encoding: 'utf8' });
    expect(JSON.parse(after.stdout)).toMatchObject({ waiting: null, tiles: { done: 6 } });
  });

  it('stops with exit 3 and one line naming the limit when the job alone can never fit', { timeout: 60_000 }, async () => {
    await emu.configure({ maxAssets: 10 });
    const job = imageJob('huge', 4, 3, 'projects/tessera-huge/assets/big/ic');
    const r = await runJob(job.file, emu.url);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/asset quota allows 10 assets, but this job alone needs 12/);
    expect(emu.state().operations.filter((o) => o.description?.startsWith('huge_'))).toHaveLength(0);
    await emu.configure({ maxAssets: 10_000 });
  });
});

describe('image jobs: mosaic instead of the image collection', () => {
  it('exports one IMAGE asset on the job grid, verifies it, then deletes the tile images', { timeout: 120_000 }, async () => {
    const folder = `${ROOT}/mos/ic`;
    const job = imageJob('mos', 3, 2, folder, { imageMerge: 'mosaic' });
    const r = await runJob(job.file, emu.url);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`merged: ${folder}_mosaic: a mosaic of 6 tile images, 192×128 pixels`);
    await emu.sync();
    const s = emu.state();
    const tiles = s.assets.filter((a) => a.name.startsWith(`${folder}/mos_`));
    expect(tiles).toHaveLength(6);
    expect(tiles.every((a) => a.type === 'IMAGE' && a.deletedAt !== null)).toBe(true);
    const mosaic = s.assets.filter((a) => a.name === `${folder}_mosaic`);
    expect(mosaic).toEqual([expect.objectContaining({ type: 'IMAGE', deletedAt: null, dimensions: [192, 128] })]);
    // The same pixels as the tiles together (same bands, same grid extent).
    expect(mosaic[0]!.sizeBytes).toBe(tiles.reduce((n, a) => n + (a.sizeBytes ?? 0), 0));
    expect(s.assets.find((a) => a.name === folder)).toMatchObject({ type: 'IMAGE_COLLECTION', deletedAt: null });
  });
});
