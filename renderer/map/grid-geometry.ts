import type { GridData } from '../../shared/compact-view';

/**
 * A compact grid on the map (docs/dashboard.md, "A million units"): its corners projected once to
 * Web-Mercator world pixels at zoom 0, and the point → cell lookup for clicks and hovers, both straight
 * from the corner lattice — no object, ring or index entry per unit.
 */
export interface GridGeometry {
  readonly cols: number;
  readonly rows: number;
  /** (cols + 1) × (rows + 1) × [x, y] at zoom 0 (256 px world). */
  readonly xy: Float64Array;
  /** A cell's longer side at zoom 0, on average (the layer's choice between paths and the raster). */
  readonly side: number;
  /** A cell's shorter side at zoom 0, on average (how many cells may share a pixel). */
  readonly minSide: number;
}

const geometries = new WeakMap<GridData, GridGeometry>();

export function gridGeometry(g: GridData): GridGeometry {
  const cached = geometries.get(g);
  if (cached) return cached;
  const n = (g.cols + 1) * (g.rows + 1);
  const xy = new Float64Array(2 * n);
  const [lon0, lat0] = g.origin;
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (let k = 0; k < 2 * n; k += 2) {
    const lon = lon0 + g.corners[k]!;
    const lat = Math.max(-85.05112878, Math.min(85.05112878, lat0 + g.corners[k + 1]!));
    const x = ((lon + 180) / 360) * 256;
    const sin = Math.sin((lat * Math.PI) / 180);
    const y = (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * 256;
    xy[k] = x;
    xy[k + 1] = y;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  const geo = { cols: g.cols, rows: g.rows, xy, side: Math.max((x1 - x0) / g.cols, (y1 - y0) / g.rows), minSide: Math.min((x1 - x0) / g.cols, (y1 - y0) / g.rows) };
  geometries.set(g, geo);
  return geo;
}

/** The box [x0, y0, x1, y1] of cell (c, r) at zoom 0, written into `out`. */
export function cellBox(geo: GridGeometry, c: number, r: number, out: Float64Array): Float64Array {
  const w = geo.cols + 1;
  const xy = geo.xy;
  const a = 2 * (r * w + c);
  const b = a + 2;
  const d = a + 2 * w;
  const e = d + 2;
  out[0] = Math.min(xy[a]!, xy[b]!, xy[d]!, xy[e]!);
  out[1] = Math.min(xy[a + 1]!, xy[b + 1]!, xy[d + 1]!, xy[e + 1]!);
  out[2] = Math.max(xy[a]!, xy[b]!, xy[d]!, xy[e]!);
  out[3] = Math.max(xy[a + 1]!, xy[b + 1]!, xy[d + 1]!, xy[e + 1]!);
  return out;
}

/** Steps of the walk in `cellAt`: each jumps by the local cell size, so a continent-wide grid is crossed in a few. */
const MAX_STEPS = 64;

/**
 * The cell containing a point (degrees), or undefined outside the grid. A walk over the lattice: from a
 * first guess, the cell's own corners (as a parallelogram) say how many columns and rows away the point
 * is; the walk moves there and stops when the point is inside the cell's quadrilateral.
 */
export function cellAt(g: GridData, lon: number, lat: number): [number, number] | undefined {
  const w = g.cols + 1;
  const px = lon - g.origin[0];
  const py = lat - g.origin[1];
  const at = (c: number, r: number): [number, number] => [g.corners[2 * (r * w + c)]!, g.corners[2 * (r * w + c) + 1]!];
  // First guess: where the point lies in the grid's outer corners, as a parallelogram.
  let [c, r] = step(at(0, 0), at(g.cols, 0), at(0, g.rows), px, py, g.cols, g.rows);
  for (let k = 0; k < MAX_STEPS; k++) {
    c = Math.max(0, Math.min(g.cols - 1, c));
    r = Math.max(0, Math.min(g.rows - 1, r));
    const ring = [at(c, r), at(c + 1, r), at(c + 1, r + 1), at(c, r + 1)];
    if (inQuad(ring, px, py)) return [c, r];
    const [dc, dr] = step(ring[0]!, ring[1]!, ring[3]!, px, py, 1, 1);
    const nc = Math.max(0, Math.min(g.cols - 1, c + dc));
    const nr = Math.max(0, Math.min(g.rows - 1, r + dr));
    if (nc === c && nr === r) return undefined; // at the edge, pointing outside
    c = nc;
    r = nr;
  }
  return undefined;
}

/** Whole columns and rows from `o` (cell units: `o→a` spans `nc` columns, `o→b` `nr` rows) to the point. */
function step(o: [number, number], a: [number, number], b: [number, number], px: number, py: number, nc: number, nr: number): [number, number] {
  const ax = a[0] - o[0];
  const ay = a[1] - o[1];
  const bx = b[0] - o[0];
  const by = b[1] - o[1];
  const det = ax * by - ay * bx;
  if (det === 0) return [0, 0];
  const u = ((px - o[0]) * by - (py - o[1]) * bx) / det;
  const v = (ax * (py - o[1]) - ay * (px - o[0])) / det;
  return [Math.floor(u * nc), Math.floor(v * nr)];
}

function inQuad(ring: [number, number][], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
