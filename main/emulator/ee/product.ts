/**
 * What an Earth Engine export produces, as far as the emulator needs to know: for an image its pixel grid,
 * bands, data types and mask; for a table its features. The evaluator (evaluator.ts) derives it from the
 * request's expression graph; the export writer (outputs.ts) turns it into GeoTIFF, CSV or GeoJSON files. Anything the evaluator cannot follow is a NotEmulatedError, which
 * fails the task with a clear "not emulated: …" message instead of inventing output.
 */
import type { Clip } from './mask';

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
  /**
   * The geometries the image was clipped to, as rings in whole-grid pixel coordinates (mask.ts): pixels
   * outside any of them are masked (written as noData, or 0). Absent when the image was never clipped.
   */
  readonly clips?: readonly Clip[];
}

/** A property value of a feature, as JSON. */
export type PropertyValue = null | boolean | number | string | readonly PropertyValue[] | { readonly [key: string]: PropertyValue };

/** A GeoJSON geometry in EPSG:4326 (what EE writes in `.geo` and GeoJSON exports). */
export interface GeoJsonGeometry {
  readonly type: string;
  readonly coordinates: unknown;
}

/** One feature of a FeatureCollection the evaluator could follow. */
export interface TableFeature {
  /** `system:index`. */
  readonly id: string;
  readonly geometry: GeoJsonGeometry | null;
  readonly properties: { readonly [key: string]: PropertyValue };
}

/** What a `table:export` writes: the features, in order. */
export interface TableProduct {
  readonly kind: 'table';
  readonly features: readonly TableFeature[];
}

export type ExportProduct = ImageProduct | TableProduct;

export class NotEmulatedError extends Error {
  constructor(what: string) {
    super(`not emulated: ${what}`);
    this.name = 'NotEmulatedError';
  }
}
