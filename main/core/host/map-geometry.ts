import { basename, extname } from 'node:path';
import { readBoundedFile, ROI_MAX_BYTES } from '../fs-bounded';
import { resolveCrs, transformer, WGS84, type PointTransform } from '../geo/crs';
import { tileOutline } from '../grid';
import type { Job } from '../job/job-file';
import type { TileRecord } from '../job/state';
import { loadRoi, type LayerInfo } from '../roi';
import { GeoPackage, looksLikeSqlite } from '../roi/geopackage';

/** Straight-edge tolerance of tile outlines, in degrees (~0.1 m). */
const SIMPLIFY_DEGREES = 1e-6;

const transforms = new Map<string, PointTransform>();

function toWgs84(crs: string): PointTransform {
  let t = transforms.get(crs);
  if (!t) transforms.set(crs, (t = transformer(resolveCrs(crs), WGS84)));
  return t;
}

/**
 * A tile's outline in EPSG:4326 as a flat ring: the densified edges of `tessera grid --out`, each edge
 * simplified back to its corners where it is straight (most tiles: 4 points instead of 32).
 */
export function outline(t: Pick<TileRecord, 'id' | 'crs' | 'crsTransform' | 'dimensions'>): number[] {
  let ring: [number, number][];
  try {
    ring = tileOutline({ id: t.id, i: 0, j: 0, crs: t.crs, crsTransform: t.crsTransform, dimensions: t.dimensions }, toWgs84(t.crs));
  } catch {
    return [];
  }
  ring.pop(); // closed → open
  const side = ring.length / 4;
  const out: number[] = [];
  for (let e = 0; e < 4; e++) {
    const edge = ring.slice(e * side, (e + 1) * side + 1);
    if (e === 3) edge.push(ring[0]!);
    const kept = simplify(edge, SIMPLIFY_DEGREES);
    for (let k = 0; k < kept.length - 1; k++) {
      const [x, y] = kept[k]!;
      if (Number.isFinite(x) && Number.isFinite(y)) out.push(round6(x), round6(y));
    }
  }
  return out.length >= 6 ? out : [];
}

/** Douglas–Peucker on one polyline (keeps both ends). */
function simplify(points: [number, number][], tolerance: number): [number, number][] {
  if (points.length <= 2) return points;
  const keep = new Uint8Array(points.length);
  keep[0] = 1;
  keep[points.length - 1] = 1;
  const stack: [number, number][] = [[0, points.length - 1]];
  while (stack.length) {
    const [a, b] = stack.pop()!;
    const [ax, ay] = points[a]!;
    const [bx, by] = points[b]!;
    const dx = bx - ax;
    const dy = by - ay;
    const len = Math.hypot(dx, dy) || 1;
    let worst = -1;
    let at = -1;
    for (let k = a + 1; k < b; k++) {
      const [px, py] = points[k]!;
      const d = Math.abs(dy * (px - ax) - dx * (py - ay)) / len;
      if (!(d <= worst)) {
        worst = d;
        at = k;
      }
    }
    if (at > 0 && !(worst <= tolerance)) {
      keep[at] = 1;
      stack.push([a, at], [at, b]);
    }
  }
  return points.filter((_, k) => keep[k]);
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** The layers of an ROI file: a GeoPackage's tables, or the one layer of a GeoJSON file. */
export async function roiLayers(path: string): Promise<LayerInfo[]> {
  const bytes = await readBoundedFile(path, { label: path, maxBytes: ROI_MAX_BYTES, hint: 'give a .gpkg or .geojson file', missing: `ROI file not found: ${path}` });
  if (!looksLikeSqlite(bytes)) return [{ name: basename(path, extname(path)), geometryType: 'GEOJSON', featureCount: 0 }];
  const gpkg = await GeoPackage.open(bytes, basename(path));
  try {
    return gpkg.layers();
  } finally {
    gpkg.close();
  }
}

/** The ROI's rings in EPSG:4326 (flat [lon, lat, …]), for drawing its outline over the tiles. */
export async function roiOutline(job: Job): Promise<number[][]> {
  const roi = await loadRoi(job.roi.path, { layer: job.roi.layer });
  const fwd = transformer(roi.crs, WGS84);
  const rings: number[][] = [];
  for (const mp of roi.features) {
    for (const poly of mp) {
      for (const ring of poly) {
        const flat: number[] = [];
        for (const [x, y] of ring) {
          const [lon, lat] = fwd(x, y);
          if (Number.isFinite(lon) && Number.isFinite(lat)) flat.push(round6(lon), round6(lat));
        }
        if (flat.length >= 6) rings.push(flat);
      }
    }
  }
  return rings;
}
