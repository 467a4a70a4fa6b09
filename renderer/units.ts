import type { TileState } from '../shared/contract';
import { cellParser, NO_UNIT, ringAt, STATE_CODE, stateOfCode, tileIdAt, type GridData } from '../shared/compact-view';
import type { TileView } from '../shared/dashboard';
import { UNIT_SEPARATOR } from './periods';

/** A unit of a grid: its layer (period index, 0 without periods), row and column. */
export interface Slot {
  readonly layer: number;
  readonly c: number;
  readonly r: number;
  /** Index in the grid's state bytes. */
  readonly k: number;
}

/**
 * A job's units (docs/dashboard.md, "A million units"): the units of its regular grid kept as the bytes
 * they came in (one state and one attempt per unit), the others as objects. Reads like the `Map` of
 * TileViews it replaces — `get` makes a unit's TileView only when something looks at it (details, search,
 * the selection, a state change), and keeps it in step afterwards — so a million units cost two bytes
 * each, not an object, a string and a ring.
 */
export class UnitTable {
  private readonly objects = new Map<string, TileView>();
  /** Grid units made into objects so far (kept in step with the bytes). */
  private readonly made = new Map<string, TileView>();
  private readonly cellOf: ((tileId: string) => [number, number] | undefined) | undefined;
  private readonly layerOf = new Map<string | undefined, number>();
  private gridUnits = 0;

  constructor(readonly grid: GridData | null = null) {
    if (!grid) return;
    this.cellOf = cellParser(grid);
    if (grid.periods.length === 0) this.layerOf.set(undefined, 0);
    grid.periods.forEach((p, k) => this.layerOf.set(p, k));
    for (const s of grid.states) if (s !== NO_UNIT) this.gridUnits++;
  }

  get size(): number {
    return this.gridUnits + this.objects.size;
  }

  /** The grid slot of a unit id, whether or not a unit is there; undefined off the grid. */
  slotOf(id: string): Slot | undefined {
    const g = this.grid;
    if (!g) return undefined;
    const at = id.indexOf(UNIT_SEPARATOR);
    const layer = this.layerOf.get(at < 0 ? undefined : id.slice(0, at));
    if (layer === undefined) return undefined;
    const cell = this.cellOf!(at < 0 ? id : id.slice(at + 1));
    if (!cell) return undefined;
    const [c, r] = cell;
    return { layer, c, r, k: (layer * g.rows + r) * g.cols + c };
  }

  /** The unit id at a grid slot. */
  idAt(layer: number, c: number, r: number): string {
    const g = this.grid!;
    const tile = tileIdAt(g, c, r);
    return g.periods.length ? `${g.periods[layer]}${UNIT_SEPARATOR}${tile}` : tile;
  }

  has(id: string): boolean {
    if (this.objects.has(id)) return true;
    const s = this.slotOf(id);
    return s !== undefined && this.grid!.states[s.k] !== NO_UNIT;
  }

  get(id: string): TileView | undefined {
    const o = this.objects.get(id);
    if (o) return o;
    const s = this.slotOf(id);
    if (!s) return undefined;
    const g = this.grid!;
    const code = g.states[s.k]!;
    if (code === NO_UNIT) return undefined;
    let v = this.made.get(id);
    if (!v) this.made.set(id, (v = { id, state: stateOfCode(code)!, attempt: g.attempts[s.k]!, ring: ringAt(g, s.c, s.r) }));
    return v;
  }

  /** The state of a unit, without making its object. */
  stateOf(id: string): TileState | undefined {
    const o = this.objects.get(id);
    if (o) return o.state;
    const s = this.slotOf(id);
    const code = s ? this.grid!.states[s.k]! : NO_UNIT;
    return code === NO_UNIT ? undefined : stateOfCode(code);
  }

  /** Adds a unit that came as an object (a split's children, a tile off the grid). */
  add(view: TileView): void {
    this.objects.set(view.id, view);
  }

  /**
   * Sets a unit's state and attempt; answers its previous state, or undefined when there is no such unit or
   * nothing changed.
   */
  update(id: string, state: TileState, attempt: number): { before: TileState } | undefined {
    const o = this.objects.get(id);
    if (o) {
      if (o.state === state && o.attempt === attempt) return undefined;
      const before = o.state;
      o.state = state;
      o.attempt = attempt;
      return { before };
    }
    const s = this.slotOf(id);
    if (!s) return undefined;
    const g = this.grid!;
    const code = g.states[s.k]!;
    const a = Math.min(255, attempt);
    if (code === NO_UNIT || (code === STATE_CODE[state] && g.attempts[s.k] === a)) return undefined;
    g.states[s.k] = STATE_CODE[state];
    g.attempts[s.k] = a;
    const v = this.made.get(id);
    if (v) {
      v.state = state;
      v.attempt = attempt;
    }
    return { before: stateOfCode(code)! };
  }

  /** The objects (units off the grid). */
  objectUnits(): IterableIterator<TileView> {
    return this.objects.values();
  }

  *keys(): IterableIterator<string> {
    const g = this.grid;
    if (g) {
      const layers = Math.max(1, g.periods.length);
      for (let layer = 0; layer < layers; layer++) {
        for (let r = 0; r < g.rows; r++) {
          for (let c = 0; c < g.cols; c++) if (g.states[(layer * g.rows + r) * g.cols + c] !== NO_UNIT) yield this.idAt(layer, c, r);
        }
      }
    }
    yield* this.objects.keys();
  }

  /** Every unit as an object: a bulk read (a user's action), never per frame; grid units not looked at stay bytes. */
  *values(): IterableIterator<TileView> {
    const g = this.grid;
    if (g) {
      for (const id of this.keys()) {
        if (this.objects.has(id)) continue;
        const made = this.made.get(id);
        if (made) {
          yield made;
          continue;
        }
        const s = this.slotOf(id)!;
        yield { id, state: stateOfCode(g.states[s.k]!)!, attempt: g.attempts[s.k]!, ring: ringAt(g, s.c, s.r) };
      }
    }
    yield* this.objects.values();
  }

  /** Counts by state code of each grid layer (one pass over the bytes). */
  gridCounts(): Uint32Array[] {
    const g = this.grid;
    if (!g) return [];
    const per = g.rows * g.cols;
    return Array.from({ length: Math.max(1, g.periods.length) }, (_, layer) => {
      const counts = new Uint32Array(256);
      const states = g.states.subarray(layer * per, (layer + 1) * per);
      for (let k = 0; k < states.length; k++) counts[states[k]!]!++;
      return counts;
    });
  }
}
