import { z } from 'zod';
import { UserError } from '../errors';
import { DEFAULT_DIRECT_CONCURRENCY, PROJECT_CONCURRENCY } from './limits';

/**
 * The job keys `mode` and `direct` (docs/job-file.md#mode): how tiles are made. `export` (default) sends
 * batch exports; `direct` fetches each tile with computePixels; `auto` fetches directly and sends a batch
 * export for a tile whose request hits Earth Engine's computation limits.
 */
export type JobMode = 'export' | 'direct' | 'auto';

export const ModeSchema = z.enum(['export', 'direct', 'auto'], { error: '"mode" must be "export", "direct" or "auto"' });

export const DirectSchema = z
  .object({
    concurrency: z
      .number({ error: 'direct.concurrency must be a number' })
      .int({ error: 'direct.concurrency must be a whole number' })
      .min(1, { error: 'direct.concurrency must be at least 1' })
      .max(PROJECT_CONCURRENCY, { error: `direct.concurrency must be at most ${PROJECT_CONCURRENCY}, Earth Engine's limit of concurrent requests per project` })
      // Optional here (default below), so a misspelt key is named as unknown rather than this one as missing.
      .optional(),
  })
  .strict();

export interface ProductionKeys {
  readonly mode: JobMode;
  /** `direct`/`auto`: requests in flight at most (adaptive below it on 429). */
  readonly direct?: { readonly concurrency: number };
  readonly maxInFlight: number;
}

/**
 * The checked keys. In `direct`/`auto` a job without its own `maxInFlight` may have as many tiles in
 * flight as requests (the default 4 would cap the concurrency).
 */
export function productionKeys(j: {
  mode?: JobMode;
  direct?: { concurrency?: number };
  maxInFlight: number;
  destination?: { type: string };
  points?: unknown;
  recipe?: { preset?: string };
}, raw: unknown): ProductionKeys {
  const mode = j.mode ?? 'export';
  if (mode === 'export') {
    if (j.direct) throw new UserError('job file: "direct" goes with "mode": "direct" or "auto"; remove it, or set the mode');
    return { mode, maxInFlight: j.maxInFlight };
  }
  if (j.destination?.type === 'asset') {
    throw new UserError(`job file: "mode": "${mode}" writes the tiles to the output folder and cannot fill an asset folder; use "mode": "export" with "destination": { "type": "asset" }`);
  }
  if (j.points !== undefined || j.recipe?.preset === 'points') {
    throw new UserError(`job file: "mode": "${mode}" fetches image pixels; a table job (points) needs "mode": "export"`);
  }
  const concurrency = j.direct?.concurrency ?? DEFAULT_DIRECT_CONCURRENCY;
  const explicit = typeof raw === 'object' && raw !== null && 'maxInFlight' in raw;
  return { mode, direct: { concurrency }, maxInFlight: explicit ? j.maxInFlight : Math.max(j.maxInFlight, concurrency) };
}
