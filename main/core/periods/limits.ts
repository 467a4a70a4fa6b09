import type { Period } from './periods';

/** Earth Engine refuses a task description longer than this (docs/names.md#task-descriptions). */
export const EE_DESCRIPTION_LIMIT = 100;

export interface DescriptionBound {
  readonly job: string;
  /** The longest tile id of the job (or a bound on it). */
  readonly tileId: string;
  readonly splitDepth: number;
  readonly retries: number;
  readonly periods: readonly Period[];
}

/** The longest task description the job can make: deepest split child, longest period id, last attempt. */
export function longestDescription(b: DescriptionBound): string {
  const period = b.periods.reduce((a, p) => (p.id.length > a.length ? p.id : a), '');
  // Attempts go up to retries + 1; lost answers reuse an attempt, they never add one.
  return `${b.job}_${b.tileId}${'_q3'.repeat(b.splitDepth)}_${period}_a${b.retries + 1}`;
}

/**
 * A tile id at least as long as any the grid can make, from the grid alone (the ROI is read later):
 * projected coordinates stay within ±21,000 km, geographic ones within ±180°. Used at load; the planned
 * tiles are checked again exactly.
 */
export function tileIdBound(grid: { scale: number; tilePixels: number }): string {
  const extent = grid.scale < 0.5 ? 180 : 2.1e7; // a pixel under half a unit: degrees, not metres
  const digits = String(Math.ceil(extent / (grid.scale * grid.tilePixels))).length;
  return `xm${'9'.repeat(digits)}_ym${'9'.repeat(digits)}`;
}

/** One line when the job's descriptions could exceed Earth Engine's limit; undefined when they fit. */
export function descriptionProblem(b: DescriptionBound): string | undefined {
  const longest = longestDescription(b);
  if (longest.length <= EE_DESCRIPTION_LIMIT) return undefined;
  return `task descriptions could reach ${longest.length} characters (e.g. ${longest}), above Earth Engine's limit of ${EE_DESCRIPTION_LIMIT} characters for a task description; shorten the job name or the period ids, or lower "splitDepth"`;
}
