import type { TilePatch } from '../job/state';
import type { Admission, Destination, DestinationContext, ExportTarget, FailureReading, UnitRecord } from './port';

/**
 * No destination: `mode: "direct"` jobs (docs/direct-download.md). The producer fetches each unit's
 * pixels and writes them to the output folder itself, so nothing lives in Drive or Cloud Storage: no
 * lease there, no quota gate, nothing to collect or clean up. The job's local lock still keeps a second
 * process off the job.
 */
export class NoDestination implements Destination {
  readonly kind = 'none';
  readonly localOutputs = true;
  readonly lease = undefined;

  constructor(private readonly ctx: DestinationContext) {}

  async prepare(): Promise<void> {}

  target(unit: UnitRecord): ExportTarget {
    throw new Error(`${unit.id}: a direct job exports nothing (it has no destination)`);
  }

  async admit(): Promise<Admission> {
    return { ok: true };
  }

  sent(): void {}

  async succeeded(unit: UnitRecord): Promise<TilePatch> {
    return { state: 'failed', error: `${unit.id}: an export succeeded for a direct job, which has no destination to collect it from` };
  }

  readFailure(): FailureReading | undefined {
    return undefined;
  }

  /** Only a unit the producer verified reaches here (its file is in place): it is done. */
  async collect(unit: UnitRecord): Promise<void> {
    if (unit.state === 'verified') await this.ctx.setUnit(unit, { state: 'done' });
    else await this.ctx.setUnit(unit, { state: 'failed', error: `${unit.id}: ${unit.state} in a direct job, which has no destination to collect from; run the job again` });
  }

  async gauge(): Promise<void> {}
}
