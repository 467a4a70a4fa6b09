/**
 * What an Earth Engine export produces, as far as the emulator needs to know: its pixel grid, bands and
 * data types. The evaluator (evaluator.ts) derives it from the request's expression graph; the export
 * writer turns it into GeoTIFF files. Anything the evaluator cannot follow is a NotEmulatedError, which
 * fails the task with a clear "not emulated: …" message instead of inventing output.
 */
export type EeDataType = 'Int8' | 'UInt8' | 'Int16' | 'UInt16' | 'Int32' | 'UInt32' | 'Float32' | 'Float64';

export interface ExportGrid {
  /** `EPSG:n` (what `Projection(crs)` named). */
  readonly crs: string;
  /** GDAL-order geotransform [x0, sx, shx, y0, shy, sy] is NOT used: this is EE order [sx, shx, x0, shy, sy, y0]. */
  readonly crsTransform: readonly [number, number, number, number, number, number];
  readonly width: number;
  readonly height: number;
}

export interface ExportBand {
  readonly name: string;
  readonly dataType: EeDataType;
}

export interface ImageProduct {
  readonly kind: 'image';
  readonly grid: ExportGrid;
  readonly bands: readonly ExportBand[];
  /** width × height: what the task's run time and maxPixels are judged on. */
  readonly pixels: number;
}

export class NotEmulatedError extends Error {
  constructor(what: string) {
    super(`not emulated: ${what}`);
    this.name = 'NotEmulatedError';
  }
}
