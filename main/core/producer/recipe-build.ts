import { UserError } from '../errors';
import type { Recipe } from '../recipes';
import type { UnitRecord } from '../destination/port';
import type { ProducerContext } from './port';

export type BuiltRecipe = Awaited<ReturnType<Recipe['build']>>;

/**
 * Builds the job's recipe for one unit, logging what the recipe printed. When the recipe itself fails
 * (a custom recipe's error, or a time-out) the unit fails with its message and nothing is sent for it:
 * undefined.
 */
export async function buildRecipeFor(ctx: ProducerContext, recipe: Recipe, unit: UnitRecord): Promise<BuiltRecipe | undefined> {
  let built: BuiltRecipe;
  try {
    built = await recipe.build(unit);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    await ctx.setUnit(unit, { state: 'failed', error: e.message });
    return undefined;
  }
  for (const line of built.logs) ctx.log('info', `${unit.id}: ${line}`);
  return built;
}
