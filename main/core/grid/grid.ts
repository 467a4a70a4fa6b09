import { UserError } from '../errors';
import { DATA_TYPE_BYTES, EE_DEFAULT_MAX_PIXELS, type DataTypeName } from '../../../shared/estimate';
import type { Crs } from '../geo/crs';
import type { MultiPolygon } from '../geo/geometry';
import { projectRoi, type Roi } from '../roi';
import { coverCells } from './cover';
import { TileList } from './tile-list';

/** Export parameters of one tile (docs/grid.md#export-parameters): exactly what `Export.image.toDrive` needs. */
export interface Tile {
  readonly id: string;
  readonly i: number;
  readonly j: number;
  readonly crs: string;
  /** [s, 0, x0, 0, −s, y1]: x0 the left edge, y1 the top edge. */
  readonly crsTransform: [number, number, number, number, number, number];
  readonly dimensions: [number, number];
}

export interface GridSpec {
  readonly crs: Crs;
  /** Pixel size in the CRS's units. */
  readonly scale: number;
  /** Tile edge in pixels. */
  readonly tilePixels: number;
}

/** Bytes per pixel and band of each export data type (one table, in shared/estimate.ts). */
export const DATA_TYPES = DATA_TYPE_BYTES;
export type DataType = DataTypeName;

export interface GridEstimate {
  readonly bands: number;
  readonly dataType: DataType;
  readonly pixelsPerTile: number;
  readonly bytesPerTile: number;
  readonly totalPixels: number;
  readonly totalBytes: number;
}

export interface Grid {
  readonly spec: GridSpec;
  /** Compact: tile objects are made on demand (tile-list.ts). */
  readonly tiles: TileList;
  /** ROI in the export CRS (union, densified), e.g. for drawing its outline. */
  readonly roi: MultiPolygon;
  readonly roiArea: number;
  readonly estimate: GridEstimate;
  readonly warnings: string[];
}

/** Earth Engine's default `maxPixels` for an export (one definition: shared/estimate.ts). */
export { EE_DEFAULT_MAX_PIXELS };
/** Beyond this a grid is a mistake (wrong unit, pixel size in degrees given in metres…), not a job. */
export const MAX_TILES = 5_000_000;

export interface BuildGridOptions {
  bands?: number;
  dataType?: DataType;
}

export function checkGridSpec(spec: GridSpec): void {
  if (!(Number.isFinite(spec.scale) && spec.scale > 0)) {
    throw new UserError(`the pixel size (--scale) must be a positive number of ${spec.crs.unit}s, not ${spec.scale}`);
  }
  if (!(Number.isInteger(spec.tilePixels) && spec.tilePixels >= 1 && spec.tilePixels <= 1_000_000)) {
    throw new UserError(`the tile size (--tile-pixels) must be a whole number of pixels from 1 to 1000000, not ${spec.tilePixels}`);
  }
  if (spec.crs.geographic && spec.scale > 1) {
    throw new UserError(`--scale ${spec.scale} is in degrees for ${spec.crs.id}; a pixel over 1° is surely a mistake (did you mean metres and a projected CRS?)`);
  }
}

/** Cuts the ROI into the pixel-aligned tiles of docs/grid.md#which-tiles-are-kept. */
export function buildGrid(roi: Roi, spec: GridSpec, options: BuildGridOptions = {}): Grid {
  checkGridSpec(spec);
  const bands = options.bands ?? 1;
  const dataType = options.dataType ?? 'Float32';
  if (!(Number.isInteger(bands) && bands >= 1 && bands <= 5000)) throw new UserError(`--bands must be a whole number from 1 to 5000, not ${bands}`);
  const tileSize = spec.tilePixels * spec.scale;
  // A quarter pixel keeps densified edges within the accuracy the export can resolve anyway.
  const projected = projectRoi(roi, spec.crs, spec.scale / 4);
  const warnings = [...roi.warnings, ...projected.warnings];

  const approxTiles = projected.area / (tileSize * tileSize);
  if (approxTiles > MAX_TILES) {
    throw new UserError(
      `this grid would hold about ${Math.round(approxTiles).toLocaleString('en')} tiles (limit ${MAX_TILES.toLocaleString('en')}): use a larger --tile-pixels or --scale`,
    );
  }
  const lattice: MultiPolygon = projected.polygons.map((poly) =>
    poly.map((ring) => ring.map(([x, y]): [number, number] => [toLattice(x, tileSize), toLattice(y, tileSize)])),
  );
  const rows = coverCells(lattice);
  let count = 0;
  for (const row of rows) count += row.cols.length;
  const is = new Int32Array(count);
  const js = new Int32Array(count);
  let k = 0;
  for (const row of rows) {
    is.set(row.cols, k);
    js.fill(row.j, k, k + row.cols.length);
    k += row.cols.length;
  }
  const tiles = new TileList(spec, is, js);
  const t = spec.tilePixels;
  const pixelsPerTile = t * t;
  const bytesPerTile = pixelsPerTile * bands * DATA_TYPES[dataType];
  if (pixelsPerTile > EE_DEFAULT_MAX_PIXELS) {
    warnings.push(
      // tessera run sends each tile's own pixel count as maxPixels (shared/estimate.ts maxPixelsSent): no key to set.
      `each tile has ${pixelsPerTile.toLocaleString('en')} pixels, above Earth Engine's default maxPixels (1e8); tessera run sends maxPixels = ${pixelsPerTile.toLocaleString('en')} with each export, so this is fine unless "export.maxPixels" is set lower (large tiles run longer and split more often: consider a smaller tile size)`,
    );
  }
  return {
    spec,
    tiles,
    roi: projected.polygons,
    roiArea: projected.area,
    estimate: {
      bands,
      dataType,
      pixelsPerTile,
      bytesPerTile,
      totalPixels: pixelsPerTile * tiles.length,
      totalBytes: bytesPerTile * tiles.length,
    },
    warnings,
  };
}

/**
 * Lattice units (one unit per tile). A vertex within 1e-9 tiles of a grid line is put on it: 178.2 / 0.1
 * is 1781.9999999999998 in floating point, and a ROI drawn along a tile edge must touch, not overlap.
 */
function toLattice(v: number, tileSize: number): number {
  const u = v / tileSize;
  const r = Math.round(u);
  return Math.abs(u - r) < 1e-9 ? r : u;
}

/** Corners of a tile in its CRS: [x0, y0, x1, y1] (y0 bottom, y1 top). */
export function tileBounds(tile: Pick<Tile, 'crsTransform' | 'dimensions'>): [number, number, number, number] {
  const [s, , x0, , , y1] = tile.crsTransform;
  return [x0, y1 - tile.dimensions[1] * s, x0 + tile.dimensions[0] * s, y1];
}
