import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EeDataType, ExportBand } from '../../main/emulator/ee/product';
import { fileDataType, syntheticValue, writeGeoTiff, type GeoTiffSpec } from '../../main/emulator/geotiff/writer';

const dir = mkdtempSync(path.join(tmpdir(), 'tessera-geotiff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bands = (type: EeDataType, ...names: string[]): ExportBand[] => names.map((name) => ({ name, dataType: type }));
const synthetic = (type: EeDataType) => (b: number, x: number, y: number): number => syntheticValue(b, x, y, type);

const UTM_TILE: GeoTiffSpec = {
  width: 300,
  height: 200,
  bands: bands('Int16', 'B4', 'B3', 'B2'),
  crs: 'EPSG:32632',
  crsTransform: [10, 0, 600000, 0, -10, 5400000],
  noData: -9999,
};

interface GdalInfo {
  size: [number, number];
  geoTransform: number[];
  coordinateSystem: { wkt: string };
  stac: { 'proj:epsg': number };
  metadata: { IMAGE_STRUCTURE?: { INTERLEAVE?: string } };
  bands: { type: string; description?: string; noDataValue?: number }[];
}

function gdalinfo(file: string): GdalInfo {
  return JSON.parse(execFileSync('gdalinfo', ['-json', file], { encoding: 'utf8' })) as GdalInfo;
}

/** The file's pixels as GDAL reads them (band after band), through a raw ENVI copy. */
function pixels(file: string): Buffer {
  const raw = `${file}.bin`;
  execFileSync('gdal_translate', ['-q', '-of', 'ENVI', file, raw]);
  return readFileSync(raw);
}

async function write(name: string, spec: GeoTiffSpec, type: EeDataType = spec.bands[0]!.dataType): Promise<{ file: string; size: number; md5: string }> {
  const file = path.join(dir, name);
  const r = await writeGeoTiff(file, spec, synthetic(type));
  return { file, ...r };
}

describe('writeGeoTiff', () => {
  it('writes a projected Int16 file GDAL reads: grid, CRS, bands, descriptions, noData', async () => {
    const { file, size, md5 } = await write('utm.tif', UTM_TILE);
    const info = gdalinfo(file);
    expect(info.size).toEqual([300, 200]);
    expect(info.geoTransform).toEqual([600000, 10, 0, 5400000, 0, -10]);
    expect(info.stac['proj:epsg']).toBe(32632);
    expect(info.coordinateSystem.wkt).toContain('ID["EPSG",32632]');
    expect(info.metadata.IMAGE_STRUCTURE?.INTERLEAVE).toBe('BAND');
    expect(info.bands.map((b) => [b.type, b.description, b.noDataValue])).toEqual([
      ['Int16', 'B4', -9999],
      ['Int16', 'B3', -9999],
      ['Int16', 'B2', -9999],
    ]);
    const bytes = readFileSync(file);
    expect(size).toBe(statSync(file).size);
    expect(md5).toBe(createHash('md5').update(bytes).digest('hex'));
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x49, 0x49, 42, 0]));
    // The pixels are the value function's, at pixel centres.
    const px = pixels(file);
    const at = (band: number, col: number, row: number): number => px.readInt16LE(((band * 200 + row) * 300 + col) * 2);
    expect(at(0, 0, 0)).toBe(syntheticValue(0, 600005, 5399995, 'Int16'));
    expect(at(2, 299, 199)).toBe(syntheticValue(2, 602995, 5398005, 'Int16'));
  });

  it('writes a geographic Float32 file', async () => {
    const spec: GeoTiffSpec = { width: 300, height: 200, bands: bands('Float32', 'nd'), crs: 'EPSG:4326', crsTransform: [0.0001, 0, 11.25, 0, -0.0001, 48.5] };
    const { file } = await write('geo.tif', spec);
    const info = gdalinfo(file);
    expect(info.geoTransform).toEqual([11.25, 0.0001, 0, 48.5, 0, -0.0001]);
    expect(info.stac['proj:epsg']).toBe(4326);
    expect(info.coordinateSystem.wkt).toMatch(/^GEOGCRS/);
    expect(info.bands.map((b) => [b.type, b.description, b.noDataValue])).toEqual([['Float32', 'nd', undefined]]);
    const px = pixels(file);
    expect(px.readFloatLE(0)).toBe(Math.fround(syntheticValue(0, 11.25005, 48.49995, 'Float32')));
    // Not a constant image: the waves are visible within one tile.
    expect(new Set(Array.from({ length: 300 }, (_, i) => px.readFloatLE(i * 4))).size).toBeGreaterThan(100);
  });

  it('writes a window of the grid where it lies, with the same pixels as the whole grid', async () => {
    const whole = await write('whole.tif', UTM_TILE);
    const win = { col0: 100, row0: 50, width: 120, height: 80 };
    const part = await write('part.tif', { ...UTM_TILE, window: win });
    const info = gdalinfo(part.file);
    expect(info.size).toEqual([120, 80]);
    expect(info.geoTransform).toEqual([601000, 10, 0, 5399500, 0, -10]);
    const all = pixels(whole.file);
    const sub = pixels(part.file);
    for (let band = 0; band < 3; band++) {
      for (let r = 0; r < win.height; r++) {
        const from = ((band * 200 + win.row0 + r) * 300 + win.col0) * 2;
        const to = ((band * win.height + r) * win.width) * 2;
        expect(sub.subarray(to, to + win.width * 2).equals(all.subarray(from, from + win.width * 2))).toBe(true);
      }
    }
  });

  it('makes neighbouring tiles meet seamlessly', async () => {
    const type: EeDataType = 'UInt16';
    const tile = (x0: number): GeoTiffSpec => ({ width: 300, height: 200, bands: bands(type, 'B8'), crs: 'EPSG:32632', crsTransform: [10, 0, x0, 0, -10, 5400000] });
    const left = pixels((await write('left.tif', tile(600000))).file);
    const right = pixels((await write('right.tif', tile(603000))).file);
    const overlap = pixels((await write('overlap.tif', tile(602990))).file); // starts on left's last column
    const v = (px: Buffer, col: number, row: number): number => px.readUInt16LE((row * 300 + col) * 2);
    let steps = 0;
    for (let row = 0; row < 200; row++) {
      // The same world pixel in two files has the same value…
      expect(v(overlap, 0, row)).toBe(v(left, 299, row));
      // …and across the edge the values change no more than between neighbours inside a tile.
      const inside = Math.abs(v(left, 299, row) - v(left, 298, row));
      expect(Math.abs(v(right, 0, row) - v(left, 299, row))).toBeLessThanOrEqual(inside + 1);
      steps += inside;
    }
    expect(steps).toBeGreaterThan(0);
  });

  it('writes ModelTransformation for a sheared grid and BigTIFF on request', async () => {
    const { file, md5 } = await write('sheared.tif', { ...UTM_TILE, crsTransform: [10, 2, 600000, 1, -10, 5400000], bigTiff: true });
    const info = gdalinfo(file);
    expect(info.geoTransform).toEqual([600000, 10, 2, 5400000, 1, -10]);
    expect(info.bands).toHaveLength(3);
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x49, 0x49, 43, 0, 8, 0, 0, 0]));
    expect(md5).toBe(createHash('md5').update(bytes).digest('hex'));
  });

  it('keeps memory flat for a 20000 × 20000 file', async () => {
    const file = path.join(dir, 'big.tif');
    const spec: GeoTiffSpec = { width: 20000, height: 20000, bands: bands('UInt8', 'b'), crs: 'EPSG:32632', crsTransform: [10, 0, 0, 0, -10, 200000] };
    const before = process.memoryUsage.rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    const started = Date.now();
    // A cheap value function: this measures the writer, not the synthetic waves.
    const r = await writeGeoTiff(file, spec, (_b, x, y) => (x + y) / 10);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    expect(r.size).toBe(statSync(file).size);
    expect(r.size).toBeGreaterThan(400_000_000);
    expect(peak - before).toBeLessThan(150 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(30_000);
    rmSync(file);
  });
});

