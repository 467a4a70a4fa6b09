import { resolveCrs } from '../geo/crs';
import { buildGrid } from '../grid';
import type { Job } from '../job/job-file';
import type { TilePlan } from '../job/state';
import { loadRoi } from '../roi';

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
