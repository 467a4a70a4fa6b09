import { splitDepthOf, splitTile } from '../grid';
import type { MultiPolygon } from '../geo/geometry';
import type { Job } from '../job/job-file';
import type { TilePatch, TilePlan } from '../job/state';
import type { Destination, UnitRecord } from '../destination/port';
import type { Clock } from '../ports/clock';
import type { Store } from '../ports/store';
import { classifyTaskFailure, retryDelaySeconds } from './failures';

export interface FailurePolicyDeps {
  job: Job;
  store: Store;
  destination: Destination;
  clock: Clock;
  /** Real milliseconds for `seconds` of job time. */
  scaledMs(seconds: number): number;
  setUnit(unit: UnitRecord, patch: TilePatch): Promise<void>;
  /** New units were planned (a split's children): the runner indexes them as pending. */
  planned(units: readonly TilePlan[]): void;
  roi(): Promise<MultiPolygon>;
  log(level: 'info', message: string): void;
  /** The jitter of the retry back-off (tests fix it). */
  random?: () => number;
}

/**
 * What a failed attempt becomes, by Earth Engine's message (docs/ARCHITECTURE.md, "Ports"): the
 * destination reads it first (its output already made → exported; it is full → wait for room, no retry
 * used); then "too big" splits the unit (up to splitDepth), a transient failure retries after an
 * exponential back-off (up to `retries`), anything else fails the unit.
 */
export class FailurePolicy {
  constructor(private readonly d: FailurePolicyDeps) {}

  async failed(unit: UnitRecord, message: string): Promise<void> {
    const { job, clock } = this.d;
    const reading = this.d.destination.readFailure(unit, message);
    if (reading === 'already-made') {
      await this.d.setUnit(unit, { state: 'exported' });
      return;
    }
    if (reading === 'wait-for-room') {
      await this.d.setUnit(unit, { state: 'retrying', error: message, notBefore: new Date(clock.now()).toISOString() });
      return;
    }
    const kind = classifyTaskFailure(message);
    if (kind === 'split') {
      const depth = splitDepthOf(unit.id);
      if (depth < job.splitDepth && Math.max(...unit.dimensions) > 1) return this.split(unit, message);
      await this.d.setUnit(unit, { state: 'failed', error: `${message} (split ${depth} times already; splitDepth is ${job.splitDepth})` });
      return;
    }
    if (kind === 'drive-full') {
      // A destination that does not read this message (assets) still holds the unit back without a retry.
      await this.d.setUnit(unit, { state: 'retrying', error: message, notBefore: new Date(clock.now()).toISOString() });
      return;
    }
    const used = unit.retriesUsed ?? 0;
    if (kind === 'transient' && used < job.retries) {
      const delayMs = this.d.scaledMs(retryDelaySeconds(used + 1, this.d.random));
      await this.d.setUnit(unit, { state: 'retrying', error: message, retriesUsed: used + 1, notBefore: new Date(clock.now() + delayMs).toISOString() });
      return;
    }
    await this.d.setUnit(unit, { state: 'failed', error: kind === 'transient' ? `${message} (after ${used} retries)` : message });
  }

  /**
   * Splits the unit into its §2 children (docs/grid.md) now. Without the `splitDepth` limit when called
   * directly: a unit known to be too large before anything is sent (a direct request over Earth Engine's
   * size limit) is split until it fits; a unit of one pixel cannot be split and fails.
   */
  async split(unit: UnitRecord, message: string): Promise<void> {
    if (Math.max(...unit.dimensions) <= 1) {
      await this.d.setUnit(unit, { state: 'failed', error: message });
      return;
    }
    const children = splitTile(unit, await this.d.roi());
    await this.d.store.append({ type: 'plan', tiles: children });
    this.d.planned(children);
    await this.d.setUnit(unit, { state: 'split', error: message });
    this.d.log('info', `${unit.id}: ${message} split into ${children.map((c) => c.id.slice(unit.id.length + 1)).join(', ')}`);
  }
}
