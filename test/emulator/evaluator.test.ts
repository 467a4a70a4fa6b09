import { describe, expect, it } from 'vitest';
import { resolveCrs, transformer, WGS84 } from '../../main/core/geo/crs';
import { EeEvaluationError, evaluateImageExport, MalformedExpressionError } from '../../main/emulator/ee/evaluator';
import { NotEmulatedError, type ImageProduct } from '../../main/emulator/ee/product';
import { imageExportBody, type Ee } from './ee-body';

/** A tile's export parameters as the engine sends them (docs/grid.md#export-parameters). */
const TILE = { crs: 'EPSG:32632', crsTransform: [10, 0, 600000, 0, -10, 5400000], dimensions: [1000, 800] };

async function product(build: (ee: Ee) => Ee, options: Record<string, unknown> = TILE): Promise<ImageProduct> {
  return evaluateImageExport(await imageExportBody(build, options));
}

async function bands(build: (ee: Ee) => Ee): Promise<string[]> {
  return (await product(build)).bands.map((b) => `${b.name}:${b.dataType}`);
}

const s2 = (ee: Ee): Ee =>
  ee.ImageCollection('COPERNICUS/S2_SR_HARMONIZED').filterDate('2023-06-01', '2023-09-01').filterBounds(ee.Geometry.Point([11, 48]));

describe('grid', () => {
  it('takes crs, crsTransform and dimensions exactly', async () => {
    const p = await product((ee) => ee.Image(1));
    expect(p).toEqual({
      kind: 'image',
      grid: { crs: 'EPSG:32632', crsTransform: [10, 0, 600000, 0, -10, 5400000], width: 1000, height: 800 },
      bands: [{ name: 'constant', dataType: 'UInt8' }],
      pixels: 800_000,
    });
  });

  it('keeps a geographic tile grid and odd sizes', async () => {
    const t = [0.0001, 0, 11.25, 0, -0.0001, 48.5];
    const p = await product((ee) => ee.Image(1), { crs: 'EPSG:4326', crsTransform: t, dimensions: '257x3' });
    expect(p.grid).toEqual({ crs: 'EPSG:4326', crsTransform: t, width: 257, height: 3 });
    expect(p.pixels).toBe(771);
  });

  it('derives a grid from region + scale + crs, anchored at the CRS origin', async () => {
    const region = [11, 48, 11.1, 48.1];
    const p = await product((ee) => ee.Image(1), { scale: 30, crs: 'EPSG:32632', ...regionOf(region) });
    const { crs, crsTransform: t, width, height } = p.grid;
    expect(crs).toBe('EPSG:32632');
    expect([t[0], t[1], t[3], t[4]]).toEqual([30, 0, 0, -30]);
    expect(t[2] % 30).toBe(0);
    expect(t[5] % 30).toBe(0);
    // The grid covers the region's bounds and overhangs by less than a pixel on each side.
    const toUtm = transformer(WGS84, resolveCrs('EPSG:32632'));
    const corners = [toUtm(11, 48), toUtm(11.1, 48), toUtm(11.1, 48.1), toUtm(11, 48.1)];
    const minX = Math.min(...corners.map((c) => c[0]));
    const maxY = Math.max(...corners.map((c) => c[1]));
    const maxX = Math.max(...corners.map((c) => c[0]));
    const minY = Math.min(...corners.map((c) => c[1]));
    expect(minX - t[2]).toBeGreaterThanOrEqual(0);
    expect(minX - t[2]).toBeLessThan(30);
    expect(t[5] - maxY).toBeGreaterThanOrEqual(0);
    expect(t[5] - maxY).toBeLessThan(30);
    expect(t[2] + width * 30).toBeGreaterThanOrEqual(maxX - 30); // densified edges may bulge a little
    expect(t[2] + width * 30 - maxX).toBeLessThan(30 + 1e-6);
    expect(t[5] - height * 30 - minY).toBeLessThanOrEqual(1e-6);
    expect(t[5] - height * 30 - minY).toBeGreaterThan(-30);
    expect(p.pixels).toBe(width * height);
  });

  it('defaults region + scale to EPSG:4326 with the scale in metres at the equator', async () => {
    const p = await product((ee) => ee.Image(1), { scale: 30, ...regionOf([11, 48, 11.1, 48.1]) });
    const s = 30 / ((6378137 * 2 * Math.PI) / 360);
    expect(p.grid.crs).toBe('EPSG:4326');
    expect(p.grid.crsTransform[0]).toBeCloseTo(s, 15);
    expect(p.grid.crsTransform[4]).toBeCloseTo(-s, 15);
    expect(p.grid.width).toBe(Math.ceil(11.1 / s) - Math.floor(11 / s));
    expect(p.grid.height).toBe(Math.ceil(48.1 / s) - Math.floor(48 / s));
  });

  it('resizes the region to dimensions when no scale is given', async () => {
    const p = await product((ee) => ee.Image(1), { dimensions: '100x50', ...regionOf([11, 48, 11.1, 48.1]) });
    expect(p.grid.width).toBe(100);
    expect(p.grid.height).toBe(50);
    const [sx, , x0, , sy, y0] = p.grid.crsTransform;
    expect(x0).toBe(11);
    expect(y0).toBe(48.1);
    expect(sx).toBeCloseTo(0.001, 12);
    expect(sy).toBeCloseTo(-0.002, 12);
  });

  it('cuts a region out of a fixed crsTransform grid (region without scale)', async () => {
    const p = await product((ee) => ee.Image(1), { crs: 'EPSG:32632', crsTransform: [10, 0, 0, 0, -10, 0], ...regionOf([11, 48, 11.1, 48.1]) });
    const [sx, , x0, , sy, y0] = p.grid.crsTransform;
    expect([sx, sy]).toEqual([10, -10]);
    expect(x0 % 10).toBe(0);
    expect(y0 % 10).toBe(0);
    // The lon/lat rectangle is rotated in UTM: the grid spans its corners' bounds, to the pixel.
    const toUtm = transformer(WGS84, resolveCrs('EPSG:32632'));
    const xs = [toUtm(11, 48), toUtm(11.1, 48), toUtm(11.1, 48.1), toUtm(11, 48.1)].map((c) => c[0]);
    expect(x0).toBe(Math.floor(Math.min(...xs) / 10) * 10);
    expect(p.grid.width).toBe(Math.ceil(Math.max(...xs) / 10) - Math.floor(Math.min(...xs) / 10));
  });

  it('refuses an export without any region', async () => {
    await expect(product((ee) => ee.Image('COPERNICUS/S2_SR_HARMONIZED/20230601T102559_20230601T102602_T32UPU'), {})).rejects.toThrow(NotEmulatedError);
  });
});

