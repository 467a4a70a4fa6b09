import type { Job } from '../job/job-file';
import { AssetDestination } from './asset';
import { driveDestination } from './drive';
import { NoDestination } from './none';
import { gcsDestination } from './gcs';
import type { Destination, DestinationClients, DestinationContext, DestinationFactory, DestinationKind } from './port';

export type * from './port';

/**
 * The destination adapters, by kind (docs/ARCHITECTURE.md, "Adding a destination"). A new destination is
 * one file implementing `Destination` (port.ts) and one line here; the runner does not change.
 */
const ADAPTERS: Partial<Record<DestinationKind, DestinationFactory>> = {
  drive: driveDestination,
  // Neither needs a client of its own: the runner's Earth Engine port is in the context.
  asset: (ctx) => new AssetDestination(ctx),
  none: (ctx) => new NoDestination(ctx),
  gcs: gcsDestination,
};

/** Which destination a job's outputs go to, from its job file. */
export function destinationKind(job: Job): DestinationKind {
  // Direct jobs write the output folder themselves (producer/direct.ts): nothing goes to Drive.
  if (job.mode === 'direct') return 'none';
  if (job.gcs !== undefined) return 'gcs';
  return job.assetFolder !== undefined ? 'asset' : 'drive';
}

export function createDestination(ctx: DestinationContext, clients: DestinationClients): Destination {
  const kind = destinationKind(ctx.job);
  const make = ADAPTERS[kind];
  if (!make) throw new Error(`no destination adapter is registered for "${kind}"`);
  return make(ctx, clients);
}
