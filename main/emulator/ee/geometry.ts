/** Geometries, projections and the pixel grids exports are written in. */
import { epsgCodeOf, resolveCrs, transformer, type Crs } from '../../core/geo/crs';
import { NotEmulatedError, type ExportGrid } from './product';
import { EeEvaluationError, GeometryV, ImageV, ProjectionV, isRecord } from './values';
import type { Affine, Path } from './values';
import type { Args } from './graph';

// ---------------------------------------------------------------------------------------------------
// Geometry and projections

/** EE's metres per degree at the equator: how `scale` (always metres) becomes degrees in EPSG:4326. */
const METRES_PER_DEGREE = (6378137 * 2 * Math.PI) / 360;
export const WGS84_PROJECTION = new ProjectionV('EPSG:4326');

export function normalizeCrs(spec: string): string {
  const code = epsgCodeOf(spec);
  if (code === undefined) throw new NotEmulatedError(`CRS "${spec.length > 60 ? `${spec.slice(0, 60)}…` : spec}" (only EPSG codes are emulated)`);
  return `EPSG:${code}`;
}

export function crsOf(id: string): Crs {
  try {
    return resolveCrs(id);
  } catch (e) {
    throw new NotEmulatedError(`CRS ${id} (${(e as Error).message})`);
  }
}

export function geometryArgs(a: Args, closed: boolean, type?: string): GeometryV {
  const projection = a.optional('projection', 'crs') ?? WGS84_PROJECTION;
  return new GeometryV(pathsOf(a.value('coordinates'), closed, a.fn), projection, type);
}

function isPoint(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length >= 2 && v.every((x) => typeof x === 'number');
}

/** Nested coordinate lists → paths of points; a flat list of numbers is read as x, y pairs. */
function pathsOf(coords: unknown, closed: boolean, fn: string): Path[] {
  if (!Array.isArray(coords)) throw new EeEvaluationError(`${fn}: Invalid coordinates.`);
  if (coords.length === 0) return [];
  if (coords.every((x) => typeof x === 'number')) {
    if (coords.length % 2 !== 0) throw new EeEvaluationError(`${fn}: Invalid number of coordinates: ${coords.length}.`);
    const points: [number, number][] = [];
    for (let i = 0; i < coords.length; i += 2) points.push([coords[i] as number, coords[i + 1] as number]);
    return [{ points, closed }];
  }
  if (coords.every(isPoint)) return [{ points: coords.map((p) => [p[0], p[1]] as [number, number]), closed }];
  return coords.flatMap((c) => pathsOf(c, closed, fn));
}

export function rectangle(a: Args): GeometryV {
  const g = geometryArgs(a, true);
  const pts = g.paths.flatMap((p) => p.points);
  if (pts.length !== 2) throw new EeEvaluationError(`${a.fn}: a rectangle needs 2 corners, got ${pts.length}.`);
  const [[x0, y0], [x1, y1]] = pts as [[number, number], [number, number]];
  return new GeometryV([{ points: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], closed: true }], g.projection, 'Polygon');
}

export function geometryFromGeoJson(g: Record<string, unknown>): GeometryV {
  if (g.type === 'GeometryCollection' && Array.isArray(g.geometries)) {
    const parts = g.geometries.filter(isRecord).map(geometryFromGeoJson);
    return new GeometryV(parts.flatMap((p) => p.paths), WGS84_PROJECTION, 'GeometryCollection');
  }
  const closed = g.type === 'Polygon' || g.type === 'MultiPolygon';
  return new GeometryV(pathsOf(g.coordinates, closed, 'Geometry'), WGS84_PROJECTION, g.type as string);
}

export function applyAffine(t: Affine, x: number, y: number): [number, number] {
  return [t[0] * x + t[1] * y + t[2], t[3] * x + t[4] * y + t[5]];
}

export function invertAffine(t: Affine): Affine {
  const [a, b, c, d, e, f] = t;
  const det = a * e - b * d;
  if (det === 0 || !Number.isFinite(det)) throw new EeEvaluationError('Projection: the transform is not invertible.');
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det];
}

