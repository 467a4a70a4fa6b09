import { basename, extname } from 'node:path';
import polygonClipping from 'polygon-clipping';
import { UserError } from '../errors';
import { readBoundedFile, ROI_MAX_BYTES } from '../fs-bounded';
import { transformer, WGS84, type Crs, type PointTransform } from '../geo/crs';
import { boundsOf, multiPolygonArea, type MultiPolygon, type Polygon, type Position, type Ring } from '../geo/geometry';
import { foldLongitudes, unwrapRing } from './antimeridian';
import { readGeoJson } from './geojson';
import { GeoPackage, looksLikeSqlite } from './geopackage';

export type { LayerInfo, RoiLayer } from './types';

/** A region of interest: the polygon features of one layer, validated, in the layer's CRS. */
export interface Roi {
  readonly path: string;
  readonly layer: string;
  readonly crs: Crs;
  readonly features: MultiPolygon[];
  /** True when some ring crossed the antimeridian (its longitudes are then continuous, beyond ±180). */
  readonly crossesAntimeridian: boolean;
  readonly warnings: string[];
}

export interface LoadRoiOptions {
  layer?: string;
}

/** Loads a GeoPackage or GeoJSON ROI. Every problem with the file is a UserError with one clear line. */
export async function loadRoi(path: string, options: LoadRoiOptions = {}): Promise<Roi> {
  const bytes = await readInput(path);
  const ext = extname(path).toLowerCase();
  const label = basename(path);
  let layer;
  if (looksLikeSqlite(bytes)) {
    const gpkg = await GeoPackage.open(bytes, label);
    try {
      layer = gpkg.readLayer(options.layer);
    } finally {
      gpkg.close();
    }
  } else if (ext === '.gpkg') {
    throw new UserError(`${label} is not a GeoPackage (not an SQLite database)`);
  } else if (ext === '.shp' || ext === '.zip') {
    throw new UserError(`${label}: Shapefiles are not read yet; convert it with: ogr2ogr -f GPKG area.gpkg ${label}`);
  } else if (ext === '.geojson' || ext === '.json' || bytes[firstNonSpace(bytes)] === 0x7b) {
    const stem = basename(path, extname(path));
    if (options.layer !== undefined && options.layer !== stem) {
      throw new UserError(`${label} is GeoJSON, which has one layer ("${stem}"); --layer is for GeoPackages`);
    }
    const g = readGeoJson(Buffer.from(bytes).toString('utf8'), stem);
    if (g.features.length === 0) {
      throw new UserError(g.nonPolygonCount ? `${label} holds no polygons (only points or lines)` : `${label} holds no features`);
    }
    layer = g;
  } else {
    throw new UserError(`${label}: unsupported ROI format; give a GeoPackage (.gpkg) or GeoJSON (.geojson)`);
  }

  let crossesAntimeridian = false;
  const features = layer.features.map((mp, f) =>
    mp.map((poly, p) =>
      poly.map((ring, r) => {
        const where = `${label}: feature ${f + 1}${mp.length > 1 ? ` part ${p + 1}` : ''} ring ${r + 1}`;
        checkRing(ring, layer.crs, where);
        if (!layer.crs.geographic) return ring;
        const u = unwrapRing(ring, where);
        crossesAntimeridian ||= u.crossed;
        return u.ring;
      }),
    ),
  );
  const warnings = layer.crs.datumWarning ? [layer.crs.datumWarning] : [];
  return { path, layer: layer.name, crs: layer.crs, features, crossesAntimeridian, warnings };
}

export interface ProjectedRoi {
  /** The union of all features in the target CRS: valid, non-overlapping rings. */
  readonly polygons: MultiPolygon;
  readonly area: number;
  readonly warnings: string[];
}

/**
 * Reprojects the ROI into `target` and unions its features. Edges are densified adaptively until the
 * projected curve is within `tolerance` (target units) of its chords, so curved edges stay accurate.
 * Self-crossing rings are repaired with the non-zero rule (and said so); holes stay holes.
 */
