import { planTiles } from '../engine/plan';
import { UserError } from '../errors';
import type { EeModule } from '../google/earthengine';
import { checkPresetParams, type Job } from '../job/job-file';
import { loadRecipe, type EeConnection } from './index';
import { paramsForPeriod } from './period';
import { unitId } from '../periods/units';
import type { Period } from '../periods/periods';

/** What `tessera recipes check` (and the dashboard's recipe field) learns by building the first tile. */
export interface RecipeCheck {
  label: string;
  tile: string;
  /** A job with periods: the period the tile was built for. */
  period?: string;
  kind: 'image' | 'table';
  /** What the recipe printed (print, Map.*, Export.*). */
  logs: string[];
  /** Image recipes: the bands and their data types (empty when Earth Engine could not tell). */
  bands: { id: string; type: string }[];
  /** Table recipes: the features of the first tile and the points assigned to it. */
  features?: string;
  points?: number | null;
  /** Why bands or features are missing (the build itself succeeded). */
  note?: string;
}

/** The Earth Engine calls the check needs (EarthEngine implements them). */
export interface RecipeCheckEe {
  connection(): EeConnection;
  compute(make: (ee: EeModule) => unknown): Promise<unknown>;
}

/**
 * Builds the job's recipe for its first tile (the first tile with points for a table recipe) without
 * exporting anything, then asks Earth Engine for the image's bands and types or the table's size. A
 * syntax error, an exception, a wrong result type or a recipe that never returns throws (RecipeError /
 * UserError, with the file's line for custom recipes). The logic of `tessera recipes check`.
 */
export async function checkRecipe(job: Job, ee: RecipeCheckEe, options: { period?: string } = {}): Promise<RecipeCheck> {
  const period = checkedPeriod(job, options.period);
  if (job.recipe && 'preset' in job.recipe) checkPresetParams(job.recipe.preset, paramsForPeriod(job.recipe.preset, job.recipe.params, period));
  const recipe = await loadRecipe(job, ee.connection());
  if (!recipe) throw new UserError('the job has no recipe to check');
  try {
    const { tiles } = await planTiles(job);
    const tile = recipe.kind === 'table' ? (tiles.find((t) => (recipe.pointsFor(t)?.length ?? 1) > 0) ?? tiles[0]) : tiles[0];
    if (!tile) throw new UserError('the ROI covers no tile');
    // With periods the unit (tile, period) is built, so the recipe sees the period's dates.
    const built = await recipe.build(period ? { ...tile, id: unitId(tile.id, period.id) } : tile);
    const out: RecipeCheck = { label: recipe.label, tile: tile.id, ...(period ? { period: period.id } : {}), kind: built.kind, logs: built.logs, bands: [] };
    try {
      if (built.kind === 'image') {
        const info = (await ee.compute(built.make)) as { bands?: { id: string; data_type?: { precision?: string; min?: number; max?: number } }[] };
        out.bands = (info.bands ?? []).map((b) => ({ id: b.id, type: describeType(b.data_type) }));
      } else {
        out.features = String(await ee.compute((m) => (built.make(m) as { size(): unknown }).size()));
        out.points = recipe.pointsFor(tile)?.length ?? null;
      }
    } catch (e) {
      out.note = `bands and type not available: ${(e as Error).message}`;
    }
    return out;
  } finally {
    await recipe.close();
  }
}

/** The period `tessera recipes check --period ID` names (default: the job's first), or a UserError. */
export function checkedPeriod(job: Job, id: string | undefined): Period | undefined {
  if (id === undefined) return job.periods?.[0];
  if (!job.periods) throw new UserError(`--period ${id}: the job has no "periods"`);
  const p = job.periods.find((x) => x.id === id);
  if (!p) throw new UserError(`--period ${id}: the job has no such period (periods: ${job.periods.slice(0, 12).map((x) => x.id).join(', ')}${job.periods.length > 12 ? ', …' : ''})`);
  return p;
}

/** An EE band data type as the Int8…Float64 names of the job file. */
export function describeType(t?: { precision?: string; min?: number; max?: number }): string {
  if (!t) return 'unknown type';
  if (t.precision !== 'int') return t.precision === 'double' ? 'Float64' : 'Float32';
  const ranges: [string, number, number][] = [['UInt8', 0, 255], ['Int8', -128, 127], ['UInt16', 0, 65535], ['Int16', -32768, 32767], ['UInt32', 0, 4294967295], ['Int32', -2147483648, 2147483647]];
  const hit = ranges.find(([, lo, hi]) => (t.min ?? 0) >= lo && (t.max ?? 0) <= hi);
  return hit ? `${hit[0]} [${t.min}, ${t.max}]` : `int [${t.min}, ${t.max}]`;
}
