import type { GridSpec, Tile } from './grid';
import { tileId } from './tile-id';

/**
 * The tiles of a grid as two columns of lattice indices (8 bytes a tile); each `Tile` object is made when
 * asked for and not kept. A grid of 100,000 tiles held as objects (id string, two arrays each) took ~30 MB
 * and most of `buildGrid`'s time; its consumers walk the tiles once (the journal's plan, the GeoJSON
 * writer, the wizard's preview), so nothing is lost by making them on the way.
 */
export class TileList implements Iterable<Tile> {
  /** Column (i) and row (j) of every tile, in grid order (rows bottom to top, columns left to right). */
  readonly is: Int32Array;
  readonly js: Int32Array;

  constructor(
    private readonly spec: Pick<GridSpec, 'crs' | 'scale' | 'tilePixels'>,
    is: Int32Array,
    js: Int32Array,
  ) {
    if (is.length !== js.length) throw new Error('TileList: the i and j columns differ in length');
    this.is = is;
    this.js = js;
  }

  get length(): number {
    return this.is.length;
  }

  /** The k-th tile (negative k counts from the end, as `Array.at`), or undefined beyond the list. */
  at(k: number): Tile | undefined {
    const n = k < 0 ? this.is.length + k : k;
    if (!(n >= 0 && n < this.is.length)) return undefined;
    return makeTile(this.spec, this.is[n]!, this.js[n]!);
  }

  *[Symbol.iterator](): Iterator<Tile> {
    for (let k = 0; k < this.is.length; k++) yield makeTile(this.spec, this.is[k]!, this.js[k]!);
  }

  map<T>(f: (tile: Tile, k: number) => T): T[] {
    const out = new Array<T>(this.is.length);
    for (let k = 0; k < this.is.length; k++) out[k] = f(makeTile(this.spec, this.is[k]!, this.js[k]!), k);
    return out;
  }

  find(predicate: (tile: Tile, k: number) => boolean): Tile | undefined {
    for (let k = 0; k < this.is.length; k++) {
      const t = makeTile(this.spec, this.is[k]!, this.js[k]!);
      if (predicate(t, k)) return t;
    }
    return undefined;
  }

  /** Tiles start … end − 1 as objects (e.g. the first few thousand for a preview). */
  slice(start = 0, end = this.is.length): Tile[] {
    const out: Tile[] = [];
    for (let k = Math.max(0, start); k < Math.min(end, this.is.length); k++) out.push(makeTile(this.spec, this.is[k]!, this.js[k]!));
    return out;
  }

  /** Smallest and largest column and row (no spread of 100,000 arguments into Math.min). */
  range(): { iMin: number; iMax: number; jMin: number; jMax: number } {
    let iMin = Infinity, iMax = -Infinity, jMin = Infinity, jMax = -Infinity;
    for (let k = 0; k < this.is.length; k++) {
      const i = this.is[k]!, j = this.js[k]!;
      if (i < iMin) iMin = i;
      if (i > iMax) iMax = i;
      if (j < jMin) jMin = j;
      if (j > jMax) jMax = j;
    }
    return { iMin, iMax, jMin, jMax };
  }
}

/** The export parameters of tile (i, j) of a grid (docs/grid.md#export-parameters). */
export function makeTile(spec: Pick<GridSpec, 'crs' | 'scale' | 'tilePixels'>, i: number, j: number): Tile {
  const s = spec.scale;
  const t = spec.tilePixels;
  return { id: tileId(i, j), i, j, crs: spec.crs.id, crsTransform: [s, 0, i * t * s, 0, -s, (j + 1) * t * s], dimensions: [t, t] };
}
