/**
 * Earth Engine's size limit on one `image:computePixels` request (docs/direct-download.md#limits), shared
 * by the engine (which splits a unit over it before sending) and the wizard (which explains it next to
 * the tile size): 48 MiB of uncompressed data, pixels × (bytes per pixel of all bands + one mask byte per band).
 */
export const REQUEST_MAX_BYTES = 48 * 2 ** 20;

/** What one request of these pixels weighs as Earth Engine counts it: the estimate made before sending. */
export function requestBytes(dimensions: readonly [number, number], shape: { readonly bands: number; readonly bytesPerPixel: number }): number {
  return dimensions[0] * dimensions[1] * (shape.bytesPerPixel + shape.bands);
}

/** The largest square tile side (pixels) that fits in one request for this output shape. */
export function largestDirectTile(shape: { readonly bands: number; readonly bytesPerPixel: number }, maxBytes = REQUEST_MAX_BYTES): number {
  return Math.floor(Math.sqrt(maxBytes / (shape.bytesPerPixel + shape.bands)));
}