export function projectRoi(roi: Roi, target: Crs, tolerance: number): ProjectedRoi {
  const warnings: string[] = [];
  const fwd = transformer(roi.crs, target);
  let projected: MultiPolygon = roi.features.flatMap((mp) =>
    mp.map((poly): Polygon => poly.map((ring) => densifyRing(ring, fwd, tolerance, roi.crs, target))),
  );
  if (target.geographic && (roi.crossesAntimeridian || !roi.crs.geographic)) {
    projected = foldLongitudes(projected.map((poly) => poly.map((ring) => unwrapRing(ring, 'ROI').ring)));
  }
  let union: MultiPolygon;
  try {
    union = projected.length === 1 ? polygonClipping.union(projected[0]!) : polygonClipping.union(projected[0]!, ...projected.slice(1));
  } catch (e) {
    throw new UserError(`the ROI outline could not be cleaned up in ${target.id} (${(e as Error).message}); simplify or repair it first`);
  }
  const area = multiPolygonArea(union);
  if (!(area > 0)) throw new UserError(`the ROI has no area in ${target.id}`);
  const rawArea = projected.reduce((sum, poly) => sum + multiPolygonArea([poly]), 0);
  const change = Math.abs(rawArea - area) / Math.max(area, Math.abs(rawArea));
  if (change > 1e-6) {
    warnings.push(
      `the ROI has overlapping features or self-crossing rings; they were merged with the non-zero rule (area changed by ${(change * 100).toPrecision(2)}%)`,
    );
  }
  const outside = outsideAreaOfUse(roi, target);
  if (outside) warnings.push(outside);
  return { polygons: union, area, warnings };
}

const MAX_SPLIT_DEPTH = 14;

function densifyRing(ring: Ring, fwd: PointTransform, tol: number, from: Crs, to: Crs): Ring {
  const out: Ring = [];
  const place = (p: Position): Position => {
    const q = fwd(p[0], p[1]);
    if (!Number.isFinite(q[0]) || !Number.isFinite(q[1])) {
      throw new UserError(`the ROI point (${p[0]}, ${p[1]}) in ${from.id} cannot be projected into ${to.id}`);
    }
    return q;
  };
  const identity = from === to;
  let prevSrc = ring[0]!;
  let prevDst = place(prevSrc);
  out.push(prevDst);
  for (let k = 1; k < ring.length; k++) {
    const src = ring[k]!;
    const dst = place(src);
    if (!identity) refine(prevSrc, prevDst, src, dst, 0, out, place, tol);
    out.push(dst);
    prevSrc = src;
    prevDst = dst;
  }
  return out;
}

/** Pushes the points strictly between a and b needed for the projected edge to stay within tol. */
function refine(
  aSrc: Position, aDst: Position, bSrc: Position, bDst: Position, depth: number,
  out: Ring, place: (p: Position) => Position, tol: number,
): void {
  if (depth >= MAX_SPLIT_DEPTH) return;
  const mSrc: Position = [(aSrc[0] + bSrc[0]) / 2, (aSrc[1] + bSrc[1]) / 2];
  const mDst = place(mSrc);
  const dx = mDst[0] - (aDst[0] + bDst[0]) / 2;
  const dy = mDst[1] - (aDst[1] + bDst[1]) / 2;
  if (dx * dx + dy * dy <= tol * tol) return;
  refine(aSrc, aDst, mSrc, mDst, depth + 1, out, place, tol);
  out.push(mDst);
  refine(mSrc, mDst, bSrc, bDst, depth + 1, out, place, tol);
}

function checkRing(ring: Ring, crs: Crs, where: string): void {
  for (const [x, y] of ring) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new UserError(`${where} has a coordinate that is not a finite number`);
    if (crs.geographic && (Math.abs(y) > 90 || Math.abs(x) > 180)) {
      throw new UserError(
        `${where} has the coordinate (${x}, ${y}), out of range for ${crs.id} (longitude −180…180, latitude −90…90); is the CRS right?`,
      );
    }
  }
  const distinct = new Set(ring.map(([x, y]) => `${x},${y}`));
  if (distinct.size < 3) throw new UserError(`${where} has fewer than 3 distinct points`);
}

function outsideAreaOfUse(roi: Roi, target: Crs): string | undefined {
  if (!target.areaOfUse || target.geographic) return undefined;
  const toWgs = transformer(roi.crs, WGS84);
  const b = boundsOf(roi.features.flat());
  const corners = [toWgs(b.minX, b.minY), toWgs(b.maxX, b.maxY)];
  const [w, s, e, n] = target.areaOfUse;
  const margin = 1; // degrees: EPSG areas are drawn tight
  const wraps = e < w;
  const inside = corners.every(([lon, lat]) => {
    const lonOk = wraps ? lon >= w - margin || lon <= e + margin : lon >= w - margin && lon <= e + margin;
    return lonOk && lat >= s - margin && lat <= n + margin;
  });
  return inside ? undefined : `the ROI reaches beyond the area of use of ${target.id} (${target.name}); distortion grows there`;
}

async function readInput(path: string): Promise<Uint8Array> {
  return readBoundedFile(path, { label: path, maxBytes: ROI_MAX_BYTES, hint: 'give a .gpkg or .geojson file', missing: `ROI file not found: ${path}` });
}

function firstNonSpace(bytes: Uint8Array): number {
  let k = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) k = 3; // UTF-8 BOM
  while (k < bytes.length && (bytes[k] === 0x20 || bytes[k] === 0x0a || bytes[k] === 0x0d || bytes[k] === 0x09)) k++;
  return k;
}
