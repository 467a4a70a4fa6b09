import { splitDepthOf } from '../grid';
import type { TileRecord } from '../job/state';
import { classifyTaskFailure } from './failures';

/**
 * What a re-run does with a tile that failed for good under the limits of an earlier run. `retries` and
 * `splitDepth` may change between runs (they are not part of the job's fingerprint): a tile that ran out
 * of retries, or of splits, gets what the raised limit now allows.
 */
export type Reconsidered = { readonly tile: TileRecord; readonly action: 'retry' } | { readonly tile: TileRecord; readonly action: 'split'; readonly message: string };

/** The runner's words when a tile ran out of splits / retries (runner.ts taskFailed); EE's message comes first. */
const OUT_OF_SPLITS = /^(.*) \(split \d+ times already; splitDepth is \d+\)$/s;
const OUT_OF_RETRIES = /^(.*) \(after \d+ retries\)$/s;

export function failedTilesToReconsider(tiles: Iterable<TileRecord>, limits: { readonly retries: number; readonly splitDepth: number }): Reconsidered[] {
  const out: Reconsidered[] = [];
  for (const tile of tiles) {
    if (tile.state !== 'failed' || !tile.error) continue;
    const split = OUT_OF_SPLITS.exec(tile.error);
    if (split && classifyTaskFailure(split[1]!) === 'split') {
      if (splitDepthOf(tile.id) < limits.splitDepth && Math.max(...tile.dimensions) > 1) out.push({ tile, action: 'split', message: split[1]! });
      continue;
    }
    const retried = OUT_OF_RETRIES.exec(tile.error);
    if (retried && classifyTaskFailure(retried[1]!) === 'transient' && (tile.retriesUsed ?? 0) < limits.retries) out.push({ tile, action: 'retry' });
  }
  return out;
}
