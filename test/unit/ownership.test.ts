/**
 * The rules of docs/ownership.md, piece by piece: which Drive files are a tile's, when its outputs are
 * complete, what its GeoTIFFs' grids must be, the lease, foreign operations, local files, and which
 * failures are lost answers or "too big".
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeGeoTiff } from '../../main/emulator/geotiff/writer';
import { classifyTaskFailure } from '../../main/core/engine/failures';
import { adoptionPlan, findForeignOperations } from '../../main/core/engine/foreign-ops';
import type { DriveFile, DriveTextFile } from '../../main/core/google/drive';
import type { Operation } from '../../main/core/google/earthengine';
import { isTransientEeMessage } from '../../main/core/google/transient';
import type { TileRecord } from '../../main/core/job/state';
import { checkGrids, checkOutputGrids, readRasterGrid, type TileGrid } from '../../main/core/sync/grid-check';
import { acquireLease, LEASE_STALE_MS, type LeaseDrive } from '../../main/core/sync/lease';
import { unknownLocalOutputs } from '../../main/core/sync/local-guard';
import { completeness, judgeFiles, partOffsets } from '../../main/core/sync/ownership';

const file = (name: string, createdTime?: string, id = name): DriveFile => ({ id, name, size: 1, md5: 'x', ...(createdTime ? { createdTime } : {}) });

function tile(id: string, patch: Partial<TileRecord> = {}): TileRecord {
  return { id, crs: 'EPSG:3035', crsTransform: [10, 0, 4_000_000, 0, -10, 3_001_600], dimensions: [128, 128], state: 'pending', attempt: 0, files: [], history: [], ...patch };
}

describe('ownership of Drive files', () => {
  it('takes only files no older than the operation; older same-named files are foreign', () => {
    const v = judgeFiles(
      [file('j_x1_y1.tif', '2026-01-01T09:59:59Z', 'old'), file('j_x1_y1.tif', '2026-01-01T10:00:00Z', 'new'), file('j_x1_y10.tif', '2026-01-01T11:00:00Z'), file('notes.txt', '2026-01-01T11:00:00Z')],
      'j', 'x1_y1', '2026-01-01T10:00:00Z',
    );
    expect(v.owned.map((f) => f.id)).toEqual(['new']);
    expect(v.foreign.map((f) => f.id)).toEqual(['old']);
  });

  it('a file without createdTime cannot be shown to be ours: foreign', () => {
    expect(judgeFiles([file('j_x1_y1.tif')], 'j', 'x1_y1', '2026-01-01T10:00:00Z').foreign).toHaveLength(1);
  });

  it('two owned files of one name are ambiguous: neither is taken', () => {
    const v = judgeFiles([file('j_x1_y1.tif', '2026-01-01T10:00:01Z', 'a'), file('j_x1_y1.tif', '2026-01-01T10:00:02Z', 'b')], 'j', 'x1_y1', '2026-01-01T10:00:00Z');
    expect(v.owned).toEqual([]);
    expect(v.ambiguous).toEqual(['j_x1_y1.tif']);
  });

  it('tolerates any digits in split part names, and finds the missing parts of a split output', () => {
    expect(partOffsets('j_x1_y1-0-256.tif', 'j', 'x1_y1')).toEqual([0, 256]);
    expect(partOffsets('j_x1_y1-0000000256-0000000000.tif', 'j', 'x1_y1')).toEqual([256, 0]);
    const parts = (names: string[]) => completeness(names.map((n) => file(n)), 'j', 'x1_y1', [500, 300], 256, false);
    expect(parts(['j_x1_y1-0-0.tif', 'j_x1_y1-0-256.tif', 'j_x1_y1-256-0.tif', 'j_x1_y1-256-256.tif']).complete).toBe(true);
    const short = parts(['j_x1_y1-0-0.tif', 'j_x1_y1-0-256.tif', 'j_x1_y1-256-0.tif']);
    expect(short).toEqual({ complete: false, missing: ['j_x1_y1-0000000256-0000000256.tif'] });
    // Earth Engine cut smaller than fileDimensions: the grid is read from the offsets present.
    expect(completeness(['0-0', '0-128', '128-0', '128-128'].map((o) => file(`j_x1_y1-${o}.tif`)), 'j', 'x1_y1', [256, 256], 256, false).complete).toBe(true);
    expect(completeness([], 'j', 'x1_y1', [128, 128], 256, false)).toEqual({ complete: false, missing: ['j_x1_y1.tif'] });
    expect(completeness([file('j_x1_y1.csv')], 'j', 'x1_y1', [128, 128], 256, true).complete).toBe(true);
  });
});

describe('the grid of each output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-grid-'));
  const grid: TileGrid = { crs: 'EPSG:3035', crsTransform: [10, 0, 4_000_000, 0, -10, 3_001_600], dimensions: [100, 60] };
  const write = async (name: string, spec: Partial<Parameters<typeof writeGeoTiff>[1]> = {}) => {
    const path = join(dir, name);
    await writeGeoTiff(path, { width: 100, height: 60, bands: [{ name: 'b', dataType: 'UInt8' }], crs: 'EPSG:3035', crsTransform: [10, 0, 4_000_000, 0, -10, 3_001_600], ...spec }, () => 1);
    return { name, grid: await readRasterGrid(path) };
  };

  it("accepts the tile's own grid, whole or as parts that cover it exactly", async () => {
    expect(checkGrids(grid, [await write('whole.tif')], false)).toBeUndefined();
    const parts = [
      await write('p00.tif', { window: { col0: 0, row0: 0, width: 64, height: 60 } }),
      await write('p01.tif', { window: { col0: 64, row0: 0, width: 36, height: 60 } }),
    ];
    expect(checkGrids(grid, parts, false)).toBeUndefined();
    // A part missing: allowed only where empty parts leave no file (skipEmptyTiles).
    expect(checkGrids(grid, parts.slice(0, 1), false)).toMatch(/cover 3840 of the tile's 6000 pixels/);
    expect(checkGrids(grid, parts.slice(0, 1), true)).toBeUndefined();
  });

  it('names both grids when size, place, pixel or CRS differ', async () => {
    expect(checkGrids(grid, [await write('moved.tif', { crsTransform: [10, 0, 4_001_000, 0, -10, 3_001_600] })], false)).toMatch(
      /^moved\.tif: not inside the tile: the file's grid is 100×60 px from \(4001000, 3001600\), pixel 10×-10, EPSG:3035; the tile's is 100×60 px from \(4000000, 3001600\), pixel 10×-10, EPSG:3035$/,
    );
    expect(checkGrids(grid, [await write('coarse.tif', { crsTransform: [20, 0, 4_000_000, 0, -20, 3_001_600], width: 50, height: 30 })], false)).toMatch(/another pixel size/);
    expect(checkGrids(grid, [await write('utm.tif', { crs: 'EPSG:32632' })], false)).toMatch(/another CRS.*EPSG:32632.*EPSG:3035/);
    expect(checkGrids(grid, [await write('small.tif', { width: 90 })], false)).toMatch(/cover 5400 of the tile's 6000/);
  });

  it('a download that is not a GeoTIFF fails the tile naming the file', async () => {
    writeFileSync(join(dir, 'junk.tif'), 'not a tiff');
    expect(await checkOutputGrids(dir, { ...grid, files: [{ name: 'junk.tif' }] }, false)).toMatch(/^junk\.tif: not a readable GeoTIFF/);
  });
});

describe('lost answers and wording', () => {
  it('a request without any HTTP answer is transient, as the EE client words it', () => {
    for (const m of ['Invalid JSON: Error: other side closed', 'Invalid JSON: Error: Headers Timeout Error', 'Invalid JSON: Error: Body Timeout Error', 'Invalid JSON: Error: getaddrinfo ENOTFOUND earthengine.googleapis.com', 'Server returned HTTP code: 408 for POST x']) {
      expect(isTransientEeMessage(m), m).toBe(true);
    }
    expect(isTransientEeMessage('Image.load: Asset not found.')).toBe(false);
  });

  it('"Deadline expired before operation could complete." means too big: split', () => {
    expect(classifyTaskFailure('Deadline expired before operation could complete.')).toBe('split');
  });
});

describe('foreign operations', () => {
  const op = (name: string, description: string, state: string): Operation => ({ name, metadata: { description, state } });
  const tiles = { x1_y1: tile('x1_y1', { attempt: 2, state: 'running', operation: 'ops/b' }), x2_y1: tile('x2_y1'), x3_y1: tile('x3_y1', { attempt: 1, state: 'submitting' }) };

  it('are the job’s operations this journal did not start', () => {
    const found = findForeignOperations(
      [op('ops/a', 'j_x1_y1_a1', 'FAILED'), op('ops/b', 'j_x1_y1_a2', 'RUNNING'), op('ops/c', 'j_x2_y1_a1', 'RUNNING'), op('ops/d', 'j_x3_y1_a1', 'PENDING'), op('ops/e', 'jj_x2_y1_a1', 'RUNNING'), op('ops/f', 'j_x9_y9_q0_a1', 'SUCCEEDED'), op('ops/g', 'j_merge_a1', 'RUNNING')],
      'j', tiles,
    );
    // a: an earlier attempt of ours; b: ours; d: our unanswered export (reconcile adopts it); e: another job.
    expect(found.map((f) => f.op.name)).toEqual(['ops/c', 'ops/f']);
    const plan = adoptionPlan(found, tiles);
    expect([...plan.adopt.keys()]).toEqual(['x2_y1']);
    expect(plan.notInPlan.map((f) => f.tileId)).toEqual(['x9_y9_q0']);
  });
});

describe('local files the journal did not write', () => {
  it('are the output-named files no tile lists; other files and exempt tiles are left out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-local-'));
    for (const n of ['j_x1_y1.tif', 'j_x2_ym3_q1-0000000000-0000000256.tif', 'j_x3_y1.tif', 'j.vrt', 'j_x4_y1.tif.part', 'k_x1_y1.tif', 'j_notes.tif']) writeFileSync(join(dir, n), '');
    const known = { x3_y1: tile('x3_y1', { files: [{ id: 'f', name: 'j_x3_y1.tif', size: 0, md5: '', verified: true, cleaned: true }] }) };
    expect(await unknownLocalOutputs(dir, 'j', known)).toEqual(['j_x1_y1.tif', 'j_x2_ym3_q1-0000000000-0000000256.tif']);
    expect(await unknownLocalOutputs(dir, 'j', known, new Set(['x1_y1']))).toEqual(['j_x2_ym3_q1-0000000000-0000000256.tif']);
  });
});

describe('the lease', () => {
  /** A Drive folder in memory. */
  function fakeDrive(files: { id: string; name: string; text: string }[] = []): LeaseDrive & { files: typeof files } {
    let n = 0;
    return {
      files,
      findFolder: async () => 'folder',
      createFolder: async () => 'folder',
      findByName: async (_f, name) => files.filter((f) => f.name === name).map((f): DriveTextFile => ({ id: f.id, name: f.name })),
      createText: async (_f, name, text) => {
        files.push({ id: `id${++n}`, name, text });
        return `id${n}`;
      },
      updateText: async (id, text) => {
        files.find((f) => f.id === id)!.text = text;
      },
      readText: async (id) => files.find((f) => f.id === id)?.text,
      remove: async (id) => {
        files.splice(files.findIndex((f) => f.id === id), 1);
      },
    };
  }
  const lease = (host: string, pid: number, ageMs: number) => JSON.stringify({ job: 'j', host, pid, runId: `r-${host}`, startedAt: new Date(Date.now() - ageMs).toISOString(), heartbeatAt: new Date(Date.now() - ageMs).toISOString() });

  it("stops for another machine's live lease and takes stale ones over", async () => {
    const live = await acquireLease(fakeDrive([{ id: 'x', name: '.tessera-lease-j.json', text: lease('other', 1, 60_000) }]), { job: 'j', folderName: 'f', host: 'me', pid: 10 });
    expect(live.kind).toBe('locked');
    const old = fakeDrive([{ id: 'x', name: '.tessera-lease-j.json', text: lease('other', 1, LEASE_STALE_MS + 1000) }]);
    const stale = await acquireLease(old, { job: 'j', folderName: 'f', host: 'me', pid: 10 });
    expect(stale.kind).toBe('held');
    expect(stale.kind === 'held' && stale.tookOver.map((t) => t.host)).toEqual(['other']);
    expect(old.files.map((f) => JSON.parse(f.text).host)).toEqual(['me']);
  });

  it('a lease of this machine whose process is gone is stale at once; a live one is not', async () => {
    const dead = await acquireLease(fakeDrive([{ id: 'x', name: '.tessera-lease-j.json', text: lease('me', 999, 1000) }]), { job: 'j', folderName: 'f', host: 'me', pid: 10, alive: () => false });
    expect(dead.kind).toBe('held');
    const alive = await acquireLease(fakeDrive([{ id: 'x', name: '.tessera-lease-j.json', text: lease('me', 999, 1000) }]), { job: 'j', folderName: 'f', host: 'me', pid: 10, alive: () => true });
    expect(alive.kind).toBe('locked');
  });

  it('the heartbeat renews the lease and notices when another run took it over', async () => {
    const drive = fakeDrive();
    const r = await acquireLease(drive, { job: 'j', folderName: 'f', host: 'me', pid: 10 });
    if (r.kind !== 'held') throw new Error('not held');
    const before = JSON.parse(drive.files[0]!.text).heartbeatAt as string;
    let onLost: (m: string) => void = () => undefined;
    const lost = new Promise<string>((resolve) => (onLost = resolve));
    const renewed = new Promise<void>((resolve) => {
      const original = drive.updateText;
      drive.updateText = async (id, text) => {
        await original(id, text);
        resolve();
      };
    });
    r.lease.startHeartbeat((m) => onLost(m), () => undefined, 20);
    await renewed;
    expect(Date.parse(JSON.parse(drive.files[0]!.text).heartbeatAt)).toBeGreaterThanOrEqual(Date.parse(before));
    drive.files[0]!.text = lease('thief', 5, 0);
    const message = await lost;
    r.lease.stopHeartbeat();
    expect(message).toMatch(/taken over by thief \(pid 5\)/);
  });
});