function sameAffine(a: Affine | undefined, b: Affine | undefined): boolean {
  if (!a || !b) return a === b;
  return a.every((v, i) => v === b[i]);
}

/** Edges are densified before a change of CRS so that bounds follow curved projected edges. */
const DENSIFY = 16;

/** The geometry's points (edges densified) in the CRS units of `crs`. */
export function pointsIn(g: GeometryV, crs: string): [number, number][] {
  const toCrs = (p: readonly [number, number]): [number, number] =>
    g.projection.transform ? applyAffine(g.projection.transform, p[0], p[1]) : [p[0], p[1]];
  if (g.projection.crs === crs) return g.paths.flatMap((p) => p.points.map(toCrs));
  const t = transformer(crsOf(g.projection.crs), crsOf(crs));
  const out: [number, number][] = [];
  for (const path of g.paths) {
    const pts = path.points.map(toCrs);
    const edges = path.closed && pts.length > 1 ? pts.length : pts.length - 1;
    if (pts.length === 1) out.push(t(...(pts[0] as [number, number])));
    for (let i = 0; i < edges; i++) {
      const [x0, y0] = pts[i] as [number, number];
      const [x1, y1] = pts[(i + 1) % pts.length] as [number, number];
      for (let k = 0; k < DENSIFY; k++) out.push(t(x0 + ((x1 - x0) * k) / DENSIFY, y0 + ((y1 - y0) * k) / DENSIFY));
    }
    if (!path.closed && pts.length > 1) out.push(t(...(pts[pts.length - 1] as [number, number])));
  }
  if (out.some(([x, y]) => !Number.isFinite(x) || !Number.isFinite(y))) {
    throw new NotEmulatedError(`a region that ${crs} cannot represent`);
  }
  return out;
}

interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export function boundsOf(points: readonly (readonly [number, number])[]): Bounds {
  if (points.length === 0) throw new EeEvaluationError('Image.clipToBoundsAndScale: the region is empty.');
  const b = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
  for (const [x, y] of points) {
    b.minX = Math.min(b.minX, x);
    b.maxX = Math.max(b.maxX, x);
    b.minY = Math.min(b.minY, y);
    b.maxY = Math.max(b.maxY, y);
  }
  return b;
}

/** Pixel size in CRS units for EE's `scale`, which is always in metres. */
export function scaleInUnits(crs: string, scale: number): number {
  if (!(scale > 0)) throw new EeEvaluationError(`scale must be positive, got ${scale}.`);
  const c = crsOf(crs);
  if (c.geographic) return scale / METRES_PER_DEGREE;
  if (c.unit === 'metre') return scale;
  throw new NotEmulatedError(`a scale in ${crs}, whose unit is ${c.unit}`);
}

// ---------------------------------------------------------------------------------------------------
// Grids

/** Tolerance for pixel edges that floating point puts a hair off a whole pixel. */
export const EPS = 1e-6;

const clean = (v: number): number => v + 0; // turns −0 into 0

export function grid(crs: string, t: Affine, width: number, height: number): ExportGrid {
  return { crs, crsTransform: t.map(clean) as unknown as Affine, width, height };
}

/** The pixels of `projection`'s grid that the geometry's bounds touch. */
function gridCovering(projection: ProjectionV, g: GeometryV): ExportGrid {
  const t = projection.transform ?? ([1, 0, 0, 0, 1, 0] as const);
  let pixelPoints: [number, number][];
  if (g.projection.crs === projection.crs && sameAffine(g.projection.transform, t)) {
    // The usual tile export: a Rectangle in the very projection of the reprojected image.
    pixelPoints = g.paths.flatMap((p) => p.points.map(([x, y]) => [x, y] as [number, number]));
  } else {
    const inv = invertAffine(t);
    pixelPoints = pointsIn(g, projection.crs).map(([x, y]) => applyAffine(inv, x, y));
  }
  const b = boundsOf(pixelPoints);
  const col0 = Math.floor(b.minX + EPS);
  const row0 = Math.floor(b.minY + EPS);
  const width = Math.max(1, Math.ceil(b.maxX - EPS) - col0);
  const height = Math.max(1, Math.ceil(b.maxY - EPS) - row0);
  const [x0, y0] = [t[0] * col0 + t[1] * row0 + t[2], t[3] * col0 + t[4] * row0 + t[5]];
  return grid(projection.crs, [t[0], t[1], x0, t[3], t[4], y0], width, height);
}

