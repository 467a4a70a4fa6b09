import { join } from 'node:path';
import { fromFile, type GeoTIFFImage as GeoTiffImage } from 'geotiff';

/**
 * Verify the grid, not only the bytes (docs/ownership.md, "Grid check"): an MD5 that matches Drive says
 * the download is what Drive held, not that it is the tile's. Before a tile is done, each GeoTIFF's header
 * is read back and its size, transform and CRS compared with the tile's export grid; split parts must each
 * lie inside the tile and together cover it exactly (without overlap).
 */

export interface TileGrid {
  readonly crs: string;
  readonly crsTransform: readonly [number, number, number, number, number, number];
  readonly dimensions: readonly [number, number];
}

export interface RasterGrid {
  width: number;
  height: number;
  /** Upper-left corner. */
  originX: number;
  originY: number;
  /** Pixel size: x positive, y negative for north-up rasters. */
  pixelX: number;
  pixelY: number;
  /** `EPSG:n`, or undefined when the file names no EPSG code. */
  crs: string | undefined;
}

/** Reads one GeoTIFF's grid from its header (no pixels are read). */
export async function readRasterGrid(path: string): Promise<RasterGrid> {
  const tiff = await fromFile(path);
  try {
    return gridOfImage(await tiff.getImage());
  } finally {
    await tiff.close();
  }
}

/** The grid and band count in one GeoTIFF image's header (the `geotiff` package's image). */
export function gridOfImage(image: GeoTiffImage): RasterGrid & { bands: number } {
  const [originX, originY] = image.getOrigin();
  const [pixelX, pixelY] = image.getResolution();
  const keys = image.getGeoKeys() ?? {};
  const code = (keys.ProjectedCSTypeGeoKey ?? keys.GeographicTypeGeoKey) as number | undefined;
  return {
    width: image.getWidth(),
    height: image.getHeight(),
    originX: originX!,
    originY: originY!,
    pixelX: pixelX!,
    pixelY: pixelY!,
    // 32767 is GeoTIFF's "user-defined": no EPSG code to compare.
    crs: typeof code === 'number' && code > 0 && code !== 32767 ? `EPSG:${code}` : undefined,
    bands: image.getSamplesPerPixel(),
  };
}

export function describeRaster(g: RasterGrid): string {
  return `${g.width}×${g.height} px from (${g.originX}, ${g.originY}), pixel ${g.pixelX}×${g.pixelY}, ${g.crs ?? 'no EPSG code'}`;
}

export function describeTile(t: TileGrid): string {
  const [s, , x0, , sy, y1] = t.crsTransform;
  return `${t.dimensions[0]}×${t.dimensions[1]} px from (${x0}, ${y1}), pixel ${s}×${sy}, ${t.crs}`;
}

/**
 * Checks the outputs' grids against the tile's; the problem in one line naming both grids, or undefined.
 * `partial` allows gaps (skipEmptyTiles: Earth Engine writes no file for an empty part).
 */
export function checkGrids(tile: TileGrid, files: readonly { name: string; grid: RasterGrid }[], partial: boolean): string | undefined {
  const [sx, shx, x0, shy, sy, y1] = tile.crsTransform;
  const [w, h] = tile.dimensions;
  const near = (a: number, b: number, scale: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(scale));
  const rects: { name: string; col: number; row: number; w: number; h: number }[] = [];
  for (const { name, grid: g } of files) {
    const wrong = (why: string) => `${name}: ${why}: the file's grid is ${describeRaster(g)}; the tile's is ${describeTile(tile)}`;
    if (g.crs?.toUpperCase() !== tile.crs.toUpperCase()) return wrong('another CRS');
    if (shx !== 0 || shy !== 0) continue; // a sheared grid is not what tiles are; nothing more to compare
    if (!near(g.pixelX, sx, sx) || !near(g.pixelY, sy, sy)) return wrong('another pixel size');
    const col = (g.originX - x0) / sx;
    const row = (g.originY - y1) / sy;
    if (!near(col, Math.round(col), 1) || !near(row, Math.round(row), 1)) return wrong('not on the tile\'s pixel grid');
    const r = { name, col: Math.round(col), row: Math.round(row), w: g.width, h: g.height };
    if (r.col < 0 || r.row < 0 || r.col + r.w > w || r.row + r.h > h) return wrong('not inside the tile');
    const over = rects.find((o) => r.col < o.col + o.w && o.col < r.col + r.w && r.row < o.row + o.h && o.row < r.row + r.h);
    if (over) return wrong(`it overlaps ${over.name}`);
    rects.push(r);
  }
  const area = rects.reduce((s, r) => s + r.w * r.h, 0);
  if (!partial && rects.length === files.length && area !== w * h) {
    return `the outputs cover ${area} of the tile's ${w * h} pixels (${files.map((f) => `${f.name}: ${describeRaster(f.grid)}`).join('; ')}); the tile's grid is ${describeTile(tile)}`;
  }
  return undefined;
}

/** The downloaded GeoTIFFs of a tile (its journaled files) checked against the tile's grid. */
export async function checkOutputGrids(outputDir: string, tile: TileGrid & { files: readonly { name: string }[] }, partial: boolean): Promise<string | undefined> {
  const tifs = tile.files.filter((f) => f.name.endsWith('.tif'));
  if (tifs.length === 0) return undefined;
  const grids = [];
  for (const f of tifs) {
    try {
      grids.push({ name: f.name, grid: await readRasterGrid(join(outputDir, f.name)) });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== undefined) throw e; // the disk, not the file
      return `${f.name}: not a readable GeoTIFF (${(e as Error).message}); the tile's grid is ${describeTile(tile)}`;
    }
  }
  return checkGrids(tile, grids, partial);
}
