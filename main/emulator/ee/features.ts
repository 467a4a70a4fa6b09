/** Clip masks, features, samples and what `getInfo` returns. */
import { transformer } from '../../core/geo/crs';
import { syntheticValue } from '../geotiff/writer';
import { pointInClips, type Clip, type Ring } from './mask';
import { NotEmulatedError, type EeDataType, type ExportGrid, type GeoJsonGeometry, type PropertyValue, type TableFeature } from './product';
import { CollectionV, FeatureCollectionV, FeatureV, FunctionV, GeometryV, ImageV, NestedCollectionV, OpaqueV, ProjectionV, ReducerV, isEeObject } from './values';
import type { Affine, Band, EeObject, Value } from './values';
import type { Args } from './graph';
import { DOUBLE, FLOAT, dataTypeOf, intType } from './images';
import { EPS, WGS84_PROJECTION, applyAffine, crsOf, invertAffine, pointsIn, scaleInUnits } from './geometry';

// ---------------------------------------------------------------------------------------------------
// Masks, features, samples and getInfo

/** Transforms between two CRSs, built once (sampling converts every point). */
const TRANSFORMS = new Map<string, (x: number, y: number) => [number, number]>();
function crsTransform(from: string, to: string): (x: number, y: number) => [number, number] {
  const key = `${from}>${to}`;
  let t = TRANSFORMS.get(key);
  if (!t) TRANSFORMS.set(key, (t = transformer(crsOf(from), crsOf(to))));
  return t;
}

/** The closed paths of a geometry as rings in `crs` (edges densified across a change of CRS). */
function ringsIn(g: GeometryV, crs: string): [number, number][][] {
  return g.paths.filter((p) => p.closed && p.points.length >= 3).map((p) => pointsIn(new GeometryV([p], g.projection), crs));
}

/** A clip geometry as rings in the export grid's pixel coordinates (mask.ts). */
export function clipInGrid(g: GeometryV, out: ExportGrid): Clip {
  const inv = invertAffine(out.crsTransform);
  return ringsIn(g, out.crs).map((ring): Ring => ring.map(([x, y]) => applyAffine(inv, x, y)));
}

/** Whether a point given in `crs` lies inside every geometry the image was clipped to. */
function insideClips(image: ImageV, crs: string, x: number, y: number): boolean {
  for (const g of image.clips) {
    const [gx, gy] = g.projection.crs === crs ? [x, y] : crsTransform(crs, g.projection.crs)(x, y);
    // The clip's own coordinates: undo its projection's transform, if it has one.
    const [px, py] = g.projection.transform ? applyAffine(invertAffine(g.projection.transform), gx, gy) : [gx, gy];
    const rings = g.paths.filter((p) => p.closed && p.points.length >= 3).map((p) => p.points);
    if (!pointInClips([rings], px, py)) return false;
  }
  return true;
}

/** A geometry's vertices (no densifying) in `crs`. */
function verticesIn(g: GeometryV, crs: string): [number, number][][] {
  const t = g.projection.crs === crs ? null : crsTransform(g.projection.crs, crs);
  return g.paths.map((p) =>
    p.points.map((q) => {
      const [x, y] = g.projection.transform ? applyAffine(g.projection.transform, q[0], q[1]) : [q[0], q[1]];
      return t ? t(x, y) : [x, y];
    }),
  );
}

/** GeoJSON in EPSG:4326, as EE writes `.geo` (multi-polygons come out one polygon per ring: holes are not told apart). */
function toGeoJson(g: GeometryV): GeoJsonGeometry {
  const paths = verticesIn(g, 'EPSG:4326');
  const ring = (p: [number, number][]): [number, number][] => (p.length && (p[0]?.[0] !== p[p.length - 1]?.[0] || p[0]?.[1] !== p[p.length - 1]?.[1]) ? [...p, p[0] as [number, number]] : p);
  const points = paths.flat();
  const type = g.type ?? (paths.every((p) => p.length === 1) ? (points.length === 1 ? 'Point' : 'MultiPoint') : g.paths.every((p) => p.closed) ? 'MultiPolygon' : 'MultiLineString');
  switch (type) {
    case 'Point':
      return { type, coordinates: points[0] ?? [] };
    case 'MultiPoint':
    case 'LineString':
    case 'LinearRing':
      return { type: type === 'LinearRing' ? 'LineString' : type, coordinates: type === 'LinearRing' ? ring(points) : points };
    case 'MultiLineString':
      return { type, coordinates: paths };
    case 'Polygon':
      return { type, coordinates: paths.map(ring) };
    default:
      return { type: 'MultiPolygon', coordinates: paths.map((p) => [ring(p)]) };
  }
}