describe('bands and data types', () => {
  it('follows an S2 median with select + rename', async () => {
    expect(await bands((ee) => s2(ee).median().select(['B4', 'B3', 'B2'], ['red', 'green', 'blue']))).toEqual([
      'red:Float64',
      'green:Float64',
      'blue:Float64',
    ]);
  });

  it('knows the S2 SR and Landsat C2 L2 band lists and types', async () => {
    const s2Bands = await bands((ee) => ee.ImageCollection('COPERNICUS/S2_SR_HARMONIZED').first());
    expect(s2Bands).toHaveLength(26);
    expect(s2Bands.slice(0, 13)).toEqual(['B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B9', 'B11', 'B12', 'AOT'].map((b) => `${b}:UInt16`));
    expect(s2Bands).toContain('SCL:UInt8');
    expect(s2Bands).toContain('QA20:UInt32');
    expect(s2Bands).toContain('MSK_CLASSI_SNOW_ICE:UInt8');
    const l9 = await bands((ee) => ee.ImageCollection('LANDSAT/LC09/C02/T1_L2').filter(ee.Filter.lt('CLOUD_COVER', 20)).first());
    expect(l9).toHaveLength(19);
    expect(l9[0]).toBe('SR_B1:UInt16');
    expect(l9).toContain('ST_ATRAN:Int16');
    expect(l9).toContain('QA_PIXEL:UInt16');
    expect(await bands((ee) => ee.Image('LANDSAT/LC08/C02/T1_L2/LC08_193026_20230704').select('SR_B.'))).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map((i) => `SR_B${i}:UInt16`),
    );
  });

  it('follows Landsat normalizedDifference + toInt16', async () => {
    expect(
      await bands((ee) =>
        ee.ImageCollection('LANDSAT/LC08/C02/T1_L2').filterDate('2023-01-01', '2024-01-01').median().normalizedDifference(['SR_B5', 'SR_B4']).multiply(10000).toInt16(),
      ),
    ).toEqual(['nd:Int16']);
  });

  it('maps a function over a collection', async () => {
    const mapped = (ee: Ee): Ee =>
      ee.ImageCollection('LANDSAT/LC09/C02/T1_L2').map((img: Ee) =>
        img.normalizedDifference(['SR_B5', 'SR_B4']).rename('ndvi').copyProperties(img, ['system:time_start']),
      );
    expect(await bands((ee) => ee.Image(mapped(ee).mosaic()))).toEqual(['ndvi:Float32']);
    expect(await bands((ee) => ee.ImageCollection('COPERNICUS/S2_SR_HARMONIZED').select('B[2-4]').reduce(ee.Reducer.percentile([10, 90])))).toEqual(
      ['B2_p10', 'B2_p90', 'B3_p10', 'B3_p90', 'B4_p10', 'B4_p90'].map((b) => `${b}:Float64`),
    );
    expect(await bands((ee) => s2(ee).select(['B8', 'SCL']).reduce(ee.Reducer.minMax()))).toEqual([
      'B8_min:UInt16',
      'B8_max:UInt16',
      'SCL_min:UInt8',
      'SCL_max:UInt8',
    ]);
  });

  it('adds bands, suffixing names already taken', async () => {
    expect(await bands((ee) => ee.Image(1).addBands(ee.Image(2)))).toEqual(['constant:UInt8', 'constant_1:UInt8']);
    expect(await bands((ee) => ee.Image([1, 2, -3]))).toEqual(['constant:UInt8', 'constant_1:UInt8', 'constant_2:Int8']);
    expect(await bands((ee) => ee.Image.cat(ee.Image(1), ee.Image(300).rename('x'), ee.Image(0.5)))).toEqual([
      'constant:UInt8',
      'x:UInt16',
      'constant_1:Float64',
    ]);
    expect(
      await bands((ee) => {
        const img = s2(ee).mosaic().select(['B4', 'B8']);
        return img.addBands(img.normalizedDifference(['B8', 'B4']).rename('ndvi')).addBands(ee.Image(0).rename('B4'), null, true);
      }),
    ).toEqual(['B4:UInt8', 'B8:UInt16', 'ndvi:Float32']);
  });

  it('follows casts, arithmetic and comparisons', async () => {
    const l8 = (ee: Ee): Ee => ee.ImageCollection('LANDSAT/LC08/C02/T1_L2').mosaic();
    expect(await bands((ee) => l8(ee).select('SR_B4').toFloat())).toEqual(['SR_B4:Float32']);
    expect(await bands((ee) => l8(ee).select('SR_B4').toDouble())).toEqual(['SR_B4:Float64']);
    expect(await bands((ee) => l8(ee).select('SR_B4').toByte())).toEqual(['SR_B4:UInt8']);
    expect(await bands((ee) => l8(ee).select('SR_B4').toUint32())).toEqual(['SR_B4:UInt32']);
    expect(await bands((ee) => l8(ee).select('SR_B4').int8())).toEqual(['SR_B4:Int8']);
    expect(await bands((ee) => l8(ee).select(['SR_B4', 'ST_ATRAN']).add(1))).toEqual(['SR_B4:UInt16', 'ST_ATRAN:Int16']);
    expect(await bands((ee) => l8(ee).select('SR_B4').subtract(l8(ee).select('ST_QA')))).toEqual(['SR_B4:Int32']);
    expect(await bands((ee) => l8(ee).select('SR_B4').multiply(0.0000275).add(-0.2))).toEqual(['SR_B4:Float64']);
    expect(await bands((ee) => l8(ee).select('SR_B.').divide(10000))).toHaveLength(7);
    expect(await bands((ee) => l8(ee).select('SR_B4').divide(10000))).toEqual(['SR_B4:Float32']);
    expect(await bands((ee) => l8(ee).select('QA_PIXEL').gt(3).and(l8(ee).select('SR_B4').lt(100)))).toEqual(['QA_PIXEL:UInt8']);
  });

  it('keeps bands through masks, clips and projections', async () => {
    expect(
      await bands((ee) =>
        ee
          .Image('LANDSAT/LC09/C02/T1_L2/LC09_044034_20220111')
          .updateMask(ee.Image(1))
          .unmask(0)
          .clip(ee.Geometry.Rectangle([1, 2, 3, 4]))
          .reproject('EPSG:3857', null, 30)
          .select([0, 1]),
      ),
    ).toEqual(['SR_B1:UInt16', 'SR_B2:UInt16']);
  });
});

