/**
 * Asset jobs (issue 13): `destination: { type: "asset", folder }` exports each tile to
 * `{folder}/{job}_{tileId}` (the image collection is created when missing); a tile is done once its
 * asset is verified in EE, with no Drive involvement; SIGKILLs at the dangerous moments still end with
 * exactly one asset per tile, none overwritten.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rectangleJob } from '../helpers/job';
import { runJob, useEmulator } from '../helpers/emulator';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20, slots: 2, dataDir: mkdtempSync(join(tmpdir(), 'emu-assets-')) });

function assetJob(name: string, cols: number, rows: number, folder: string) {
  return rectangleJob(name, cols, rows, { drive: undefined, destination: { type: 'asset', folder }, maxInFlight: 4 }, 64);
}

describe('asset jobs', () => {
  it('exports every tile to its own IMAGE asset in a new image collection, without Drive', async () => {
    const folder = 'projects/tessera-test/assets/jobs/plain';
    const job = assetJob('plain', 3, 2, folder);
    const r = await runJob(job.file, emu.url);
    expect(r.code, r.stderr).toBe(0);
    await emu.sync();
    const s = emu.state();
    expect(s.assets.find((a) => a.name === folder)).toMatchObject({ type: 'IMAGE_COLLECTION', deletedAt: null });
    expect(s.assets.find((a) => a.name === 'projects/tessera-test/assets/jobs')).toMatchObject({ type: 'FOLDER' });
    const tiles = s.assets.filter((a) => a.name.startsWith(`${folder}/`));
    expect(tiles).toHaveLength(6);
    for (const a of tiles) {
      expect(a.name).toMatch(new RegExp(`^${folder}/plain_[A-Za-z0-9_-]+$`));
      expect(a).toMatchObject({ type: 'IMAGE', deletedAt: null });
      expect(a.sizeBytes).toBeGreaterThan(0);
    }
    expect(s.files).toHaveLength(0); // nothing in Drive
    const status = await runJob(job.file, emu.url); // re-running a finished job changes nothing
    expect(status.code, status.stderr).toBe(0);
    expect(emu.state().assets.filter((a) => a.name.startsWith(`${folder}/`))).toHaveLength(6);
  });

  it('SIGKILLed before and after exports, ends with exactly one asset per tile, none overwritten', { timeout: 300_000 }, async () => {
    const folder = 'projects/tessera-test/assets/crashy';
    const job = assetJob('crashy', 4, 3, folder);
    let killed = 0;
    for (const at of ['after-export:1', 'before-export:2', 'after-export:3', 'after-export:2', 'before-export:1']) {
      const r = await runJob(job.file, emu.url, { TESSERA_CRASH_AT: at }, 120_000);
      if (r.signal === 'SIGKILL') killed++;
      else expect(r.code, r.stderr).toBe(0);
    }
    expect(killed).toBeGreaterThanOrEqual(4);
    const last = await runJob(job.file, emu.url);
    expect(last.code, last.stderr).toBe(0);
    await emu.sync();
    const s = emu.state();
    const tiles = s.assets.filter((a) => a.name.startsWith(`${folder}/`));
    expect(tiles.filter((a) => a.deletedAt !== null)).toEqual([]);
    expect(new Set(tiles.map((a) => a.name)).size).toBe(12);
    expect(tiles).toHaveLength(12);
    // No tile's export was started twice (requestId / description idempotency).
    const ops = s.operations.filter((o) => o.description?.startsWith('crashy_'));
    expect(ops.filter((o) => o.state === 'SUCCEEDED')).toHaveLength(12);
  });

  it('refuses an asset folder that is not under projects/…/assets with one clear line', async () => {
    const job = assetJob('badfolder', 1, 1, 'users/me/tiles');
    const r = await runJob(job.file, emu.url);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/destination\.folder/);
  });
});
