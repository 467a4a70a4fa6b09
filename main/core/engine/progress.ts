import { TILE_STATES, type TileCounts } from '../../../shared/contract';
import type { TileRecord } from '../job/state';

export interface TileSummary {
  tiles: TileCounts;
  /** Tiles that count toward the job (a split parent is replaced by its children). */
  total: number;
  /** Tiles not yet done, failed, skipped or cancelled. */
  left: number;
  throughputPerHour: number | null;
  etaSeconds: number | null;
  /** The most recent `done` times (ms), oldest first. */
  recentDone: number[];
}

/** Tiles per hour over the recent done times, and the time left for `left` tiles at that pace. */
export function pace(recentDone: readonly number[], left: number): { throughputPerHour: number | null; etaSeconds: number | null } {
  const hours = recentDone.length >= 2 ? (recentDone[recentDone.length - 1]! - recentDone[0]!) / 3_600_000 : 0;
  const throughputPerHour = hours > 0 ? (recentDone.length - 1) / hours : null;
  return { throughputPerHour, etaSeconds: throughputPerHour ? (left / throughputPerHour) * 3600 : null };
}

/**
 * Counts by state and the pace of the job, all derived from the journaled tiles (their `done` times),
 * so a running engine and `tessera status` reading the journal tell the same story.
 */
export function summarizeTiles(records: Iterable<TileRecord>, window = 50): TileSummary {
  const tiles = Object.fromEntries(TILE_STATES.map((s) => [s, 0])) as TileCounts;
  const doneTimes: number[] = [];
  let count = 0;
  for (const t of records) {
    count++;
    tiles[t.state] = (tiles[t.state] ?? 0) + 1;
    if (t.state === 'done') {
      const at = t.history.findLast((h) => h.state === 'done')?.at;
      if (at) doneTimes.push(Date.parse(at));
    }
  }
  doneTimes.sort((a, b) => a - b);
  const recentDone = doneTimes.slice(-window);
  const total = count - (tiles.split ?? 0);
  const left = total - (tiles.done ?? 0) - (tiles.failed ?? 0) - (tiles.skipped ?? 0) - (tiles.cancelled ?? 0);
  return { tiles, total, left, ...pace(recentDone, left), recentDone };
}
