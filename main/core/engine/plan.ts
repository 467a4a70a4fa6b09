import { resolveCrs } from '../geo/crs';
import { buildGrid } from '../grid';
import type { Job } from '../job/job-file';
import type { TilePlan } from '../job/state';
import { loadRoi, projectRoi } from '../roi';
import type { MultiPolygon } from '../geo/geometry';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** The job's tiles, from its ROI and grid; fixed in the journal at the first run. */
export async function planTiles(job: Job): Promise<{ tiles: TilePlan[]; warnings: string[] }> {
  const roi = await loadRoi(job.roi.path, { layer: job.roi.layer });
  const grid = buildGrid(roi, { crs: resolveCrs(job.grid.crs), scale: job.grid.scale, tilePixels: job.grid.tilePixels });
  return {
    tiles: grid.tiles.map((t) => ({ id: t.id, crs: t.crs, crsTransform: t.crsTransform, dimensions: t.dimensions })),
    warnings: grid.warnings,
  };
}

/** Square file size for `fileDimensions`: a multiple of shardSize covering the tile, so one file per tile. */
export function fileDimensionsFor(dimensions: readonly [number, number], shardSize: number, configured?: number): number {
  if (configured) return configured;
  return Math.ceil(Math.max(...dimensions) / shardSize) * shardSize;
}

/** How many files a tile's export makes: EE cuts it into fileDimensions-sized pieces. */
export function expectedFileCount(dimensions: readonly [number, number], fileDimensions: number): number {
  return Math.ceil(dimensions[0] / fileDimensions) * Math.ceil(dimensions[1] / fileDimensions);
}

/** The ROI in the job's export CRS (for deciding which children of a split tile to keep). */
export async function roiInExportCrs(job: Job): Promise<MultiPolygon> {
  const roi = await loadRoi(job.roi.path, { layer: job.roi.layer });
  return projectRoi(roi, resolveCrs(job.grid.crs), job.grid.scale / 4).polygons;
}

/** A hash of the ROI file's bytes: editing the ROI changes what the job means. */
export function roiContentHash(job: Job): Promise<string> {
  return fileHash(job.roi.path);
}

export async function fileHash(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex').slice(0, 16);
}
