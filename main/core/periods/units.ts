import type { Period } from './periods';

/**
 * The unit of work of a job with periods is (tile, period) (docs/periods.md). Its journal id is
 * `{periodId}@{tileId}`: the period comes first so that a split child, whose id is its parent's plus
 * `_q0`…`_q3`, stays in its period (`2021-01@x1_y2_q0`), and "@" appears in neither tile nor period ids.
 * A job without periods keeps plain tile ids, so its journals and names are unchanged.
 */
export const UNIT_SEPARATOR = '@';

export function unitId(tileId: string, periodId?: string): string {
  return periodId === undefined ? tileId : `${periodId}${UNIT_SEPARATOR}${tileId}`;
}

export interface UnitParts {
  readonly tileId: string;
  readonly periodId?: string;
}

export function unitParts(id: string): UnitParts {
  const at = id.indexOf(UNIT_SEPARATOR);
  return at < 0 ? { tileId: id } : { periodId: id.slice(0, at), tileId: id.slice(at + 1) };
}

/** The period of a unit id, or undefined for a job without periods. */
export function periodOf(id: string): string | undefined {
  const at = id.indexOf(UNIT_SEPARATOR);
  return at < 0 ? undefined : id.slice(0, at);
}

export type PeriodOrder = 'time-first' | 'space-first';

/**
 * The job's units in the order they are planned, which is the order pending units are sent:
 * `time-first` finishes period 1 everywhere before period 2 (each period becomes usable early),
 * `space-first` sends every period of a tile before the next tile.
 */
export function planUnits<T extends { id: string }>(tiles: readonly T[], periods: readonly Period[] | undefined, order: PeriodOrder = 'time-first'): T[] {
  if (!periods) return [...tiles];
  const out: T[] = [];
  if (order === 'time-first') {
    for (const p of periods) for (const t of tiles) out.push({ ...t, id: unitId(t.id, p.id) });
  } else {
    for (const t of tiles) for (const p of periods) out.push({ ...t, id: unitId(t.id, p.id) });
  }
  return out;
}
