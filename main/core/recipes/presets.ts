import type { z } from 'zod';
import { AssetParams, LandsatStmParams, PointsParams, S2MedianParams, parsePresetParams, type PresetName } from '../../../shared/recipes';
import { UserError } from '../errors';

/** The untyped `@google/earthengine` module, as recipes use it (Code-Editor style). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Ee = any;

/** A tile as the grid defines it (docs/grid.md#export-parameters). */
export interface TileSpec {
  id: string;
  crs: string;
  crsTransform: readonly number[];
  dimensions: readonly [number, number];
}

/** The tile a recipe sees: the grid's tile plus its outline as an ee.Geometry in the export CRS. */
export interface RecipeTile extends TileSpec {
  geometry: unknown;
}

/** The tile's bounds [x0, y0, x1, y1] in the export CRS. */
export function tileBounds(t: TileSpec): [number, number, number, number] {
  const [sx, , x0, , sy, y1] = t.crsTransform as [number, number, number, number, number, number];
  const [w, h] = t.dimensions;
  return [x0, y1 + h * sy, x0 + w * sx, y1];
}

export function recipeTile(ee: Ee, t: TileSpec): RecipeTile {
  return { id: t.id, crs: t.crs, crsTransform: [...t.crsTransform], dimensions: [t.dimensions[0], t.dimensions[1]], geometry: ee.Geometry.Rectangle(tileBounds(t), t.crs, false) };
}

function params<S extends z.ZodType>(name: PresetName, _schema: S, raw: unknown): z.infer<S> {
  const r = parsePresetParams(name, raw);
  if (!r.ok) throw new UserError(r.message);
  return r.value as z.infer<S>;
}

/** Sentinel-2 SR harmonized: scenes under the cloud limit, cloud/shadow/snow pixels masked by SCL, median. */
export function s2Median(ee: Ee, tile: RecipeTile, raw: unknown): unknown {
  const p = params('s2-median', S2MedianParams, raw);
  const masked = ee
    .ImageCollection('COPERNICUS/S2_SR_HARMONIZED')
    .filterBounds(tile.geometry)
    .filterDate(p.start, p.end)
    .filter(ee.Filter.lt('CLOUDY_PIXEL_PERCENTAGE', p.maxCloudPercent))
    .map((img: Ee) => {
      const scl = img.select('SCL');
      // 3 cloud shadow, 8/9 cloud medium/high probability, 10 cirrus, 11 snow
      const clear = scl.neq(3).and(scl.neq(8)).and(scl.neq(9)).and(scl.neq(10)).and(scl.neq(11));
      return img.updateMask(clear).select(p.bands);
    });
  return masked.median().clip(tile.geometry);
}

const INDEX_BANDS: Record<string, [string, string]> = {
  NDVI: ['SR_B5', 'SR_B4'],
  NBR: ['SR_B5', 'SR_B7'],
  NDWI: ['SR_B3', 'SR_B5'],
  NDMI: ['SR_B5', 'SR_B6'],
};

/** Landsat 8 + 9 C2 L2: QA_PIXEL masking (fill, dilated cloud, cirrus, cloud, shadow), scale factors, indices, STMs. */
export function landsatStm(ee: Ee, tile: RecipeTile, raw: unknown): unknown {
  const p = params('landsat-stm', LandsatStmParams, raw);
  const load = (id: string) =>
    ee.ImageCollection(id).filterBounds(tile.geometry).filterDate(p.start, p.end).filter(ee.Filter.lt('CLOUD_COVER', p.maxCloudPercent));
  const indices = load('LANDSAT/LC08/C02/T1_L2')
    .merge(load('LANDSAT/LC09/C02/T1_L2'))
    .map((img: Ee) => {
      const clear = img.select('QA_PIXEL').bitwiseAnd(31).eq(0); // bits 0–4
      const sr = img.select(['SR_B2', 'SR_B3', 'SR_B4', 'SR_B5', 'SR_B6', 'SR_B7']).multiply(0.0000275).add(-0.2);
      const bands = p.indices.map((name) => sr.normalizedDifference(INDEX_BANDS[name]).rename([name]));
      return ee.Image.cat(bands).updateMask(clear);
    });
  const percentiles = p.metrics.filter((m) => /^p\d+$/.test(m)).map((m) => Number(m.slice(1)));
  const parts: unknown[] = [];
  if (percentiles.length) parts.push(indices.reduce(ee.Reducer.percentile(percentiles)));
  const reducers: Record<string, () => unknown> = { mean: () => ee.Reducer.mean(), stdDev: () => ee.Reducer.stdDev(), min: () => ee.Reducer.min(), max: () => ee.Reducer.max() };
  for (const m of p.metrics) if (reducers[m]) parts.push(indices.reduce(reducers[m]()));
  return ee.Image.cat(parts).toFloat().clip(tile.geometry);
}

/** An existing image or collection asset, reduced to one image if a collection, clipped to the tile. */
export function assetImage(ee: Ee, tile: RecipeTile, raw: unknown): unknown {
  const p = params('asset', AssetParams, raw);
  let image = p.type === 'image' ? ee.Image(p.id) : ee.ImageCollection(p.id).filterBounds(tile.geometry)[p.reducer]();
  if (p.bands) image = image.select(p.bands);
  return image.clip(tile.geometry);
}

export const IMAGE_PRESETS: Record<string, (ee: Ee, tile: RecipeTile, raw: unknown) => unknown> = {
  's2-median': s2Median,
  'landsat-stm': landsatStm,
  asset: assetImage,
};

/** A point of the job's points layer, in the export CRS, with its properties. */
export interface PointRow {
  x: number;
  y: number;
  properties: Record<string, string | number | boolean | null>;
}

/** Point extraction: the image of the inner preset sampled at the tile's points, on the tile's pixel grid. */
export function pointsTable(ee: Ee, tile: RecipeTile, raw: unknown, points: readonly PointRow[]): unknown {
  const p = params('points', PointsParams, raw) as z.infer<typeof PointsParams>;
  const image = IMAGE_PRESETS[p.image.preset]!(ee, tile, p.image.params ?? {});
  const fc = ee.FeatureCollection(points.map((pt) => ee.Feature(ee.Geometry.Point([pt.x, pt.y], tile.crs), pt.properties)));
  return ee.Image(image).sampleRegions({
    collection: fc,
    properties: p.properties ? [...new Set(['point_id', ...p.properties])] : undefined,
    projection: ee.Projection(tile.crs, [...tile.crsTransform]),
    geometries: p.geometries,
  });
}
