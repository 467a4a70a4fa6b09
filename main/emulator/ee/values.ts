/** The evaluator's value model: the Earth Engine objects it follows, its errors, and the asset lookup it is given. */
import type { ExportGrid, TableFeature } from './product';

export class MalformedExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedExpressionError';
  }
}

export class EeEvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EeEvaluationError';
  }
}

/**
 * The project's own assets, for `Collection.loadTable` (a TABLE asset's features) and
 * `ImageCollection.load` of an IMAGE_COLLECTION asset (its images' bands and grids), `Image.load` of an
 * IMAGE asset. Without it (or for
 * a name it does not know) those loads fall back to the built-in test data sets.
 */
export interface AssetLookup {
  /** A TABLE asset's features, or null when there is no such live TABLE. */
  table(name: string): readonly TableFeature[] | null;
  /** The IMAGE children of an IMAGE_COLLECTION asset, or null when there is no such collection. */
  collection(name: string): readonly { bands: readonly { id: string; dataType: string }[]; grid: ExportGrid | null }[] | null;
  /** A live IMAGE asset's bands and grid (`ee.Image(id)`), or null when there is none. */
  image?(name: string): { bands: readonly { id: string; dataType: string }[]; grid: ExportGrid | null } | null;
}

// ---------------------------------------------------------------------------------------------------
// Values

export type Affine = readonly [number, number, number, number, number, number];

/** EE's PixelType, reduced to what decides the exported data type. */
export type PixelType = { readonly precision: 'int'; readonly min: number; readonly max: number } | { readonly precision: 'float' | 'double' };

export interface Band {
  readonly name: string;
  readonly type: PixelType;
}

export class ProjectionV {
  constructor(
    /** `EPSG:n` */
    readonly crs: string,
    /** Pixel → CRS affine, EE order; undefined = identity (coordinates are CRS units). */
    readonly transform?: Affine,
  ) {}
}

export interface Path {
  readonly points: readonly (readonly [number, number])[];
  readonly closed: boolean;
}

export class GeometryV {
  constructor(
    readonly paths: readonly Path[],
    readonly projection: ProjectionV,
    /** GeoJSON type, when known (Point and MultiPoint cannot be told from paths alone). */
    readonly type?: string,
  ) {}
}

export class FeatureV {
  constructor(
    readonly geometry: GeometryV | undefined,
    readonly properties: { readonly [key: string]: Value } = {},
    /** `system:index` once the feature is in a collection. */
    readonly id?: string,
  ) {}
}

/** A FeatureCollection the evaluator holds feature by feature (constant features, samples). */
export class FeatureCollectionV {
  constructor(readonly features: readonly FeatureV[]) {}
}

export class ImageV {
  constructor(
    readonly bands: readonly Band[],
    /** The pixel grid an operation fixed (reproject, setDefaultProjection). */
    readonly projection?: ProjectionV,
    /** The last clip geometry. */
    readonly footprint?: GeometryV,
    /** The export grid, once clipToBoundsAndScale fixed it. */
    readonly grid?: ExportGrid,
    /** Every geometry the image was clipped to (Image.clip): the image is masked outside any of them. */
    readonly clips: readonly GeometryV[] = [],
  ) {}

  with(change: { bands?: readonly Band[]; projection?: ProjectionV; footprint?: GeometryV; grid?: ExportGrid | null; clips?: readonly GeometryV[] }): ImageV {
    const grid = change.grid === null ? undefined : (change.grid ?? this.grid);
    return new ImageV(change.bands ?? this.bands, change.projection ?? this.projection, change.footprint ?? this.footprint, grid, change.clips ?? this.clips);
  }
}

/** A collection of feature collections (`ee.FeatureCollection(list)` of collections), for `flatten`. */
export class NestedCollectionV {
  constructor(readonly collections: readonly FeatureCollectionV[]) {}
}

/** A collection is followed through one representative image: all its images share the band structure. */
export class CollectionV {
  constructor(readonly template: ImageV | undefined) {}
}

interface ReducerOutput {
  readonly name: string;
  readonly type: (input: PixelType) => PixelType;
}

export class ReducerV {
  constructor(readonly outputs: readonly ReducerOutput[]) {}
}

/** Values that only matter for which images a collection holds (filters, dates), never for bands. */
export class OpaqueV {
  constructor(readonly kind: string) {}
}

export class FunctionV {
  constructor(
    readonly argumentNames: readonly string[],
    readonly body: string,
    readonly env: Env,
  ) {}
}

export type EeObject = ImageV | CollectionV | FeatureCollectionV | NestedCollectionV | GeometryV | FeatureV | ProjectionV | ReducerV | OpaqueV | FunctionV;
export type Value = null | boolean | number | string | readonly Value[] | { readonly [key: string]: Value } | EeObject;
export type Env = ReadonlyMap<string, Value> | undefined;

export function isEeObject(v: Value): v is EeObject {
  return (
    v instanceof ImageV || v instanceof CollectionV || v instanceof FeatureCollectionV || v instanceof NestedCollectionV || v instanceof GeometryV || v instanceof FeatureV ||
    v instanceof ProjectionV || v instanceof ReducerV || v instanceof OpaqueV || v instanceof FunctionV
  );
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