export function clipToBoundsAndScale(a: Args): ImageV {
  const input = a.image('input');
  const geometry = a.optional('geometry', 'geometry') ?? input.footprint;
  if (!geometry) throw new NotEmulatedError('Image.clipToBoundsAndScale without a geometry');
  const scale = a.optional('number', 'scale');
  const width = a.optional('number', 'width');
  const height = a.optional('number', 'height');
  const maxDimension = a.optional('number', 'maxDimension');
  const crs = input.projection?.crs ?? WGS84_PROJECTION.crs;
  let out: ExportGrid;
  if (scale !== undefined) {
    // Pixels of `scale` anchored at the CRS origin, as the grid of setDefaultProjection's [1,0,0,0,-1,0] at that scale.
    const s = scaleInUnits(crs, scale);
    const b = boundsOf(pointsIn(geometry, crs));
    const col0 = Math.floor(b.minX / s + EPS);
    const col1 = Math.ceil(b.maxX / s - EPS);
    const top = Math.ceil(b.maxY / s - EPS);
    const bottom = Math.floor(b.minY / s + EPS);
    out = grid(crs, [s, 0, col0 * s, 0, -s, top * s], Math.max(1, col1 - col0), Math.max(1, top - bottom));
  } else if (width !== undefined || height !== undefined || maxDimension !== undefined) {
    // Dimensions without scale: the bounds are resized to the requested size.
    const b = boundsOf(pointsIn(geometry, crs));
    const [w, h] = sizeFor(a.fn, b, width, height, maxDimension);
    out = grid(crs, [(b.maxX - b.minX) / w, 0, b.minX, 0, -(b.maxY - b.minY) / h, b.maxY], w, h);
  } else {
    if (!input.projection?.transform) {
      throw new NotEmulatedError('Image.clipToBoundsAndScale without scale or dimensions on an image without a fixed pixel grid');
    }
    out = gridCovering(input.projection, geometry);
  }
  return input.with({ footprint: geometry, grid: out });
}

function sizeFor(fn: string, b: Bounds, width?: number, height?: number, maxDimension?: number): [number, number] {
  const bw = b.maxX - b.minX;
  const bh = b.maxY - b.minY;
  const whole = (v: number): number => Math.max(1, Math.round(v));
  if (width !== undefined && height !== undefined) return [whole(width), whole(height)];
  if (bw <= 0 || bh <= 0) throw new EeEvaluationError(`${fn}: the region has no area.`);
  if (width !== undefined) return [whole(width), whole((width * bh) / bw)];
  if (height !== undefined) return [whole((height * bw) / bh), whole(height)];
  const m = maxDimension as number;
  return bw >= bh ? [whole(m), whole((m * bh) / bw)] : [whole((m * bw) / bh), whole(m)];
}

/** An export without clipToBoundsAndScale: a clipped image in a fixed pixel grid (crs + crsTransform + region). */
export function gridFromFootprint(image: ImageV): ExportGrid {
  if (image.projection?.transform && image.footprint) return gridCovering(image.projection, image.footprint);
  if (!image.footprint) throw new NotEmulatedError('an export without a region or dimensions (the image footprint is unknown)');
  throw new NotEmulatedError('an export with a region but neither scale nor crsTransform (native resolution)');
}

export function projectionArgs(a: Args): ImageV {
  const image = a.image('image');
  const crs = a.projection('crs');
  const transform = a.affine('crsTransform');
  const scale = a.optional('number', 'scale');
  if (transform && scale !== undefined) throw new EeEvaluationError(`${a.fn}: Cannot specify both crsTransform and scale.`);
  let t = transform ?? crs.transform;
  if (scale !== undefined) {
    const s = scaleInUnits(crs.crs, scale);
    t = [s, 0, 0, 0, -s, 0];
  }
  return image.with({ projection: new ProjectionV(crs.crs, t), grid: null });
}
