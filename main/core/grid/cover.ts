import type { MultiPolygon } from '../geo/geometry';

/**
 * Which cells of the unit lattice (cell (i, j) = [i, i+1] × [j, j+1]) meet a polygon set in positive
 * area. The polygons must be valid and non-overlapping (the union's output), in lattice units.
 *
 * Two facts make this exact and fast, without testing every cell against every vertex:
 *  - a cell whose open interior an edge passes through is kept: the polygon's interior lies on one side
 *    of every edge, right next to it, inside the cell;
 *  - any other cell's open interior meets no edge, so it is wholly inside or wholly outside, and its
 *    centre decides. Centres are classified row by row with a scanline (even–odd crossings).
 * Cost: O(edges + cells along edges + rows) plus the output.
 */
export interface CoverRow {
  readonly j: number;
  /** Sorted, unique column indices of kept cells. */
  readonly cols: Int32Array;
}

export function coverCells(mp: MultiPolygon): CoverRow[] {
  const edges = collectEdges(mp);
  if (edges.count === 0) return [];
  const boundary = boundaryCells(edges);
  const interior = interiorSpans(edges);
  const rows = new Set<number>([...boundary.keys(), ...interior.keys()]);
  const out: CoverRow[] = [];
  for (const j of [...rows].sort((a, b) => a - b)) {
    const b = boundary.get(j) ?? [];
    const spans = interior.get(j) ?? [];
    let n = b.length;
    for (let k = 0; k < spans.length; k += 2) n += spans[k + 1]! - spans[k]! + 1;
    const cols = new Int32Array(n);
    let w = 0;
    for (const i of b) cols[w++] = i;
    for (let k = 0; k < spans.length; k += 2) for (let i = spans[k]!; i <= spans[k + 1]!; i++) cols[w++] = i;
    cols.sort();
    let u = 0;
    for (let k = 0; k < cols.length; k++) if (k === 0 || cols[k] !== cols[k - 1]) cols[u++] = cols[k]!;
    out.push({ j, cols: cols.slice(0, u) });
  }
  return out;
}

interface Edges {
  count: number;
  /** x1, y1, x2, y2 per edge. */
  xy: Float64Array;
}

function collectEdges(mp: MultiPolygon): Edges {
  let n = 0;
  for (const poly of mp) for (const ring of poly) n += ring.length;
  const xy = new Float64Array(n * 4);
  let count = 0;
  for (const poly of mp)
    for (const ring of poly) {
      const len = ring.length;
      for (let k = 0; k < len; k++) {
        const a = ring[k]!;
        const b = ring[(k + 1) % len]!;
        if (a[0] === b[0] && a[1] === b[1]) continue;
        xy.set([a[0], a[1], b[0], b[1]], count * 4);
        count++;
      }
    }
  return { count, xy };
}

/** Cells whose open interior some edge passes through, grouped by row. */
function boundaryCells(edges: Edges): Map<number, number[]> {
  const seen = new Map<number, Set<number>>();
  const { xy } = edges;
  for (let e = 0; e < edges.count; e++) {
    const x1 = xy[e * 4]!, y1 = xy[e * 4 + 1]!, x2 = xy[e * 4 + 2]!, y2 = xy[e * 4 + 3]!;
    const j0 = Math.floor(Math.min(y1, y2));
    const j1 = Math.floor(Math.max(y1, y2));
    for (let j = j0; j <= j1; j++) {
      // The part of the edge within the row band [j, j+1] bounds the candidate columns.
      let xa: number, xb: number;
      if (y1 === y2) {
        xa = Math.min(x1, x2);
        xb = Math.max(x1, x2);
      } else {
        const ta = clamp01((j - y1) / (y2 - y1));
        const tb = clamp01((j + 1 - y1) / (y2 - y1));
        const pa = x1 + (x2 - x1) * ta;
        const pb = x1 + (x2 - x1) * tb;
        xa = Math.min(pa, pb);
        xb = Math.max(pa, pb);
      }
      for (let i = Math.floor(xa); i <= Math.floor(xb); i++) {
        if (!crossesOpenCell(x1, y1, x2, y2, i, j)) continue;
        let row = seen.get(j);
        if (!row) seen.set(j, (row = new Set()));
        row.add(i);
      }
    }
  }
  const out = new Map<number, number[]>();
  for (const [j, set] of seen) out.set(j, [...set]);
  return out;
}

/** Liang–Barsky against the open cell (i, i+1) × (j, j+1): touching its border does not count. */
export function crossesOpenCell(x1: number, y1: number, x2: number, y2: number, i: number, j: number): boolean {
  let lo = -Infinity;
  let hi = Infinity;
  const dx = x2 - x1;
  const dy = y2 - y1;
  const limits: [number, number][] = [
    [-dx, x1 - i], // x > i
    [dx, i + 1 - x1], // x < i + 1
    [-dy, y1 - j],
    [dy, j + 1 - y1],
  ];
  for (const [p, q] of limits) {
    if (p === 0) {
      if (q <= 0) return false;
    } else if (p < 0) {
      lo = Math.max(lo, q / p);
    } else {
      hi = Math.min(hi, q / p);
    }
  }
  return lo < hi && lo < 1 && hi > 0;
}

/** Per row, inclusive column spans [a0, b0, a1, b1, …] of cells whose centre lies inside. */
function interiorSpans(edges: Edges): Map<number, number[]> {
  const { xy } = edges;
  // Bucket each edge into the rows whose centre line y = j + 0.5 it crosses (half-open in y).
  const buckets = new Map<number, number[]>();
  for (let e = 0; e < edges.count; e++) {
    const y1 = xy[e * 4 + 1]!, y2 = xy[e * 4 + 3]!;
    if (y1 === y2) continue;
    const lo = Math.min(y1, y2);
    const hi = Math.max(y1, y2);
    // centre c crosses when lo <= c < hi
    for (let j = Math.ceil(lo - 0.5); j + 0.5 < hi; j++) {
      let b = buckets.get(j);
      if (!b) buckets.set(j, (b = []));
      b.push(e);
    }
  }
  const out = new Map<number, number[]>();
  const xs: number[] = [];
  for (const [j, list] of buckets) {
    const c = j + 0.5;
    xs.length = 0;
    for (const e of list) {
      const x1 = xy[e * 4]!, y1 = xy[e * 4 + 1]!, x2 = xy[e * 4 + 2]!, y2 = xy[e * 4 + 3]!;
      xs.push(x1 + ((c - y1) / (y2 - y1)) * (x2 - x1));
    }
    xs.sort((a, b) => a - b);
    const spans: number[] = [];
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // cells whose centre i + 0.5 lies in (xs[k], xs[k+1])
      const a = Math.ceil(xs[k]! - 0.5);
      const b = Math.floor(xs[k + 1]! - 0.5);
      if (a <= b) spans.push(a, b);
    }
    if (spans.length) out.set(j, spans);
  }
  return out;
}

function clamp01(t: number): number {
  return t < 0 ? 0 : t > 1 ? 1 : t;
}
