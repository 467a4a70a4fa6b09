import { splitTile } from '../grid/split';
import type { MultiPolygon } from '../geo/geometry';
import type { TilePlan } from '../job/state';
import { REQUEST_MAX_BYTES, requestBytes } from '../../../shared/direct-limits';

/**
 * Earth Engine's limits on one `image:computePixels` request (docs/direct-download.md#limits): 48 MiB of
 * uncompressed data, counted as pixels × bands × bytes per pixel of each band (plus, as Earth Engine
 * counts it, one mask byte per band); at most 32768 pixels per side; 40 concurrent requests per project
 * by default.
 */
export { REQUEST_MAX_BYTES, requestBytes } from '../../../shared/direct-limits';
export const REQUEST_MAX_DIMENSION = 32768;
export const PROJECT_CONCURRENCY = 40;
export const DEFAULT_DIRECT_CONCURRENCY = 8;

/** Google's words for a request over the limit, marked as our estimate (the failure policy splits on them). */
export function tooLargeMessage(bytes: number, max = REQUEST_MAX_BYTES): string {
  return `Total request size (${bytes} bytes, estimated before sending) must be less than or equal to ${max} bytes.`;
}

/** Why these pixels cannot go in one request, or undefined when they fit. */
export function overLimit(dimensions: readonly [number, number], shape: { readonly bands: number; readonly bytesPerPixel: number }, maxBytes = REQUEST_MAX_BYTES): string | undefined {
  const bytes = requestBytes(dimensions, shape);
  if (bytes > maxBytes) return tooLargeMessage(bytes, maxBytes);
  if (Math.max(...dimensions) > REQUEST_MAX_DIMENSION) return `Pixel grid dimensions (${dimensions[0]}x${dimensions[1]}) must be less than or equal to ${REQUEST_MAX_DIMENSION}.`;
  return undefined;
}

/**
 * The requests a tile takes: itself when it fits, else its §2 children (docs/grid.md#split-children),
 * split again until each fits; children outside the ROI are left out, as for split exports.
 */
export function directRequests(tile: TilePlan, shape: { readonly bands: number; readonly bytesPerPixel: number }, roi: MultiPolygon, maxBytes = REQUEST_MAX_BYTES): TilePlan[] {
  if (!overLimit(tile.dimensions, shape, maxBytes) || Math.max(...tile.dimensions) <= 1) return [tile];
  return splitTile(tile, roi).flatMap((c) => directRequests(c as TilePlan, shape, roi, maxBytes));
}

/** How many times a tile of `tilePixels` must be split in four before each part fits in one request. */
export function splitsNeeded(tilePixels: number, shape: { readonly bands: number; readonly bytesPerPixel: number }, maxBytes = REQUEST_MAX_BYTES): number {
  let side = tilePixels;
  let n = 0;
  while (side > 1 && overLimit([side, side], shape, maxBytes)) {
    side = Math.ceil(side / 2);
    n++;
  }
  return n;
}