/** Collection.limit on features: an optional sort by a property, then the first `limit`. */
export function limitFeatures(a: Args): FeatureCollectionV {
  const c = a.features('collection');
  let features = [...c.features];
  if (a.has('key')) {
    const key = a.string('key');
    const dir = a.boolean('ascending', true) ? 1 : -1;
    const get = (f: FeatureV): Value => (key === 'system:index' ? (f.id ?? null) : (f.properties[key] ?? null));
    features.sort((x, y) => {
      const [p, q] = [get(x), get(y)];
      if (p === q) return 0;
      if (p === null) return 1;
      if (q === null) return -1;
      return (p < q ? -1 : 1) * dir;
    });
  }
  if (a.has('limit')) features = features.slice(0, Math.max(0, Math.floor(a.number('limit'))));
  return new FeatureCollectionV(features);
}

/**
 * `image.sampleRegions({collection, properties, scale, projection, geometries})` over points: one
 * feature per point (`{id}_{k}` for the k-th point of a feature), with the feature's properties (or
 * those named) and one property per band, the synthetic value of the pixel the point falls in. The
 * pixel grid is the one EE samples in: `projection` and/or `scale` when given, else the image's own
 * (a reprojected image's grid, or EE's default of 1° pixels in EPSG:4326). Points where the image is
 * masked (outside its clips) are dropped, as EE drops samples whose values are all null.
 */
export function sampleRegions(a: Args): FeatureCollectionV {
  const image = a.image('image');
  const collection = a.features('collection');
  const keep = a.optional('strings', 'properties');
  const geometries = a.boolean('geometries', false);
  const scale = a.optional('number', 'scale');
  const projection = a.optional('projection', 'projection');
  const crs = projection?.crs ?? image.projection?.crs ?? WGS84_PROJECTION.crs;
  let t: Affine;
  if (scale !== undefined) {
    const s = scaleInUnits(crs, scale);
    t = [s, 0, 0, 0, -s, 0];
  } else {
    t = projection?.transform ?? (projection ? undefined : image.projection?.transform) ?? [1, 0, 0, 0, -1, 0];
  }
  const inv = invertAffine(t);
  const types = image.bands.map((b) => dataTypeOf(b.type));
  const out: FeatureV[] = [];
  collection.features.forEach((f, i) => {
    const g = f.geometry;
    if (!g) return;
    if (g.type !== 'Point' && g.type !== 'MultiPoint' && !(g.paths.length === 1 && g.paths[0]?.points.length === 1 && !g.paths[0].closed)) {
      throw new NotEmulatedError(`${a.fn} over features that are not points`);
    }
    const base: Record<string, Value> = {};
    for (const [k, v] of Object.entries(f.properties)) if (!keep || keep.includes(k)) base[k] = v;
    verticesIn(g, crs).flat().forEach(([x, y], k) => {
      const [col, row] = applyAffine(inv, x, y).map((v) => Math.floor(v + EPS)) as [number, number];
      const [cx, cy] = applyAffine(t, col + 0.5, row + 0.5);
      if (!insideClips(image, crs, cx, cy)) return;
      const props: Record<string, Value> = { ...base };
      image.bands.forEach((b, band) => {
        const v = syntheticValue(band, cx, cy, types[band] as EeDataType);
        props[b.name] = types[band] === 'Float32' ? Math.fround(v) : v;
      });
      const point = geometries ? new GeometryV([{ points: [[cx, cy]], closed: false }], new ProjectionV(crs), 'Point') : undefined;
      out.push(new FeatureV(point, props, `${f.id ?? i}_${k}`));
    });
  });
  return new FeatureCollectionV(out);
}

