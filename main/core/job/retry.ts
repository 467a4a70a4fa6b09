import type { TileState } from '../../../shared/tile-state';
import { UserError } from '../errors';
import type { JobSnapshot, TilePatch, TileRecord } from './state';

/** States a user may send back to the queue: what ended without an output. */
export const RETRYABLE_STATES: readonly TileState[] = ['failed', 'cancelled', 'skipped'];

/** Which tiles to retry: named ones, or every tile in the given states. */
export type RetrySelection = { readonly tiles: readonly string[] } | { readonly states: readonly TileState[] };

/**
 * The tiles a retry selects. Named tiles must exist and be retryable (one clear line otherwise, nothing
 * changed); a state selection takes whatever is in those states, possibly nothing.
 */
export function tilesToRetry(state: JobSnapshot, selection: RetrySelection): TileRecord[] {
  if ('states' in selection) return Object.values(state.tiles).filter((t) => selection.states.includes(t.state));
  const picked: TileRecord[] = [];
  for (const id of new Set(selection.tiles)) {
    const t = state.tiles[id];
    if (!t) throw new UserError(`"${id}" is not a tile of this job (tile ids look like x12_ym3; tessera status lists failed ones)`);
    if (!RETRYABLE_STATES.includes(t.state)) throw new UserError(`tile ${id} is ${t.state}; only ${RETRYABLE_STATES.join(', ')} tiles can be retried`);
    picked.push(t);
  }
  return picked;
}

/** What a retried tile becomes: pending again with a fresh retry allowance (its attempt number keeps counting). */
export function retryPatch(): TilePatch {
  return { state: 'pending', retriesUsed: 0, error: undefined, notBefore: undefined };
}
