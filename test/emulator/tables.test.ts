/**
 * Table exports and small evaluations through the unmodified clients: `Export.table.toDrive` of constant
 * features and of `image.sampleRegions(points)` as CSV and GeoJSON, whose band values are the very pixels
 * an image export of the same image holds (read back with GDAL), and `getInfo` through value:compute.
 */
import type { drive_v3 } from '@googleapis/drive';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { resolveCrs, transformer, WGS84 } from '../../main/core/geo/crs';
import type { EmulatorHandle } from '../../main/emulator';
import { useScratchDir } from '../helpers/hooks';
import { eeCall, plain, startTask, useEmulatorWithEe, waitFor, type Ee } from './google-clients';

const PROJECT = 'tables-project';
const UTM = 'EPSG:32632';
/** A 64 × 64 tile of 10 m pixels. */
const TILE = { crs: UTM, crsTransform: [10, 0, 600000, 0, -10, 5400000], dimensions: '64x64' };

let emu: EmulatorHandle;
let ee: Ee;
let drive: drive_v3.Drive;
const scratch = useScratchDir('tessera-emu-tables-');

useEmulatorWithEe({ timeScale: 2000, taskBaseSeconds: 10, dispatchSeconds: 1, slots: 4 }, PROJECT, (started) => ({ emu, ee, drive } = started));

/** Starts a task, waits for it, and returns the bytes of its one output file (or the operation's error). */
async function run(task: Ee): Promise<{ state: string; error?: string; name?: string; bytes?: Buffer }> {
  const name = `projects/${PROJECT}/operations/${await startTask(task)}`;
  const op = await waitFor('the export', async () => {
    const o = plain<{ done?: boolean; error?: { message: string }; metadata: { state: string; destinationUris?: string[] } }>(ee, await eeCall((cb) => ee.data.getOperation(name, cb)));
    return o.done ? o : undefined;
  });
  if (op.error) return { state: op.metadata.state, error: op.error.message };
  const folder = (op.metadata.destinationUris?.[0] as string).split('/').pop() as string;
  const desc = emu.state().operations.find((o) => o.name === name);
  const files = (await drive.files.list({ q: `'${folder}' in parents and trashed = false`, fields: 'files(id,name,mimeType)' })).data.files ?? [];
  const file = files.find((f) => desc?.outputs.includes(f.id as string)) as drive_v3.Schema$File;
  const res = await drive.files.get({ fileId: file.id as string, alt: 'media' }, { responseType: 'stream' });
  const chunks: Buffer[] = [];
  for await (const c of res.data as unknown as Readable) chunks.push(c as Buffer);
  return { state: op.metadata.state, name: file.name as string, bytes: Buffer.concat(chunks) };
}

/** RFC 4180: quoted fields with doubled quotes, commas inside quotes. */
function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',' || c === '\n') {
      row.push(field);
      field = '';
      if (c === '\n') {
        rows.push(row);
        row = [];
      }
    } else field += c;
  }
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries((header as string[]).map((h, i) => [h, r[i] as string])));
}

const points = (): Ee =>
  ee.FeatureCollection([
    ee.Feature(ee.Geometry.Point([600015, 5399985], UTM), { plot: 'a', n: 1 }),
    ee.Feature(ee.Geometry.Point([600333, 5399702], UTM), { plot: 'b,"quoted"', n: 2 }),
    ee.Feature(ee.Geometry.Point([600631, 5399371], UTM), { plot: 'c', n: 3 }),
  ]);