export function reindex(f: FeatureV, id: string): FeatureV {
  return new FeatureV(f.geometry, f.properties, id);
}

/** `projects/p/assets/x` as given; a bare or legacy id is not one of the project's assets. */
export function assetName(id: string): string {
  return id.replace(/\/+$/, '');
}

const DATA_TYPE_BY_NAME: Record<string, EeDataType> = { Int8: 'Int8', UInt8: 'UInt8', Int16: 'Int16', UInt16: 'UInt16', Int32: 'Int32', UInt32: 'UInt32', Float32: 'Float32', Float64: 'Float64' };

/** An IMAGE asset of a collection as the evaluator's image: its bands and native grid. */
export function assetImage(img: { bands: readonly { id: string; dataType: string }[]; grid: ExportGrid | null }): ImageV {
  const bands = img.bands.map((b): Band => {
    const t = DATA_TYPE_BY_NAME[b.dataType] ?? 'Float32';
    return { name: b.id, type: t === 'Float32' ? FLOAT : t === 'Float64' ? DOUBLE : intType(t) };
  });
  const projection = img.grid ? new ProjectionV(img.grid.crs, img.grid.crsTransform) : undefined;
  return new ImageV(bands, projection);
}

export function tableFeature(f: FeatureV, id: string): TableFeature {
  const properties: Record<string, PropertyValue> = {};
  for (const [k, v] of Object.entries(f.properties)) properties[k] = plainValue(v);
  return { id, geometry: f.geometry ? toGeoJson(f.geometry) : null, properties };
}

/** A JSON value, or NotEmulatedError for Earth Engine objects the emulator cannot describe. */
function plainValue(v: Value): PropertyValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (Array.isArray(v)) return (v as Value[]).map(plainValue);
  if (isEeObject(v as Value)) throw new NotEmulatedError(`a property holding ${describe(v as EeObject)}`);
  const out: Record<string, PropertyValue> = {};
  for (const [k, x] of Object.entries(v as Record<string, Value>)) out[k] = plainValue(x);
  return out;
}

function describe(v: EeObject): string {
  return v instanceof ImageV ? 'an Image' : v instanceof CollectionV ? 'an ImageCollection' : v instanceof NestedCollectionV ? 'a collection of collections' : v instanceof ProjectionV ? 'a Projection'
    : v instanceof ReducerV ? 'a Reducer' : v instanceof FunctionV ? 'a function' : v instanceof OpaqueV ? `a ${v.kind}` : 'an object';
}

/** What `getInfo` returns for a value (EE's JSON forms of images, features and collections). */
export function toInfo(v: Value): unknown {
  if (v instanceof ImageV) {
    const crs = v.projection?.crs ?? WGS84_PROJECTION.crs;
    const transform = v.projection?.transform ?? [1, 0, 0, 0, 1, 0];
    return {
      type: 'Image',
      bands: v.bands.map((b) => ({ id: b.name, data_type: { type: 'PixelType', ...b.type }, crs, crs_transform: [...transform] })),
      properties: {},
    };
  }
  if (v instanceof FeatureV) return featureInfo(v, v.id);
  if (v instanceof FeatureCollectionV) {
    const columns: Record<string, string> = { 'system:index': 'String' };
    for (const f of v.features) for (const [k, x] of Object.entries(f.properties)) columns[k] ??= typeof x === 'number' ? (Number.isInteger(x) ? 'Integer' : 'Float') : typeof x === 'string' ? 'String' : 'Object';
    return { type: 'FeatureCollection', columns, features: v.features.map((f, i) => featureInfo(f, f.id ?? String(i))) };
  }
  if (v instanceof GeometryV) return toGeoJson(v);
  if (v !== null && typeof v === 'object' && isEeObject(v as Value)) throw new NotEmulatedError(`getInfo of ${describe(v as EeObject)}`);
  if (Array.isArray(v)) return (v as Value[]).map(toInfo);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, Value>)) out[k] = toInfo(x);
    return out;
  }
  return v;
}

function featureInfo(f: FeatureV, id: string | undefined): Record<string, unknown> {
  const t = tableFeature(f, id ?? '');
  return { type: 'Feature', geometry: t.geometry, ...(id !== undefined ? { id } : {}), properties: t.properties };
}
