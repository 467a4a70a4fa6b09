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
  planned: SplitView['planned'];
  split?: SplitView['split'];
}

/**
 * Tiles per hour over the recent done times, and the time left for `left` tiles at that pace: the one
 * pace of the live display, the dashboard and `tessera status`. A gap between two tiles longer than 5×
 * the median gap (a pause, a night, a laptop asleep) counts as 5× the median, so a pause neither drags
 * the pace down afterwards nor makes the ETA swing. `paused`: no ETA (nothing is moving toward it).
 */
export function pace(recentDone: readonly number[], left: number, paused = false): { throughputPerHour: number | null; etaSeconds: number | null } {
  const gaps: number[] = [];
  for (let k = 1; k < recentDone.length; k++) gaps.push(Math.max(0, recentDone[k]! - recentDone[k - 1]!));
  const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)] ?? 0;
  const cap = median > 0 ? 5 * median : Infinity;
  const hours = gaps.reduce((s, g) => s + Math.min(g, cap), 0) / 3_600_000;
  const throughputPerHour = hours > 0 ? gaps.length / hours : null;
  return { throughputPerHour, etaSeconds: throughputPerHour && !paused ? (left / throughputPerHour) * 3600 : null };
}

/**
 * Counts by state and the pace of the job, all derived from the journaled tiles (their `done` times),
 * so a running engine and `tessera status` reading the journal tell the same story.
 */
export function summarizeTiles(records: Iterable<TileRecord>, window = 50, paused = false): TileSummary {
  const tiles = Object.fromEntries(TILE_STATES.map((s) => [s, 0])) as TileCounts;
  const doneTimes: number[] = [];
  const parts = new Map<string, TileRecord>();
  const splits: TileRecord[] = [];
  let count = 0;
  for (const t of records) {
    count++;
    if (isPart(t.id)) parts.set(t.id, t);
    if (t.state === 'split') splits.push(t);
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
  const view = splitView((id) => parts.get(id), splits, count, tiles.done ?? 0);
  return { tiles, total, left, ...pace(recentDone, left, paused), recentDone, ...view };
}

/** Planned tiles and their split parts: the view in which the total never jumps (JobProgress.planned/split). */
export interface SplitView {
  planned: { total: number; done: number };
  split?: { tiles: number; parts: number; done: number };
}

const isPart = (id: string) => id.includes('_q');

/**
 * Counts planned tiles (ids without `_q`) and the parts of split ones. Only split families are walked
 * (their parts looked up by id), so the cost follows the number of splits, not of tiles.
 */
export function splitView(lookup: (id: string) => TileRecord | undefined, splitTiles: Iterable<TileRecord>, allCount: number, doneCount: number): SplitView {
  let descendants = 0;
  let leaves = 0;
  let leavesDone = 0;
  let roots = 0;
  let rootsDone = 0;
  for (const root of splitTiles) {
    if (isPart(root.id)) continue;
    roots++;
    let finished = true;
    const stack = [root.id];
    for (let guard = 0; stack.length && guard < 1_000_000; guard++) {
      const id = stack.pop()!;
      for (let q = 0; q < 4; q++) {
        const child = lookup(`${id}_q${q}`);
        if (!child) continue;
        descendants++;
        if (child.state === 'split') {
          stack.push(child.id);
          continue;
        }
        leaves++;
        if (child.state === 'done') leavesDone++;
        if (child.state !== 'done' && child.state !== 'skipped') finished = false;
      }
    }
    if (finished) rootsDone++;
  }
  const planned = { total: allCount - descendants, done: doneCount - leavesDone + rootsDone };
  return roots ? { planned, split: { tiles: roots, parts: leaves, done: leavesDone } } : { planned };
}
