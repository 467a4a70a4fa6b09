// A stray file that is not a GeoTIFF under a tile's output name must not stop the mosaic: it is left out,
// with a warning naming it (main/core/recipes/results.ts).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGeoTiff } from '../../main/emulator/geotiff/writer';
import { parseJob } from '../../main/core/job/job-file';
import { emptySnapshot, applyEntry } from '../../main/core/job/state';
import { updateResults } from '../../main/core/recipes/results';

describe('the mosaic skips a stray non-GeoTIFF file', () => {
  it('writes the VRT over the good tiles and warns once about the bad one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-stray-'));
    const out = join(dir, 'out');
    mkdirSync(out);
    const job = parseJob({ name: 'stray', roi: 'area.geojson', grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 64 }, drive: { folder: 'f' }, output: 'out' }, join(dir, 'job.json'));
    const state = emptySnapshot();
    const at = new Date().toISOString();
    const tiles = [0, 1].map((i) => ({ id: `x${6250 + i}_y4687`, crs: 'EPSG:3035', crsTransform: [10, 0, (6250 + i) * 640, 0, -10, 4688 * 640] as [number, number, number, number, number, number], dimensions: [64, 64] as [number, number] }));
    applyEntry(state, { seq: 1, at, type: 'plan', tiles });
    let seq = 2;
    for (const t of tiles) {
      const name = `stray_${t.id}.tif`;
      if (t === tiles[0]) {
        await writeGeoTiff(join(out, name), { width: 64, height: 64, bands: [{ name: 'b', dataType: 'UInt8' }], crs: 'EPSG:3035', crsTransform: t.crsTransform }, () => 1);
      }
      applyEntry(state, { seq: seq++, at, type: 'tile', id: t.id, patch: { state: 'done', files: [{ id: `f${seq}`, name, size: 1, md5: 'x', verified: true, cleaned: true }] } });
    }
    // The second tile's file: the same name, but not a GeoTIFF (a user's file, a broken copy).
    writeFileSync(join(out, `stray_${tiles[1]!.id}.tif`), 'this is not a TIFF at all\n');
    const warnings: string[] = [];
    const r = await updateResults(job, state, undefined, (m) => warnings.push(m));
    expect(r.mosaic).toBe(join(out, 'stray.vrt'));
    const xml = readFileSync(r.mosaic!, 'utf8');
    expect(xml).toContain(`stray_${tiles[0]!.id}.tif`);
    expect(xml).not.toContain(`stray_${tiles[1]!.id}.tif`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`stray_${tiles[1]!.id}\\.tif is not a GeoTIFF.*left out of the mosaic`));
  });
});
