import { CORNER_TOLERANCE, encodeGrid, knots, NO_UNIT, STATE_CODE, type CompactGrid, type CompactJob, type CompactSnapshot } from '../../../shared/compact-view';
import type { DashboardSnapshot, TileView } from '../../../shared/dashboard';
import { resolveCrs, transformer, WGS84 } from '../geo/crs';
import { parseTileId } from '../grid/tile-id';
import type { TileRecord } from '../job/state';
import type { HostedJob } from './hosted-job';
import { summaryOf } from './projection';

/**
 * A hosted job for the compact snapshot (docs/dashboard.md, "A million units"): the units on the job's
 * regular grid (`x{i}_y{j}`, tile i, j of `crsTransform` [s, 0, i·t·s, 0, −s, (j + 1)·t·s], docs/grid.md) as
 * one state byte each and the grid's corners; the others (split children) as objects.
 */
export function compactViewOf(h: HostedJob): CompactJob {
  const { grid, rest } = compactGridOf(h.views, h.repo.state.tiles, h);
  return { ...summaryOf(h), grid, tiles: rest, roi: h.roi, bounds: h.bounds };
}

/** A snapshot of objects in the compact shape (every unit an object): for hosts that keep no grid. */
export function compactOfSnapshot(s: DashboardSnapshot): CompactSnapshot {
  return { seq: s.seq, jobs: s.jobs.map((j) => ({ ...j, grid: null })) };
}

/** A grid is sent only when its cells are mostly units: an ROI of two far-apart areas is sent as objects. */
const MAX_EMPTY_SHARE = 4;

interface Cell {
  view: TileView;
  i: number;
  j: number;
  period: string | undefined;
}

/** Corners by job and grid extent: they never change once planned (a million projected points take a while). */
const cornerCache = new WeakMap<object, { key: string; step: number; corners: Float32Array; origin: [number, number] }>();

/** A job's units as drawn (`views`) split into its regular grid and the rest; `owner` keys the corner cache. */
export function compactGridOf(views: ReadonlyMap<string, TileView>, records: Readonly<Record<string, TileRecord>>, owner: object = views): { grid: CompactGrid | null; rest: TileView[] } {
  const rest: TileView[] = [];
  const cells: Cell[] = [];
  let crs: string | undefined;
  let scale = 0;
  let size = 0;
  for (const view of views.values()) {
    const at = view.id.indexOf('@');
    const period = at < 0 ? undefined : view.id.slice(0, at);
    const record = records[view.id];
    const ij = parseTileId(at < 0 ? view.id : view.id.slice(at + 1));
    if (!record || !ij) {
      rest.push({ ...view });
      continue;
    }
    const [a, , c, , e, f] = record.crsTransform;
    const [w, ht] = record.dimensions;
    if (crs === undefined) [crs, scale, size] = [record.crs, a, w];
    const fits = record.crs === crs && a === scale && w === size && ht === size && e === -scale && near(c, ij.i * size * scale) && near(f, (ij.j + 1) * size * scale);
    if (fits) cells.push({ view, i: ij.i, j: ij.j, period });
    else rest.push({ ...view });
  }
  if (!cells.length || crs === undefined) return { grid: null, rest };
  const periods: string[] = [];
  const periodIndex = new Map<string | undefined, number>();
  let i0 = Infinity;
  let j0 = Infinity;
  let i1 = -Infinity;
  let j1 = -Infinity;
  for (const cell of cells) {
    if (!periodIndex.has(cell.period)) {
      periodIndex.set(cell.period, periods.length);
      if (cell.period !== undefined) periods.push(cell.period);
    }
    i0 = Math.min(i0, cell.i);
    j0 = Math.min(j0, cell.j);
    i1 = Math.max(i1, cell.i);
    j1 = Math.max(j1, cell.j);
  }
  const cols = i1 - i0 + 1;
  const rows = j1 - j0 + 1;
  // Units with and without periods in one job cannot share one grid (never planned so; kept as objects).
  const mixed = periodIndex.has(undefined) && periods.length > 0;
  const layers = Math.max(1, periods.length);
  if (mixed || cols * rows * layers > MAX_EMPTY_SHARE * cells.length + 1024) return { grid: null, rest: [...rest, ...cells.map((x) => ({ ...x.view }))] };
  const states = new Uint8Array(cols * rows * layers).fill(NO_UNIT);
  const attempts = new Uint8Array(states.length);
  for (const cell of cells) {
    const k = (periodIndex.get(cell.period)! * rows + (cell.j - j0)) * cols + (cell.i - i0);
    states[k] = STATE_CODE[cell.view.state];
    attempts[k] = Math.min(255, cell.view.attempt);
  }
  const { step, corners, origin } = cornersOf(owner, crs, scale * size, i0, j0, cols, rows);
  return { grid: encodeGrid({ template: 'x{i}_y{j}', i0, j0, cols, rows, periods, origin, step, corners, states, attempts }), rest };
}

