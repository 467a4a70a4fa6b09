import { castShape, presetShape, shapeOfBands, type OutputShape } from '../../../shared/estimate';
import type { Job } from '../job/job-file';
import type { EeModule } from '../google/earthengine';
import { checkRecipe, describeType, type RecipeCheckEe } from './check';

/**
 * What a job's tiles will hold, for size estimates: from the recipe's real bands and types when Earth
 * Engine can be asked (the first tile built and described, as `tessera recipes check` does), else from
 * what the preset declares. `export.bands` / `export.dataType` are applied either way.
 */
export async function jobOutputShape(job: Job, ee?: RecipeCheckEe): Promise<OutputShape> {
  const declared = staticShape(job);
  if (!ee || !job.recipe) return declared;
  const check = await checkRecipe(job, ee);
  if (check.kind !== 'image' || check.bands.length === 0) return declared;
  // The check builds the image as it is exported (finishImage: bands selected, dataType cast).
  return castShape(shapeOfBands(check.bands, 'recipe'), job.export.dataType);
}

/** The shape without Earth Engine: the preset's declared bands and type, or the built-in image. */
export function staticShape(job: Job): OutputShape {
  const preset = job.recipe && 'preset' in job.recipe ? job.recipe.preset : job.recipe ? 'file' : undefined;
  const params = job.recipe && 'preset' in job.recipe ? (job.recipe.params ?? {}) : {};
  return presetShape(preset, params, job.export);
}

/** The shape of an image a recipe built, as Earth Engine describes it; undefined when EE cannot tell. */
export async function shapeOfBuiltImage(ee: Pick<RecipeCheckEe, 'compute'>, make: (ee: EeModule) => unknown, dataType: Job['export']['dataType']): Promise<OutputShape | undefined> {
  try {
    const info = (await ee.compute(make)) as { bands?: { id: string; data_type?: { precision?: string; min?: number; max?: number } }[] };
    const bands = (info.bands ?? []).map((b) => ({ id: b.id, type: describeType(b.data_type) }));
    return bands.length ? castShape(shapeOfBands(bands, 'recipe'), dataType) : undefined;
  } catch {
    return undefined; // the estimate then stays the declared one; the export itself will say what is wrong
  }
}
