import { type PresetName } from '../../../shared/recipes';
import type { Period } from '../periods/periods';
import { unitParts } from '../periods/units';
import type { TileSpec } from './presets';

/**
 * Recipes and periods (docs/periods.md#recipes). A preset with a date range (`start`, `end`) takes it
 * from the unit's period when the job has periods; `points` passes the period on to the image it
 * samples. Custom recipes get the period as `tile.period` and as their third argument.
 */
export const PERIOD_AWARE_PRESETS: ReadonlySet<PresetName> = new Set<PresetName>(['s2-median', 'landsat-stm']);

/** Whether the preset uses the period's dates (points: when the image it samples does). */
export function isPeriodAware(name: PresetName, params?: Record<string, unknown>): boolean {
  if (name === 'points') {
    const inner = (params?.image as { preset?: PresetName } | undefined)?.preset;
    return inner === undefined ? true : PERIOD_AWARE_PRESETS.has(inner);
  }
  return PERIOD_AWARE_PRESETS.has(name);
}

/**
 * The params a preset is built with for a period: `start`/`end` are the period's. Writing them in the
 * job file as well is refused at load (periodProblem), so nothing is silently overridden.
 */
export function paramsForPeriod(name: PresetName, params: Record<string, unknown> | undefined, period: Period | undefined): Record<string, unknown> {
  const p = params ?? {};
  if (!period) return p;
  if (name === 'points') {
    const image = p.image as { preset?: PresetName; params?: Record<string, unknown> } | undefined;
    if (!image?.preset || !PERIOD_AWARE_PRESETS.has(image.preset)) return p;
    return { ...p, image: { ...image, params: { ...image.params, start: period.start, end: period.end } } };
  }
  return PERIOD_AWARE_PRESETS.has(name) ? { ...p, start: period.start, end: period.end } : p;
}

/** One line when a job with periods also gives a preset's dates; undefined when fine. */
export function periodProblem(name: PresetName, params: Record<string, unknown> | undefined): string | undefined {
  const inner = name === 'points' ? (params?.image as { preset?: PresetName; params?: Record<string, unknown> } | undefined) : undefined;
  const own = inner ? inner.params : params;
  const preset = inner?.preset ?? name;
  const at = inner ? 'recipe.params.image.params' : 'recipe.params';
  if (!PERIOD_AWARE_PRESETS.has(preset) || !own) return undefined;
  const given = ['start', 'end'].filter((k) => own[k] !== undefined);
  if (!given.length) return undefined;
  return `"${at}.${given[0]}" goes away in a job with "periods": each period gives the preset its start and end`;
}

/**
 * A unit as the recipe sees it: the grid tile's own id, and the unit's period (undefined without
 * periods). A bare tile of a job with periods (the preflight build before planning) gets the first period.
 */
export function recipeUnit(unit: TileSpec, periods: ReadonlyMap<string, Period>): { tile: TileSpec; period: Period | undefined } {
  const { tileId, periodId } = unitParts(unit.id);
  if (periodId === undefined) return { tile: unit, period: periods.values().next().value };
  const period = periods.get(periodId);
  if (!period) throw new Error(`unit ${unit.id} names period "${periodId}", which the job file does not have`);
  return { tile: { ...unit, id: tileId }, period };
}
