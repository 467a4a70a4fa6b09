import { existsSync } from 'node:fs';
import { PRESETS, parsePresetParams, type PresetName } from '../../../shared/recipes';
import { DATA_TYPES, type DataType } from '../grid';
import type { Job } from '../job/job-file';
import { UserError } from '../errors';
import { CustomRecipeRunner, RecipeError, type EeConnection } from './custom';
import { loadPoints, pointsInTile } from './points';
import { IMAGE_PRESETS, pointsTable, recipeTile, type Ee, type PointRow, type TileSpec } from './presets';
import { paramsForPeriod, recipeUnit } from './period';

export { RecipeError, type EeConnection } from './custom';
export { loadPoints, pointsInTile } from './points';
export { recipeTile, tileBounds, type Ee, type PointRow, type RecipeTile, type TileSpec } from './presets';

/** What one tile exports: an image or a table, and how to make it with the engine's initialised `ee`. */
export interface BuiltTile {
  kind: 'image' | 'table';
  make: (ee: Ee) => unknown;
  /** Table exports: the file format. */
  format?: 'CSV' | 'GeoJSON';
  /** What the recipe printed (print, Map.addLayer, Export.*). */
  logs: string[];
}

export interface Recipe {
  /** `image` or `table` when known before running (presets); custom recipes say so per tile. */
  readonly kind: 'image' | 'table' | 'unknown';
  readonly label: string;
  /** Uncompressed bytes per pixel (the Drive-space estimate's upper bound). */
  readonly bytesPerPixel: number;
  /** Table jobs: the tile's points (half-open rule); undefined when the job has no points layer. */
  pointsFor(tile: TileSpec): PointRow[] | undefined;
  build(tile: TileSpec): Promise<BuiltTile>;
  close(): Promise<void>;
}

const CASTS: Record<DataType, string> = {
  Int8: 'toInt8', UInt8: 'toUint8', Int16: 'toInt16', UInt16: 'toUint16', Int32: 'toInt32', UInt32: 'toUint32', Float32: 'toFloat', Float64: 'toDouble',
};

/** The job's `export.bands` and `export.dataType`, applied to an image. */
export function finishImage(ee: Ee, image: unknown, exp: Job['export']): unknown {
  let img = ee.Image(image);
  if (exp.bands) img = img.select(exp.bands);
  if (exp.dataType) img = img[CASTS[exp.dataType]]();
  return img;
}

function presetBytesPerPixel(name: PresetName, params: Record<string, unknown>, exp: Job['export']): number {
  const per = exp.dataType ? DATA_TYPES[exp.dataType] : 8;
  const count = (v: unknown, d: number) => (Array.isArray(v) ? v.length : d);
  if (exp.bands) return exp.bands.length * per;
  switch (name) {
    case 's2-median':
      return count(params.bands, 4) * per;
    case 'landsat-stm':
      return count(params.indices, 1) * (count(params.metrics, 5) + 2) * (exp.dataType ? per : 4);
    case 'points':
      return 0.001;
    default:
      return 4 * per;
  }
}

/**
 * The job's recipe, ready to build tiles. Preset parameters are validated here (a UserError naming the
 * key); a custom recipe file runs in a worker signed in like the engine (`conn`).
 */
export async function loadRecipe(job: Job, conn?: EeConnection): Promise<Recipe | undefined> {
  const spec = job.recipe;
  let points: PointRow[] | undefined;
  if (job.points) points = await loadPoints(job.points.path, job.grid.crs, job.points.layer);
  const pointsFor = (t: TileSpec) => (points ? pointsInTile(points, t) : undefined);
  if (!spec) {
    if (points) throw new UserError('job file: "points" needs a recipe that uses them: "recipe": { "preset": "points", … } or a recipe file');
    return undefined;
  }
  // A unit of a job with periods is built with its period (docs/periods.md#recipes).
  const periods = new Map((job.periods ?? []).map((p) => [p.id, p]));
  if ('preset' in spec) {
    const name = spec.preset;
    const parsed = parsePresetParams(name, paramsForPeriod(name, spec.params, job.periods?.[0]));
    if (!parsed.ok) throw new UserError(`job file: ${parsed.message}`);
    const paramsOf = (unit: TileSpec) => {
      const { tile, period } = recipeUnit(unit, periods);
      return { tile, params: paramsForPeriod(name, spec.params, period) };
    };
    if (name === 'points') {
      if (!points) throw new UserError('job file: the "points" recipe needs the point layer as "points": "points.geojson" (or { "path", "layer" })');
      const inner = (parsed.value as { image: { preset: PresetName; params?: unknown } }).image;
      const innerParsed = parsePresetParams(inner.preset, inner.params ?? {});
      if (!innerParsed.ok) throw new UserError(`job file: in params.image: ${innerParsed.message}`);
      const format = (parsed.value as { format: 'CSV' | 'GeoJSON' }).format;
      return {
        kind: 'table',
        label: `preset points (${inner.preset})`,
        bytesPerPixel: 0.001,
        pointsFor,
        build: (unit) => {
          const pts = pointsInTile(points!, unit);
          const { tile, params } = paramsOf(unit);
          return Promise.resolve({ kind: 'table', format, logs: [], make: (ee: Ee) => pointsTable(ee, recipeTile(ee, tile), params, pts) });
        },
        close: () => Promise.resolve(),
      };
    }
    const make = IMAGE_PRESETS[name]!;
    return {
      kind: PRESETS[name].kind,
      label: `preset ${name}`,
      bytesPerPixel: presetBytesPerPixel(name, spec.params ?? {}, job.export),
      pointsFor,
      build: (unit) => {
        const { tile, params } = paramsOf(unit);
        return Promise.resolve({ kind: 'image', logs: [], make: (ee: Ee) => finishImage(ee, make(ee, recipeTile(ee, tile), params), job.export) });
      },
      close: () => Promise.resolve(),
    };
  }
  if (!existsSync(spec.file)) throw new UserError(`job file: recipe file not found: ${spec.file}`);
  if (!conn) throw new UserError('a custom recipe needs an Earth Engine connection');
  const runner = new CustomRecipeRunner(spec.file, conn, (spec.timeoutSeconds ?? 60) * 1000);
  const recipe: { -readonly [K in keyof Recipe]: Recipe[K] } = {
    kind: 'unknown',
    label: `recipe file ${spec.file}`,
    bytesPerPixel: 4 * (job.export.bands?.length ?? 4),
    pointsFor,
    build: async (unit) => {
      const { tile, period } = recipeUnit(unit, periods);
      const r = await runner.build(tile, pointsFor(unit), period);
      recipe.kind = r.kind; // known once the recipe ran: decides table or image handling of every tile
      return {
        kind: r.kind,
        format: 'CSV',
        logs: r.logs,
        make: (ee: Ee) => {
          const obj = ee.Deserializer.fromCloudApiJSON(r.expression);
          return r.kind === 'image' ? finishImage(ee, obj, job.export) : ee.FeatureCollection(obj);
        },
      };
    },
    close: () => runner.close(),
  };
  return recipe;
}

export function isRecipeError(e: unknown): e is RecipeError {
  return e instanceof RecipeError;
}
