import type { TileState } from '../../../shared/contract';
import { periodOf } from './units';

/**
 * Units by period and state, for `tessera status --json` (`periods: { "<periodId>": { "<state>": n } }`,
 * docs/periods.md#status). `order` lists the job's periods so that a period without units yet still shows.
 */
export function countByPeriod(units: Iterable<{ id: string; state: TileState }>, order: readonly { id: string }[] = []): Record<string, Partial<Record<TileState, number>>> {
  const out: Record<string, Partial<Record<TileState, number>>> = Object.create(null) as Record<string, Partial<Record<TileState, number>>>;
  for (const p of order) out[p.id] = {};
  for (const u of units) {
    const p = periodOf(u.id);
    if (p === undefined) continue;
    const row = (out[p] ??= {});
    row[u.state] = (row[u.state] ?? 0) + 1;
  }
  return { ...out };
}
