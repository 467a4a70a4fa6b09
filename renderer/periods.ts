import { TILE_STATES, type TileState } from '../shared/contract';

/**
 * Units of a job with periods (docs/periods.md): the journal's unit id is `{periodId}@{tileId}`; a job
 * without periods has plain tile ids. The map draws tiles: one period's units, or for all periods each
 * tile in the state of its least advanced unit, with how many of its periods are done.
 */
export const UNIT_SEPARATOR = '@';

export function periodOf(id: string): string | undefined {
  const at = id.indexOf(UNIT_SEPARATOR);
  return at < 0 ? undefined : id.slice(0, at);
}

export function tileOf(id: string): string {
  const at = id.indexOf(UNIT_SEPARATOR);
  return at < 0 ? id : id.slice(at + 1);
}

export function unitOf(tile: string, period: string | undefined): string {
  return period === undefined ? tile : `${period}${UNIT_SEPARATOR}${tile}`;
}

/**
 * How far a state is along the way, for "the least advanced unit": trouble first (a failed or retrying
 * unit colours its tile whatever its other periods did), then waiting, in Earth Engine, in Drive, done.
 * Finished without an output (skipped, cancelled) ranks with done; split ranks last (its children are
 * drawn as their own tiles).
 */
const RANK: Record<TileState, number> = {
  failed: 0, retrying: 1, pending: 2, submitting: 3, queued: 4, running: 5, exported: 6, downloading: 7, verified: 8,
  done: 9, skipped: 10, cancelled: 10, split: 11,
};

export interface TileAggregate {
  state: TileState;
  /** Periods done of the tile's periods (split units not counted). */
  done: number;
  total: number;
}

/** The least advanced of a tile's units and how many are done. */
export function aggregate(states: Iterable<TileState>): TileAggregate {
  let state: TileState = 'split';
  let done = 0;
  let total = 0;
  for (const s of states) {
    if (RANK[s] < RANK[state]) state = s;
    if (s === 'split') continue;
    total++;
    if (s === 'done') done++;
  }
  return { state, done, total };
}

export function zeroCounts(): Record<TileState, number> {
  return Object.fromEntries(TILE_STATES.map((s) => [s, 0])) as Record<TileState, number>;
}
