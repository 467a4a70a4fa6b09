import type { TileState } from '../../../shared/contract';
import type { TileRecord } from '../job/state';

/**
 * The job's tiles grouped by state, kept current as states change, so one cycle of the engine costs what
 * is in flight, not the size of the job (a continent has 50,000 tiles; a cycle touches a handful). Sets
 * keep insertion order: pending tiles come out in grid order.
 */
export class TileIndex {
  private readonly byState = new Map<TileState, Set<string>>();

  constructor(private readonly tiles: Record<string, TileRecord>) {
    for (const t of Object.values(tiles)) this.bucket(t.state).add(t.id);
  }

  /** Call after a tile's state changed from `from`. */
  moved(id: string, from: TileState | undefined, to: TileState): void {
    if (from === to) return;
    if (from) this.byState.get(from)?.delete(id);
    this.bucket(to).add(id);
  }

  count(state: TileState): number {
    return this.byState.get(state)?.size ?? 0;
  }

  /**
   * Walks the live sets lazily (cheap for the first few of 50,000 pending tiles). Moving the current
   * tile to another state while walking is safe; for loops that move tiles between the states they
   * walk, use `list`.
   */
  *in(...states: TileState[]): Generator<TileRecord> {
    for (const s of states) {
      for (const id of this.byState.get(s) ?? []) {
        const t = this.tiles[id];
        if (t && t.state === s) yield t;
      }
    }
  }

  /** A copy, safe to change states while looping over it. */
  list(...states: TileState[]): TileRecord[] {
    return [...this.in(...states)];
  }

  private bucket(s: TileState): Set<string> {
    let set = this.byState.get(s);
    if (!set) this.byState.set(s, (set = new Set()));
    return set;
  }
}