/** Steps tried for the corners, largest first (shared/compact-view.ts `step`); 1 always fits. */
const STEPS = [64, 16, 4, 2, 1];

function cornersOf(owner: object, crs: string, side: number, i0: number, j0: number, cols: number, rows: number): { step: number; corners: Float32Array; origin: [number, number] } {
  const key = `${crs} ${side} ${i0} ${j0} ${cols} ${rows}`;
  const cached = cornerCache.get(owner);
  if (cached?.key === key) return cached;
  const toWgs84 = transformer(resolveCrs(crs), WGS84);
  const exact = (c: number, r: number) => toWgs84((i0 + c) * side, (j0 + r) * side);
  for (const step of STEPS) {
    const xs = knots(cols, step);
    const ys = knots(rows, step);
    const lonLat = new Float64Array(xs.length * ys.length * 2);
    ys.forEach((r, y) => xs.forEach((c, x) => lonLat.set(exact(c, r), 2 * (y * xs.length + x))));
    if (step > 1 && !interpolates(lonLat, xs, ys, exact)) continue;
    const origin: [number, number] = [lonLat[0]!, lonLat[1]!];
    const corners = new Float32Array(lonLat.length);
    for (let k = 0; k < lonLat.length; k += 2) {
      corners[k] = lonLat[k]! - origin[0];
      corners[k + 1] = lonLat[k + 1]! - origin[1];
    }
    const entry = { key, step, corners, origin };
    cornerCache.set(owner, entry);
    return entry;
  }
  throw new Error('unreachable: step 1 gives every corner');
}

/**
 * Whether bilinear interpolation between the knots gives the true corners within CORNER_TOLERANCE: checked
 * at the middle of each knot cell and of its lower and left edges (where a curved projection strays most).
 */
function interpolates(lonLat: Float64Array, xs: number[], ys: number[], exact: (c: number, r: number) => [number, number]): boolean {
  const nx = xs.length;
  for (let y = 0; y + 1 < ys.length; y++) {
    for (let x = 0; x + 1 < nx; x++) {
      const [c0, c1, r0, r1] = [xs[x]!, xs[x + 1]!, ys[y]!, ys[y + 1]!];
      for (const [c, r] of [[(c0 + c1) >> 1, (r0 + r1) >> 1], [(c0 + c1) >> 1, r0], [c0, (r0 + r1) >> 1]] as const) {
        const u = (c - c0) / (c1 - c0);
        const v = (r - r0) / (r1 - r0);
        const [lon, lat] = exact(c, r);
        const a = 2 * (y * nx + x);
        const d = a + 2 * nx;
        for (const [q, want] of [[0, lon], [1, lat]] as const) {
          const got = (1 - v) * ((1 - u) * lonLat[a + q]! + u * lonLat[a + 2 + q]!) + v * ((1 - u) * lonLat[d + q]! + u * lonLat[d + 2 + q]!);
          if (!(Math.abs(got - want) <= CORNER_TOLERANCE)) return false;
        }
      }
    }
  }
  return true;
}

function near(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
}
