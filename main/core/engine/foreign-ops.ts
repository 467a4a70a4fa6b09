import type { Operation } from '../google/earthengine';
import type { TileRecord } from '../job/state';
import { hasPeriodUnits, unitNameSource } from '../sync/names';
import { unitId } from '../periods/units';

/**
 * Earth Engine operations of this job that this journal did not start (docs/ownership.md, "Foreign
 * operations"): a lost journal's, or another machine's. An operation belongs to the job when its
 * description begins with `{job}_`. Earth Engine's operation list does not show the requestId, so the
 * journal recognises its own by what it can see: an operation name it recorded for a tile, an earlier
 * attempt of a tile (its attempt number is below the tile's), or the current attempt of a tile whose
 * export answer was never received (state `submitting`; reconcile adopts that one by description).
 */

export interface ForeignOperation {
  readonly op: Operation;
  /** The tile its description names (may be absent from this journal's plan: a split child). */
  readonly tileId: string;
  readonly attempt: number;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export function isTerminal(op: Operation): boolean {
  return TERMINAL.has(String(op.metadata?.state ?? ''));
}

export function findForeignOperations(ops: readonly Operation[], job: string, tiles: Readonly<Record<string, TileRecord>>, withPeriods = hasPeriodUnits(tiles)): ForeignOperation[] {
  const prefix = `${job}_`;
  // Units: `{tileId}_a{n}`, or `{tileId}_{periodId}_a{n}` in a job with periods (docs/periods.md#names).
  const pattern = new RegExp(`^${unitNameSource(withPeriods)}_a(\\d+)$`);
  const known = new Set<string>();
  for (const t of Object.values(tiles)) if (t.operation) known.add(t.operation);
  const out: ForeignOperation[] = [];
  for (const op of ops) {
    const description = op.metadata?.description;
    if (!description?.startsWith(prefix) || known.has(op.name)) continue;
    // Tiles only (`x12_ym3`, split children `_q0`…): the merge of asset jobs keeps its own journal.
    const m = pattern.exec(description.slice(prefix.length));
    if (!m) continue;
    const tileId = unitId(m[1]!, m[2] || undefined);
    const attempt = Number(m[3]);
    const tile = tiles[tileId];
    if (tile && attempt < tile.attempt) continue;
    if (tile && attempt === tile.attempt && tile.state === 'submitting' && !tile.operation) continue;
    out.push({ op, tileId, attempt });
  }
  return out;
}

/** States from which a tile may take a foreign operation over as its current attempt. */
// Not `submitting`: its own export may have reached EE; adopting another would orphan it.
const ADOPTABLE: readonly TileRecord['state'][] = ['pending', 'retrying', 'failed', 'cancelled'];

/**
 * For `--adopt`: per tile, the foreign operation to take over — one still running (the newest attempt),
 * else a succeeded one (the newest). Failed and cancelled ones are history, not attempts to continue.
 */
export function adoptionPlan(foreign: readonly ForeignOperation[], tiles: Readonly<Record<string, TileRecord>>): { adopt: Map<string, ForeignOperation>; notInPlan: ForeignOperation[]; busy: ForeignOperation[] } {
  const adopt = new Map<string, ForeignOperation>();
  const notInPlan: ForeignOperation[] = [];
  const busy: ForeignOperation[] = [];
  const rank = (f: ForeignOperation) => (isTerminal(f.op) ? 0 : 1e6) + f.attempt;
  for (const f of foreign) {
    const state = f.op.metadata?.state;
    if (state === 'FAILED' || state === 'CANCELLED') continue;
    const tile = tiles[f.tileId];
    if (!tile) {
      notInPlan.push(f);
      continue;
    }
    if (!ADOPTABLE.includes(tile.state)) {
      busy.push(f);
      continue;
    }
    const best = adopt.get(f.tileId);
    if (!best || rank(f) > rank(best)) adopt.set(f.tileId, f);
  }
  return { adopt, notInPlan, busy };
}