describe('table:export to Drive', () => {
  it('writes constant features as CSV: system:index, the properties, .geo; selectors choose and order columns', async () => {
    const all = await run(ee.batch.Export.table.toDrive({ collection: points(), description: 'const_all', folder: 'tables', fileFormat: 'CSV' }));
    expect(all.name).toBe('const_all.csv');
    const text = (all.bytes as Buffer).toString('utf8');
    expect(text.split('\n')[0]).toBe('system:index,n,plot,.geo');
    const rows = parseCsv(text);
    expect(rows.map((r) => [r['system:index'], r.n, r.plot])).toEqual([['0', '1', 'a'], ['1', '2', 'b,"quoted"'], ['2', '3', 'c']]);
    const geo = JSON.parse(rows[0]?.['.geo'] as string) as { type: string; coordinates: number[] };
    expect(geo.type).toBe('Point');
    const [lon, lat] = transformer(resolveCrs(UTM), WGS84)(600015, 5399985);
    expect(geo.coordinates[0]).toBeCloseTo(lon, 9);
    expect(geo.coordinates[1]).toBeCloseTo(lat, 9);

    const picked = await run(ee.batch.Export.table.toDrive({ collection: points(), description: 'const_sel', folder: 'tables', fileFormat: 'CSV', selectors: ['plot', 'n'] }));
    expect((picked.bytes as Buffer).toString('utf8')).toBe('plot,n\na,1\n"b,""quoted""",2\nc,3\n');
  });

  it('writes one row per point of image.sampleRegions(points), one column per band, with the values of the exported pixels', async () => {
    const image = (): Ee => ee.Image(1).toFloat().addBands(ee.Image(2).toInt16().rename('b2'));
    const samples = image().reproject(UTM, [10, 0, 0, 0, -10, 0]).sampleRegions({ collection: points(), properties: ['plot'], geometries: true });
    const table = await run(ee.batch.Export.table.toDrive({ collection: samples, description: 'samples', folder: 'tables', fileFormat: 'CSV' }));
    const rows = parseCsv((table.bytes as Buffer).toString('utf8'));
    expect(Object.keys(rows[0] as object)).toEqual(['system:index', 'b2', 'constant', 'plot', '.geo']);
    expect(rows.map((r) => [r['system:index'], r.plot])).toEqual([['0_0', 'a'], ['1_0', 'b,"quoted"'], ['2_0', 'c']]);

    // The same image exported as a tile: GDAL reads the same values at the points.
    const tif = await run(ee.batch.Export.image.toDrive({ image: image(), description: 'samples_tile', folder: 'tables', ...TILE }));
    const file = path.join(scratch, 'samples.tif');
    writeFileSync(file, tif.bytes as Buffer);
    const xy = [[600015, 5399985], [600333, 5399702], [600631, 5399371]];
    rows.forEach((r, i) => {
      const [x, y] = xy[i] as [number, number];
      const values = execFileSync('gdallocationinfo', ['-valonly', '-geoloc', file, String(x), String(y)], { encoding: 'utf8' }).trim().split('\n').map(Number);
      expect(Number(r.constant)).toBeCloseTo(values[0] as number, 5);
      expect(Number(r.b2)).toBe(values[1]);
      // geometries: true snaps the point to its pixel's centre.
      const geo = JSON.parse(r['.geo'] as string) as { type: string; coordinates: number[] };
      const [lon, lat] = transformer(resolveCrs(UTM), WGS84)(Math.floor(x / 10) * 10 + 5, Math.floor(y / 10) * 10 + 5);
      expect(geo).toEqual({ type: 'Point', coordinates: [expect.closeTo(lon, 9), expect.closeTo(lat, 9)] });
    });
    expect(new Set(rows.map((r) => r.b2)).size).toBe(3);
  });

  it('drops points where the image is masked (outside its clip) and writes GeoJSON', async () => {
    const clip = ee.Geometry.Rectangle([600000, 5399500, 600400, 5400000], UTM, false);
    const samples = ee.Image(7).toByte().clip(clip).reproject(UTM, [10, 0, 0, 0, -10, 0]).sampleRegions({ collection: points() });
    const out = await run(ee.batch.Export.table.toDrive({ collection: samples, description: 'masked', folder: 'tables', fileFormat: 'GeoJSON' }));
    expect(out.name).toBe('masked.geojson');
    const fc = JSON.parse((out.bytes as Buffer).toString('utf8')) as { type: string; features: { id: string; geometry: unknown; properties: Record<string, unknown> }[] };
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.features.map((f) => f.id)).toEqual(['0_0', '1_0']);
    expect(fc.features[0]?.properties).toMatchObject({ plot: 'a', n: 1, constant: expect.any(Number) });
    expect(fc.features[0]?.geometry).toBeNull(); // geometries: false
  });

  it('fails a table the evaluator cannot follow with the "not emulated" message', async () => {
    const polygons = ee.FeatureCollection([ee.Feature(ee.Geometry.Rectangle([600000, 5399000, 600100, 5399100], UTM, false), { a: 1 })]);
    const out = await run(ee.batch.Export.table.toDrive({ collection: ee.Image(1).sampleRegions({ collection: polygons, scale: 10 }), description: 'poly', folder: 'tables' }));
    expect(out).toMatchObject({ state: 'FAILED', error: 'not emulated: Image.sampleRegions over features that are not points' });
  });
});

describe('value:compute (getInfo)', () => {
  const info = (obj: Ee): Promise<unknown> => eeCall((cb) => obj.getInfo(cb));

  it('computes constants, lists, band names, an image description and a feature count', async () => {
    expect(await info(ee.Number(42))).toBe(42);
    expect(await info(ee.String('tessera'))).toBe('tessera');
    expect(await info(ee.List([1, 'a', [2]]))).toEqual([1, 'a', [2]]);
    expect(await info(ee.Image(1).addBands(ee.Image(2).toInt16().rename('b2')).bandNames())).toEqual(['constant', 'b2']);
    expect(await info(ee.ImageCollection('COPERNICUS/S2_SR_HARMONIZED').median().select(['B4', 'B8']).bandNames())).toEqual(['B4', 'B8']);
    expect(await info(ee.Image(3).toInt16())).toMatchObject({ type: 'Image', bands: [{ id: 'constant', data_type: { type: 'PixelType', precision: 'int', min: -32768, max: 32767 } }] });
    expect(await info(points().size())).toBe(3);
  });

  it('answers beyond the evaluator with 400 "not emulated: …", and EE-style errors for bad expressions', async () => {
    await expect(info(ee.ImageCollection('COPERNICUS/S2_SR_HARMONIZED').size())).rejects.toThrow('not emulated: Collection.size of an ImageCollection');
    await expect(info(ee.Image('NOT/A/DATASET').bandNames())).rejects.toThrow(/^not emulated: image NOT\/A\/DATASET/);
    await expect(info(ee.Image(1).select(['nope']).bandNames())).rejects.toThrow("Image.select: Pattern 'nope' did not match any bands.");
  });
});
