/**
 * Finds the tile under a point without asking Leaflet (tiles are not interactive: hit-testing thousands
 * of canvas paths on every mouse move is what makes big Leaflet layers slow). A uniform grid of cells
 * over the tiles' extent, each cell listing the tiles whose bounding box meets it; a lookup tests only
 * the tiles of one cell, bounding box first, then the ring itself.
 */
export interface Indexed {
  readonly id: string;
  /** Flat [lon, lat, …] ring. */
  readonly ring: readonly number[];
}

interface Entry {
  id: string;
  ring: readonly number[];
  box: [number, number, number, number];
}

/** The cells' layout: nx × ny cells of cw × ch degrees, from the south-west corner (w, s). */
interface Layout {
  readonly nx: number;
  readonly ny: number;
  readonly w: number;
  readonly s: number;
  readonly cw: number;
  readonly ch: number;
}

const ONE_CELL: Layout = { nx: 1, ny: 1, w: 0, s: 0, cw: 1, ch: 1 };

export class GridIndex {
  private cells: Entry[][] = [];
  private layout = ONE_CELL;
  private readonly entries = new Map<string, Entry>();

  constructor(items: Iterable<Indexed> = []) {
    for (const it of items) this.entries.set(it.id, entryOf(it));
    this.rebuild();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Adds tiles; inside the current extent they go into their cells, otherwise the grid is rebuilt. */
  add(items: Iterable<Indexed>): void {
    let outside = false;
    const fresh: Entry[] = [];
    const { nx, ny, w, s, cw, ch } = this.layout;
    for (const it of items) {
      const e = entryOf(it);
      this.entries.set(it.id, e);
      fresh.push(e);
      const [a, b, c, d] = e.box;
      if (a < w || b < s || c > w + nx * cw || d > s + ny * ch) outside = true;
    }
    if (outside) this.rebuild();
    else for (const e of fresh) this.insert(e);
  }

  /** Ids of the tiles containing the point (longitude, latitude), most recently added last. */
  at(lon: number, lat: number): string[] {
    const hits: string[] = [];
    const { nx, ny, w, s, cw, ch } = this.layout;
    for (const x of [lon, lon - 360, lon + 360]) {
      const i = Math.floor((x - w) / cw);
      const j = Math.floor((lat - s) / ch);
      if (i < 0 || j < 0 || i >= nx || j >= ny) continue;
      for (const e of this.cells[j * nx + i] ?? []) {
        const [a, b, c, d] = e.box;
        if (x < a || x > c || lat < b || lat > d) continue;
        if (inRing(e.ring, x, lat)) hits.push(e.id);
      }
    }
    return hits;
  }

  private rebuild(): void {
    let w = Infinity;
    let s = Infinity;
    let e = -Infinity;
    let n = -Infinity;
    for (const it of this.entries.values()) {
      w = Math.min(w, it.box[0]);
      s = Math.min(s, it.box[1]);
      e = Math.max(e, it.box[2]);
      n = Math.max(n, it.box[3]);
    }
    if (!Number.isFinite(w)) {
      this.cells = [];
      this.layout = ONE_CELL;
      return;
    }
    // About two tiles per cell; a little margin so split children (inside their parent) always fit.
    const side = Math.max(1, Math.min(1024, Math.ceil(Math.sqrt(this.entries.size / 2))));
    const width = Math.max(e - w, 1e-9);
    const height = Math.max(n - s, 1e-9);
    this.layout = { nx: side, ny: side, w: w - width * 1e-6, s: s - height * 1e-6, cw: (width * (1 + 2e-6)) / side, ch: (height * (1 + 2e-6)) / side };
    this.cells = Array.from({ length: side * side }, () => []);
    for (const it of this.entries.values()) this.insert(it);
  }

  private insert(e: Entry): void {
    const [a, b, c, d] = e.box;
    const { nx, ny, w, s, cw, ch } = this.layout;
    const i0 = clamp(Math.floor((a - w) / cw), nx);
    const i1 = clamp(Math.floor((c - w) / cw), nx);
    const j0 = clamp(Math.floor((b - s) / ch), ny);
    const j1 = clamp(Math.floor((d - s) / ch), ny);
    for (let j = j0; j <= j1; j++) for (let i = i0; i <= i1; i++) this.cells[j * nx + i]!.push(e);
  }
}

function clamp(v: number, n: number): number {
  return Math.max(0, Math.min(n - 1, v));
}

function entryOf(it: Indexed): Entry {
  let a = Infinity;
  let b = Infinity;
  let c = -Infinity;
  let d = -Infinity;
  for (let k = 0; k + 1 < it.ring.length; k += 2) {
    a = Math.min(a, it.ring[k]!);
    c = Math.max(c, it.ring[k]!);
    b = Math.min(b, it.ring[k + 1]!);
    d = Math.max(d, it.ring[k + 1]!);
  }
  return { id: it.id, ring: it.ring, box: [a, b, c, d] };
}

/** Even–odd ray casting on a flat ring. */
export function inRing(ring: readonly number[], x: number, y: number): boolean {
  let inside = false;
  const n = ring.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = ring[2 * i]!;
    const yi = ring[2 * i + 1]!;
    const xj = ring[2 * j]!;
    const yj = ring[2 * j + 1]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