describe('refusals and errors', () => {
  it('refuses an unknown function', async () => {
    const body = await imageExportBody((ee) => ee.Image(1), TILE);
    const named = JSON.stringify(body).replace('"Image.constant"', '"Image.entropy"');
    expect(() => evaluateImageExport(JSON.parse(named))).toThrow(new NotEmulatedError('function Image.entropy'));
  });

  it('refuses a dataset it does not know', async () => {
    await expect(product((ee) => ee.ImageCollection('MODIS/061/MOD13Q1').median())).rejects.toThrow(
      new NotEmulatedError('collection MODIS/061/MOD13Q1'),
    );
  });

  it("reports EE's error for a band that does not exist", async () => {
    await expect(product((ee) => s2(ee).median().select('B99'))).rejects.toThrow(EeEvaluationError);
    await expect(product((ee) => s2(ee).median().select('B99'))).rejects.toThrow(/Pattern 'B99' did not match any bands/);
  });

  it('rejects bodies that are not expressions', () => {
    expect(() => evaluateImageExport('x')).toThrow(MalformedExpressionError);
    expect(() => evaluateImageExport({ expression: { result: '0', values: {} } })).toThrow(MalformedExpressionError);
    expect(() => evaluateImageExport({ expression: { result: '0', values: { '0': { valueReference: '0' } } } })).toThrow(/refers to itself/);
    expect(() => evaluateImageExport({ expression: { result: '0', values: { '0': { argumentReference: 'x' } } } })).toThrow(MalformedExpressionError);
  });

  it('evaluates a server-side constant list and a TFRecord refusal from a hand-written body', () => {
    const body = (fileFormat: string): unknown => ({
      expression: {
        result: '0',
        values: {
          '0': {
            functionInvocationValue: {
              functionName: 'Image.clipToBoundsAndScale',
              arguments: {
                input: { functionInvocationValue: { functionName: 'Image.constant', arguments: { value: { constantValue: [1, 2.5] } } } },
                geometry: { functionInvocationValue: { functionName: 'GeometryConstructors.BBox', arguments: { west: { constantValue: 0 }, south: { constantValue: 0 }, east: { constantValue: 1 }, north: { constantValue: 1 } } } },
                width: { constantValue: 4 },
                height: { constantValue: 2 },
              },
            },
          },
        },
      },
      fileExportOptions: { fileFormat },
    });
    const p = evaluateImageExport(body('GEO_TIFF'));
    expect(p.bands).toEqual([
      { name: 'constant_0', dataType: 'UInt8' },
      { name: 'constant_1', dataType: 'Float64' },
    ]);
    expect(p.grid).toEqual({ crs: 'EPSG:4326', crsTransform: [0.25, 0, 0, 0, -0.5, 1], width: 4, height: 2 });
    expect(() => evaluateImageExport(body('TF_RECORD_IMAGE'))).toThrow(NotEmulatedError);
  });
});

/** Export's `region` as the engine would give it: a GeoJSON rectangle. */
function regionOf([x0, y0, x1, y1]: number[]): { region: unknown } {
  return {
    region: { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] },
  };
}