describe('syntheticValue and fileDataType', () => {
  it('stays in range and varies by band', () => {
    for (const type of ['UInt8', 'Int8', 'UInt16', 'Int16', 'UInt32', 'Int32', 'Float32', 'Float64'] as const) {
      for (let i = 0; i < 200; i++) {
        const v = syntheticValue(i % 4, 500000 + i * 137, 5300000 - i * 71, type);
        expect(Number.isFinite(v)).toBe(true);
        if (type === 'UInt8') expect(v >= 0 && v <= 255 && Number.isInteger(v)).toBe(true);
        if (type === 'Int8') expect(v >= -128 && v <= 127 && Number.isInteger(v)).toBe(true);
      }
    }
    expect(syntheticValue(0, 601234, 5401234, 'Float32')).not.toBe(syntheticValue(1, 601234, 5401234, 'Float32'));
  });

  it('picks one type that holds every band', () => {
    expect(fileDataType(bands('UInt16', 'a', 'b'))).toBe('UInt16');
    expect(fileDataType([...bands('UInt8', 'a'), ...bands('Int16', 'b')])).toBe('Int16');
    expect(fileDataType([...bands('UInt16', 'a'), ...bands('Int16', 'b')])).toBe('Int32');
    expect(fileDataType([...bands('UInt16', 'a'), ...bands('Float32', 'b')])).toBe('Float32');
    expect(fileDataType([...bands('Int32', 'a'), ...bands('Float32', 'b')])).toBe('Float64');
  });
});
