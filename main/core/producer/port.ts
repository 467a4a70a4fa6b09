import type { EngineEvent, WaitingReason } from '../../../shared/contract';
import type { ImageExport } from '../google/earthengine';
import type { Job } from '../job/job-file';
import type { JobMode } from '../direct/job-keys';
import type { TilePatch } from '../job/state';
import type { Recipe } from '../recipes';
import type { Destination, UnitRecord } from '../destination/port';
import type { OutputSizeEstimate } from '../engine/estimates';
import type { Clock } from '../ports/clock';
import type { EarthEnginePort } from '../ports/earth-engine';
import type { Store } from '../ports/store';

/**
 * The Producer port (docs/ARCHITECTURE.md, "Ports"): how a unit's pixels are made. `export` (batch export):
 * an export task sent with a journaled requestId, polled, its outputs collected at the Destination.
 * The job's `mode` picks a producer in producer/index.ts; the runner calls only this interface.
 *
 * States: the runner journals `submitting` (attempt, requestId, description) before `send`; a producer
 * moves the unit on through `queued`/`running` to `exported` (batch: the destination then collects it) or
 * straight on to `downloading`/`verified`/`done` (a producer that writes the output itself).
 */
/** The job's `mode` (docs/job-file.md#mode). */
export type ProducerMode = JobMode;

export interface ProducerContext {
  readonly job: Job;
  readonly store: Store;
  readonly ee: EarthEnginePort;
  readonly clock: Clock;
  readonly signal: AbortSignal | undefined;
  readonly destination: Destination;
  readonly sizes: OutputSizeEstimate;
  /** The job's recipe (undefined: the built-in image `image`). */
  readonly recipe: Recipe | undefined;
  readonly image: ImageExport['image'] | undefined;
  /** Milliseconds of `clock` for `seconds` of Google's time (clock.fromGoogle: poll intervals, back-offs). */
  scaledMs(seconds: number): number;
  fileDimensions(unit: UnitRecord): number;
  setUnit(unit: UnitRecord, patch: TilePatch): Promise<void>;
  /** The unit's attempt failed with this message: the failure policy splits, retries, waits or fails it. */
  failed(unit: UnitRecord, message: string): Promise<void>;
  /** The unit is too large to send at all: split it into its children now (no `splitDepth` limit). */
  split(unit: UnitRecord, message: string): Promise<void>;
  /** Work the producer ran beside the loop ended: run the loop's next cycle now instead of sleeping. */
  wake(): void;
  /** Earth Engine cannot take more now (queue full): wait `seconds` before sending again. */
  backoff(seconds: number): void;
  /** A network failure: the run waits `offline` with a bounded back-off. */
  offline(e: unknown): void;
  online(): void;
  setWaiting(reason: WaitingReason | null): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
  emit(e: EngineEvent): void;
  /** Units in these states. */
  units(...states: UnitRecord['state'][]): UnitRecord[];
  /** Tiles wait to be sent (keeping EE's queue filled is worth a poll). */
  moreToSend(): boolean;
}

export interface Producer {
  readonly mode: ProducerMode;
  /** Learns from one journaled unit at start (e.g. run times for the poll policy). */
  seed(unit: UnitRecord): void;
  /**
   * What happened while nobody watched: units journaled `submitting` whose request may have arrived are
   * found again; with `all`, every unit in flight is read now (start-up, after a long gap).
   */
  reconcile(all: boolean): Promise<void>;
  /**
   * Starts making an admitted unit (journaled `submitting`). False: nothing more can be sent now (the
   * runner stops submitting this cycle); true: sent, or the unit reached an end of its own.
   */
  send(unit: UnitRecord): Promise<boolean>;
  /** Reads the units in flight when a read is due; true when one changed. `all`: read every one now. */
  poll(all: boolean): Promise<boolean>;
  /** Stops the units in flight (the run was cancelled); what finished meanwhile still comes home. */
  cancel(units: UnitRecord[]): Promise<void>;
  /** Epoch ms when the next `poll` is due (the runner sleeps until then at most). */
  nextPollAt(): number;
  /** Work the producer runs beside the loop (a producer writing outputs itself); the run waits for it. */
  busy(): boolean;
  drain(): Promise<void>;
}

export type ProducerFactory = (ctx: ProducerContext) => Producer;
