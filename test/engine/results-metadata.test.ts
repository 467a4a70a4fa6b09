import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rectangleJob } from '../helpers/job';
import { runJob, useEmulator } from '../helpers/emulator';
import { parseJob } from '../../main/core/job/job-file';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20 });

const gdalinfo = (path: string) => JSON.parse(execFileSync('gdalinfo', ['-json', path], { encoding: 'utf8' })) as { bands: { description?: string; noDataValue?: number }[] };
const pixel = (path: string, x: number, y: number) => execFileSync('gdallocationinfo', ['-valonly', '-geoloc', path, String(x), String(y)], { encoding: 'utf8' }).trim().split('\n');

describe('results that carry their metadata', () => {
  it('the VRT names its bands and carries the NoData of the tiles', async () => {
    const job = rectangleJob('meta', 2, 1, { export: { noData: -9999 } });
    const r = await runJob(job.file, emu.url);
    expect(r.code, r.stderr).toBe(0);
    const vrt = gdalinfo(join(job.output, 'meta.vrt'));
    expect(vrt.bands.map((b) => b.description)).toEqual(['a', 'b']);
    expect(vrt.bands.map((b) => b.noDataValue)).toEqual([-9999, -9999]);
  });

  it('export.maskToRoi: pixels outside the ROI are NoData, inside keep their values', async () => {
    // A triangle over 2 × 2 tiles of 1280 m: its lower-right half is outside.
    const job = rectangleJob('masked', 2, 2, { export: { noData: -9999, maskToRoi: true } });
    const size = 1280;
    const [x0, y0] = [Math.round(4_000_000 / size) * size, Math.round(3_000_000 / size) * size];
    writeFileSync(
      join(job.dir, 'area.geojson'),
      JSON.stringify({ type: 'FeatureCollection', crs: { type: 'name', properties: { name: 'EPSG:3035' } }, features: [{ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[x0, y0], [x0 + 2 * size, y0 + 2 * size], [x0, y0 + 2 * size], [x0, y0]]] } }] }),
    );
    const r = await runJob(job.file, emu.url);
    expect(r.code, r.stderr).toBe(0);
    const vrt = join(job.output, 'masked.vrt');
    // Inside the triangle (upper left): values. Outside (lower right): NoData.
    expect(pixel(vrt, x0 + 300, y0 + 2 * size - 300).some((v) => v === '-9999')).toBe(false);
    expect(pixel(vrt, x0 + 2 * size - 300, y0 + 300)).toEqual(['-9999', '-9999']);
  });

  it('export.maskToRoi without export.noData is refused with one line', () => {
    const raw = { name: 'm', roi: 'a.geojson', grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 100 }, drive: { folder: 'm' }, output: 'out', export: { maskToRoi: true } };
    expect(() => parseJob(raw, '/j/job.json')).toThrow(/"export\.maskToRoi" needs "export\.noData"/);
  });
});
