import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fromArrayBuffer } from 'geotiff';
import { writeFileAtomic } from '../../common/atomic-write';
import { checkGrids, describeTile, gridOfImage, type RasterGrid, type TileGrid } from '../sync/grid-check';

/**
 * A directly fetched GeoTIFF on its way to the output folder (docs/direct-download.md#writing-and-verifying): its header
 * is read back first (size, transform, CRS, band count against the unit's grid), then it is written to a
 * temporary name in the same folder, fsynced, renamed to the export's name and the folder fsynced. A
 * crash leaves either no file or the whole verified one.
 */
export interface WrittenOutput {
  readonly name: string;
  readonly size: number;
  readonly md5: string;
}

/** The header of a GeoTIFF held in memory: its grid and band count. */
export async function readGeoTiffHeader(bytes: Uint8Array): Promise<RasterGrid & { bands: number }> {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const tiff = await fromArrayBuffer(buffer);
  return gridOfImage(await tiff.getImage());
}

/** The problem with a fetched GeoTIFF in one line, or undefined when its header is the unit's grid. */
export async function checkFetched(name: string, bytes: Uint8Array, unit: TileGrid, bands: number | undefined): Promise<string | undefined> {
  let header;
  try {
    header = await readGeoTiffHeader(bytes);
  } catch (e) {
    return `${name}: the answer is not a readable GeoTIFF (${(e as Error).message}); the tile's grid is ${describeTile(unit)}`;
  }
  const grid = checkGrids(unit, [{ name, grid: header }], false);
  if (grid) return grid;
  if (bands !== undefined && header.bands !== bands) return `${name}: ${header.bands} bands, where ${bands} were expected`;
  return undefined;
}

/** Writes the bytes under `path` atomically and durably (the one atomic writer: temp + fsync + rename + folder fsync). */
export async function writeDurably(path: string, bytes: Uint8Array): Promise<WrittenOutput> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, bytes);
  return { name: basename(path), size: bytes.byteLength, md5: createHash('md5').update(bytes).digest('hex') };
}
