import type { TileRecord } from '../job/state';

/** How many bytes a tile's outputs will take in Drive, learnt from the tiles already downloaded. */
export class OutputSizeEstimate {
  private bytes = 0;
  private pixels = 0;

  /** `ceilingBytesPerPixel`: the uncompressed size per pixel (the grid estimate), an upper bound. */
  constructor(private readonly ceilingBytesPerPixel: number) {}

  learn(tile: TileRecord): void {
    this.bytes += tile.files.reduce((s, f) => s + f.size, 0);
    this.pixels += tile.dimensions[0] * tile.dimensions[1];
  }

  forTile(tile: Pick<TileRecord, 'dimensions'>): number {
    const px = tile.dimensions[0] * tile.dimensions[1];
    const observed = this.pixels > 0 ? this.bytes / this.pixels : this.ceilingBytesPerPixel;
    return px * Math.min(observed, this.ceilingBytesPerPixel);
  }
}

/** True when one more export fits in Drive, keeping `reserve` bytes free. */
export function driveHasRoom(limit: number | null, usage: number, inFlightBytes: number, nextBytes: number, reserve: number): boolean {
  if (limit === null) return true;
  return limit - usage - inFlightBytes - nextBytes >= reserve;
}

/**
 * True when one more task keeps the job's projected EECU use within the budget: what was used, plus
 * every task in flight and this one at the average cost of the tiles exported so far.
 */
export function budgetAllows(usedSeconds: number, exported: number, inFlight: number, budgetHours: number | undefined): boolean {
  if (budgetHours === undefined || exported === 0) return true;
  const average = usedSeconds / exported;
  return usedSeconds + (inFlight + 1) * average <= budgetHours * 3600;
}
