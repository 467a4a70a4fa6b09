import type { EngineEvent, TileState, WaitingReason } from '../../../shared/contract';
import type { Operation } from '../google/earthengine';
import type { Job } from '../job/job-file';
import type { FileRecord, TilePatch, TileRecord } from '../job/state';
import type { LeaseContent } from '../sync/lease';
import type { OutputSizeEstimate } from '../engine/estimates';
import type { Clock } from '../ports/clock';
import type { DrivePort } from '../ports/drive';
import type { GcsPort } from '../gcs/port';
import type { EarthEnginePort } from '../ports/earth-engine';
import type { Store } from '../ports/store';

/**
 * The Destination port (docs/ARCHITECTURE.md, "Ports"): where a batch export's outputs land and how they
 * come home. The runner never asks which destination a job has; each one is an adapter registered in
 * destination/index.ts. A unit of work is passed as its journal record (`UnitRecord`): adapters read its
 * id, attempt, operation and files, and never build or parse unit ids themselves.
 */
export type UnitRecord = TileRecord;

export type DestinationKind = 'drive' | 'asset' | 'gcs' | 'none';

/** Where Earth Engine writes one unit's outputs: the destination part of `Export.image/table.to*`. */
export type ExportTarget =
  | { to: 'drive'; folder: string; fileNamePrefix: string }
  | { to: 'asset'; assetId: string; fileNamePrefix: string }
  | { to: 'gcs'; bucket: string; fileNamePrefix: string };

/** The answer of an admission gate for one more unit. */
export type Admission =
  | { ok: true }
  /** Wait (the run goes on); `stuck` is the message when nothing running can end the wait (exit 3). */
  | { ok: false; wait: WaitingReason; stuck?: string }
  /** The job can never fit: the run stops now, naming why (exit 3). */
  | { ok: false; stop: { reason: WaitingReason; message: string } };

/** How a destination reads a failed task's message before the failure policy does. */
export type FailureReading =
  /** The unit's output already exists from an earlier attempt of this job: take it, never overwrite it. */
  | 'already-made'
  /** The destination is full: the unit waits for room (the gate holds it back) without using a retry. */
  | 'wait-for-room';

/** A lease held: renewed while the run lives, released at its end (docs/ownership.md, "Lease"). */
export interface HeldLease {
  startHeartbeat(onLost: (message: string) => void, onProblem: (message: string) => void): void;
  release(): Promise<void>;
}

/** Where a job's lease lives (a file in the Drive folder; an object under a bucket prefix…). */
export interface LeaseStore {
  /** Takes the lease, or answers who holds it as one line ending in "nothing was sent…". */
  acquire(): Promise<{ kind: 'held'; lease: HeldLease; tookOver: LeaseContent[] } | { kind: 'locked'; message: string }>;
}

/** Shares work between the units collected in one cycle (e.g. one folder listing serves them all). */
export interface CollectCycle {
  once<T>(key: string, make: () => Promise<T>): Promise<T>;
}

/** What the runner gives every destination adapter. */
export interface DestinationContext {
  readonly job: Job;
  readonly store: Store;
  readonly ee: EarthEnginePort;
  readonly clock: Clock;
  readonly signal: AbortSignal | undefined;
  /** What each unit exports: images (GeoTIFF files, image assets) or tables (CSV/GeoJSON, table assets). */
  readonly outputKind: 'image' | 'table';
  /** The per-unit output size estimate (learned from finished units). */
  readonly sizes: OutputSizeEstimate;
  /** Real milliseconds for `seconds` of job time (the emulator's time scale divides them). */
  scaledMs(seconds: number): number;
  /** The square file size of a unit's output files, in pixels. */
  fileDimensions(unit: UnitRecord): number;
  /**
   * Outputs the job itself will add at the destination beyond one per unit (an asset job's merge), for
   * the gate's "this job can never fit".
   */
  extraOutputs(units: number): number;
  /** How many units are in these states now. */
  count(...states: TileState[]): number;
  /** Journals a change of the unit (and tells the dashboard). */
  setUnit(unit: UnitRecord, patch: TilePatch): Promise<void>;
  setFile(unit: UnitRecord, fileId: string, patch: Partial<Pick<FileRecord, 'verified' | 'cleaned'>>): Promise<void>;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
  emit(e: EngineEvent): void;
  /** A request to Google went through: ends an offline wait. */
  online(): void;
  /** Bytes brought to the output folder (the progress counter). */
  downloaded(bytes: number): void;
}

/** The adapters' own clients (one per destination that needs one); the runner passes them through. */
export interface DestinationClients {
  drive: DrivePort;
  /** Cloud Storage (gcs/client.ts), for jobs whose destination is a bucket. */
  gcs?: GcsPort;
}

export interface Destination {
  readonly kind: DestinationKind;
  /**
   * The final copies land in the job's output folder, so local files with the job's output names that
   * the journal did not write are refused at start (docs/ownership.md). False for assets.
   */
  readonly localOutputs: boolean;
  /** The job's lease (one driver per job across machines); undefined: this destination holds none. */
  readonly lease: LeaseStore | undefined;
  /** Before the first export of a run (assets: find or create the folder). Called every cycle; cheap once done. */
  prepare(): Promise<void>;
  /** Where Earth Engine writes this unit's outputs. */
  target(unit: UnitRecord): ExportTarget;
  /** The space/quota gate for one more unit of `bytes` while `inFlightBytes` are on their way. */
  admit(unit: UnitRecord, bytes: number, inFlightBytes: number): Promise<Admission>;
  /** The unit was admitted and is being sent (a quota counted locally counts it). */
  sent(unit: UnitRecord): void;
  /**
   * The unit's operation SUCCEEDED: the patch that makes it `exported` (where its outputs are, the
   * operation's createTime for the ownership rule), or one that fails it.
   */
  succeeded(unit: UnitRecord, op: Operation): Promise<TilePatch>;
  /** Reads a failed task's message first (undefined: the failure policy decides). */
  readFailure(unit: UnitRecord, message: string): FailureReading | undefined;
  /**
   * Brings an `exported`/`downloading`/`verified` unit home: finds its outputs (ownership rule, late
   * listings), downloads and verifies them, cleans up, and journals each step up to `done` (or `failed`).
   * Returns early (nothing journaled) while the outputs are not there yet; throws on network/disk errors.
   */
  collect(unit: UnitRecord, cycle: CollectCycle): Promise<void>;
  /** The gauge shown on the dashboard (a `quota` event when it changed); cheap when nothing is due. */
  gauge(): Promise<void>;
}

/** Builds a destination adapter (registered in destination/index.ts). */
export type DestinationFactory = (ctx: DestinationContext, clients: DestinationClients) => Destination;
