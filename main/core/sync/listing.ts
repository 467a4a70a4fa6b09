import type { DriveFile } from '../google/drive';
import type { TileRecord } from '../job/state';
import { completeness, judgeFiles } from './ownership';

/**
 * What to do with an exported tile given its folder's listing (docs/ownership.md, "Late listings"). Drive
 * lists new files late (seconds to minutes), so expected outputs that are missing are listed again with
 * back-off for up to the grace (`drive.listingGraceSeconds`, counted from the moment the tile was seen
 * exported); with `skipEmptyTiles` "no file" means "empty" only after that grace. When it ends short the
 * tile fails naming what is missing: it never waits forever.
 */
export type ListingDecision =
  | { kind: 'take'; files: DriveFile[]; foreign: DriveFile[] }
  | { kind: 'wait'; foreign: DriveFile[] }
  | { kind: 'fail'; message: string; foreign: DriveFile[] }
  /**
   * An adopted tile with none of its outputs in Drive: the lost journal may have downloaded them; its
   * local files are checked instead. `graceOver`: Drive had all the grace to list them.
   */
  | { kind: 'gone'; foreign: DriveFile[]; graceOver: boolean };

export interface ListingContext {
  job: string;
  fileDimensions: number;
  table: boolean;
  skipEmptyTiles: boolean;
  /** Real milliseconds of grace (already divided by the emulator's time scale). */
  graceMs: number;
  /** First and longest back-off between listings of one tile (real ms). */
  minBackoffMs: number;
  maxBackoffMs: number;
}

export class ListingWatch {
  /** Per tile: not before this time is its folder listed again for it, and the back-off reached. */
  private readonly next = new Map<string, { at: number; backoff: number }>();

  /** False while a tile's back-off runs: no listing is needed for it this cycle. */
  due(tileId: string, now: number): boolean {
    const n = this.next.get(tileId);
    return !n || now >= n.at;
  }

  decide(tile: TileRecord, listing: readonly DriveFile[], ctx: ListingContext, now: number): ListingDecision {
    const { owned, foreign, ambiguous } = judgeFiles(listing, ctx.job, tile.id, tile.operationCreateTime);
    if (ambiguous.length) {
      this.next.delete(tile.id);
      return {
        kind: 'fail',
        foreign,
        message: `Drive holds more than one file named ${ambiguous[0]} created since the task started; Tessera cannot tell which one Earth Engine wrote, so it downloads and deletes none of them`,
      };
    }
    const { complete, missing } = completeness(owned, ctx.job, tile.id, tile.dimensions, ctx.fileDimensions, ctx.table);
    if (complete) {
      this.next.delete(tile.id);
      return { kind: 'take', files: owned, foreign };
    }
    const since = exportedAt(tile) ?? now;
    const graceOver = now - since >= ctx.graceMs;
    if (tile.adopted && owned.length === 0) {
      this.backOff(tile.id, now, ctx);
      return { kind: 'gone', foreign, graceOver };
    }
    if (!graceOver) {
      this.backOff(tile.id, now, ctx);
      return { kind: 'wait', foreign };
    }
    this.next.delete(tile.id);
    if (ctx.skipEmptyTiles) return { kind: 'take', files: owned, foreign }; // empty parts leave no file
    const seconds = Math.round(ctx.graceMs / 1000);
    return {
      kind: 'fail',
      foreign,
      message: `Earth Engine reported the export done, but after ${seconds} s Drive still lists ${owned.length ? `only ${owned.length} of its files; missing` : 'none of its files:'} ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}; the operation's files may have been moved or deleted — retry the tile to export it again`,
    };
  }

  private backOff(tileId: string, now: number, ctx: ListingContext): void {
    const prev = this.next.get(tileId);
    const backoff = prev ? Math.min(ctx.maxBackoffMs, prev.backoff * 2) : ctx.minBackoffMs;
    this.next.set(tileId, { at: now + backoff, backoff });
  }

  forget(tileId: string): void {
    this.next.delete(tileId);
  }
}

/** When the tile last became `exported` (journaled), in epoch ms. */
function exportedAt(tile: TileRecord): number | undefined {
  const h = tile.history.findLast((e) => e.state === 'exported');
  return h ? Date.parse(h.at) : undefined;
}
