import { randomUUID } from 'node:crypto';
import {
  FINAL_TILE_STATES, TILE_STATES,
  type Command, type EngineEvent, type JobProgress, type TileState, type WaitingReason,
} from '../../../shared/contract';
import { TesseraError } from '../errors';
import { EarthEngineError, type ImageExport } from '../google/earthengine';
import type { Recipe } from '../recipes';
import type { MultiPolygon } from '../geo/geometry';
import type { Job } from '../job/job-file';
import type { FileRecord, TilePatch, TileRecord } from '../job/state';
import { taskDescription } from '../sync/names';
import { createDestination } from '../destination';
import type { Admission, CollectCycle, Destination, DestinationClients, DestinationContext } from '../destination/port';
import { createProducer } from '../producer';
import type { Producer, ProducerContext } from '../producer/port';
import { systemClock, type Clock } from '../ports/clock';
import type { DrivePort } from '../ports/drive';
import type { EarthEnginePort } from '../ports/earth-engine';
import type { Store } from '../ports/store';
import { SingleDriver } from './single-driver';
import { OutputSizeEstimate } from './estimates';
import { isOffline, isSignedOut, localDiskProblem } from './failures';
import { FailurePolicy } from './failure-policy';
import { AdmissionGates } from './admission';
import { Pace } from './pace';
import { pace, splitView, summarizeTiles } from './progress';
import { failedTilesToReconsider } from './reconsider';
import { RETRYABLE_STATES, retryPatch } from '../job/retry';
import { readableWarning } from './warnings';
import { TileIndex } from './tile-index';
import { fileDimensionsFor, roiInExportCrs } from './plan';
import { planOnce, prepareOutput } from './run-start';

export type { EarthEnginePort } from '../ports/earth-engine';
export type { DrivePort } from '../ports/drive';

export interface RunOptions {
  /** Time (default: the system's); a time-scaled emulator's is `scaledClock`, unit tests' a fake (ports/clock.ts). */
  clock?: Clock;
  signal?: AbortSignal;
  onEvent?: (e: EngineEvent) => void;
  /** Called after every cycle of the loop (benchmarks count requests per cycle). */
  onCycle?: (cycle: number) => void;
  /** The image each tile exports when the job has no recipe (the built-in one). */
  image?: ImageExport['image'];
  /** The job's recipe: what each tile exports (an image or a table). */
  recipe?: Recipe;
  /** Uncompressed bytes per pixel of that image: the upper bound of the Drive-space estimate. */
  bytesPerPixel: number;
  /**
   * Asset jobs: how many assets the merge after the last tile will add (intermediate and final ones);
   * the asset-count gate counts them when judging whether the job can ever fit.
   */
  mergeAssets?: (tiles: number) => number;
  /** Clients of other destinations than Drive (destination/port.ts, DestinationClients). */
  clients?: Partial<DestinationClients>;
  /** `--adopt`: take this job's operations started by another run over (docs/ownership.md). */
  adopt?: boolean;
  /** `--overwrite`: local files with the job's output names that the journal did not write may be replaced. */
  overwrite?: boolean;
}

/** Why a run stopped before the end because it needs a person (exit code 3). */
export interface NeedsUser {
  reason: WaitingReason;
  message: string;
}

export interface RunOutcome {
  exitCode: 0 | 2 | 3 | 130;
  progress: JobProgress;
  failed: { id: string; error: string }[];
  needsUser?: NeedsUser;
  cancelled?: { downloaded: number };
}

const IN_FLIGHT: readonly TileState[] = ['submitting', 'queued', 'running'];
const SYNCING: readonly TileState[] = ['exported', 'downloading', 'verified'];

/**
 * Drives one job to its end: keeps up to `maxInFlight` units in production, reads them as they progress,
 * and brings every output home from its Destination (verified) before cleaning up there. Every step is
 * journaled before it is taken, so a restart after a crash at any point continues without losing or
 * duplicating anything. The runner is the scheduler only: how a unit is made is the Producer's
 * (producer/), where its outputs land is the Destination's (destination/), what a failure becomes is the
 * FailurePolicy's, when to send is the AdmissionGates', and the loop's pace is Pace's.
 */
export class JobRunner {
  private readonly downloads = new Map<string, Promise<void>>();
  /** This cycle's tiles ready to collect, the next to start, and the work they share (startSyncs). */
  private syncQueue: { tiles: TileRecord[]; next: number; cycle: CollectCycle } | undefined;
  /** The lease, foreign operations and local files at start (single-driver.ts). */
  private readonly driver: SingleDriver;
  private readonly clock: Clock;
  private readonly destination: Destination;
  private readonly producer: Producer;
  private readonly failures: FailurePolicy;
  private readonly gates: AdmissionGates;
  private readonly pace: Pace;
  private wake: AbortController | undefined;
  /** A wake-up that came while the loop was busy: its next sleep is skipped. */
  private wakePending = false;
  private waiting: WaitingReason | null = null;
  /** The message to stop with when the gate that closed can no longer open by itself. */
  private stuck: string | undefined;
  private needsUser: NeedsUser | undefined;
  private paused = false;
  private cancelling = false;
  private bytesDownloaded = 0;
  private readonly fileDimensions: (t: Pick<TileRecord, 'dimensions'>) => number;
  private readonly sizes: OutputSizeEstimate;
  private roi: Promise<MultiPolygon> | undefined;
  private index!: TileIndex;
  /** Running totals, so a cycle never walks every tile. */
  private eecuUsed = 0;
  private exportedCount = 0;
  private recentDone: number[] = [];

  constructor(
    private readonly job: Job,
    private readonly repo: Store,
    private readonly ee: EarthEnginePort,
    drive: DrivePort,
    private readonly options: RunOptions,
  ) {
    const clock = (this.clock = options.clock ?? systemClock);
    const shardSize = job.export.shardSize ?? 256;
    this.fileDimensions = (t) => fileDimensionsFor(t.dimensions, shardSize, job.export.fileDimensions);
    this.sizes = new OutputSizeEstimate(options.bytesPerPixel);
    // Built again by run() after planning; here so progress() and command() work before run() (the host).
    this.index = new TileIndex(repo.state.tiles);
    // Google's seconds (poll bounds, back-offs) in ms of the clock: real ms, fewer against a time-scaled emulator.
    const scaledMs = (seconds: number) => clock.fromGoogle(seconds * 1000);
    const log = this.log.bind(this);
    const emit = this.emit.bind(this);
    const setUnit = this.setTile.bind(this);
    const destinationContext: DestinationContext = {
      job, store: repo, ee, clock, signal: options.signal, sizes: this.sizes, scaledMs, log, emit, setUnit,
      outputKind: options.recipe?.kind === 'table' ? 'table' : 'image',
      fileDimensions: this.fileDimensions,
      extraOutputs: options.mergeAssets ?? (() => 0),
      count: (...states) => states.reduce((n, s) => n + this.index.count(s), 0),
      setFile: this.setFile.bind(this),
      online: () => this.online(),
      downloaded: (bytes) => void (this.bytesDownloaded += bytes),
    };
    this.destination = createDestination(destinationContext, { ...options.clients, drive });
    this.pace = new Pace({ clock, minSeconds: job.poll.minSeconds, maxSeconds: job.poll.maxSeconds, scaledMs });
    this.failures = new FailurePolicy({
      job, store: repo, destination: this.destination, clock, scaledMs, setUnit, log,
      planned: (units) => {
        for (const u of units) this.index.moved(u.id, undefined, 'pending');
      },
      roi: () => this.roiInExportCrs(),
    });
    this.gates = new AdmissionGates(job, this.destination);
    const producerContext: ProducerContext = {
      job, store: repo, ee, clock, signal: options.signal, destination: this.destination, sizes: this.sizes,
      recipe: options.recipe, image: options.image,
      scaledMs, log, emit, setUnit,
      fileDimensions: this.fileDimensions,
      failed: (unit, message) => this.failures.failed(unit, message),
      split: (unit, message) => this.failures.split(unit, message),
      wake: () => this.wakeUp(),
      backoff: (seconds) => this.pace.backoff(seconds),
      offline: (e) => this.offline(e),
      online: () => this.online(),
      setWaiting: (reason) => this.setWaiting(reason),
      units: (...states) => this.index.list(...states),
      moreToSend: () => this.moreToSend(),
    };
    this.producer = createProducer(producerContext);
    this.driver = new SingleDriver({
      job,
      repo,
      listOperations: () => this.ee.listOperations(),
      destination: this.destination,
      adopt: options.adopt === true,
      overwrite: options.overwrite === true,
      log,
      takeOver: (tile, f) => this.setTile(tile, { state: 'queued', attempt: f.attempt, description: f.op.metadata?.description, operation: f.op.name, adopted: true, notBefore: undefined }),
      onLeaseLost: (message) => this.stopFor('locked', message),
      pause: (ms) => this.sleep(ms),
      firstPauseMs: scaledMs(job.poll.minSeconds),
      leaseWhere: job.gcs ? `gs://${job.gcs.bucket}/${job.gcs.prefix ? `${job.gcs.prefix}/` : ''}` : `the Drive folder "${job.driveFolder}"`,
    });
  }

  private get tiles(): TileRecord[] {
    return Object.values(this.repo.state.tiles);
  }

  /** Runs the job (runCycles); the job's lease is given back however the run ends. */
  async run(): Promise<RunOutcome> {
    try {
      return await this.runCycles();
    } finally {
      await this.driver.end();
    }
  }

  private async runCycles(): Promise<RunOutcome> {
    await planOnce(this.job, this.repo, (level, message) => this.log(level, message));
    await prepareOutput(this.job);
    this.index = new TileIndex(this.repo.state.tiles);
    this.seedTotals();
    await this.reconsiderFailed();
    // Running the job again is the user's answer to whatever stopped it: start without a waiting reason.
    if (this.repo.state.meta.waiting) await this.repo.append({ type: 'meta', patch: { waiting: null } });
    // One driver per job, foreign operations, local files (docs/ownership.md) — before anything is sent.
    const locked = await this.driver.start();
    if (locked) this.stopFor('locked', locked);
    else await this.guard(() => this.producer.reconcile(false));
    const signal = this.options.signal;
    let lastCycleAt = this.clock.now();
    for (let cycle = 0; !signal?.aborted && !this.needsUser; cycle++) {
      // A laptop that slept, or a long stall: find out what EE did meanwhile before anything else.
      const gap = this.clock.now() - lastCycleAt;
      if (cycle > 0 && gap > Math.max(this.clock.fromGoogle(this.job.poll.maxSeconds * 3000), 300_000)) await this.guard(() => this.producer.reconcile(true));
      lastCycleAt = this.clock.now();
      let changed = await this.guard(() => this.submit());
      changed = (await this.guard(() => this.producer.poll(this.cancelling))) || changed;
      changed = this.startSyncs() || changed;
      await this.guard(() => this.destination.gauge());
      this.emit({ type: 'job-progress', progress: this.progress() });
      this.options.onCycle?.(cycle);
      if (this.finished() || this.needsUser) break;
      this.checkStuck();
      if (this.needsUser) break;
      await this.sleep(this.pace.nextSleepMs(changed, this.producer.nextPollAt()));
    }
    // No download starts once the loop ended: the run waits for the ones under way, then reports.
    this.syncQueue = undefined;
    await Promise.allSettled([...this.downloads.values(), this.producer.drain()]);
    const progress = this.progress();
    this.emit({ type: 'job-progress', progress });
    const failed = this.tiles.filter((t) => t.state === 'failed').map((t) => ({ id: t.id, error: t.error ?? 'failed' }));
    const exitCode = this.needsUser ? 3 : signal?.aborted ? 130 : failed.length ? 2 : 0;
    const outcome: RunOutcome = { exitCode, progress, failed, needsUser: this.needsUser };
    if (this.cancelling) outcome.cancelled = { downloaded: this.tiles.filter((t) => t.state === 'done').length };
    return outcome;
  }

  /** The contract's commands (shared/contract.ts), for `tessera serve` and the desktop app. */
  async command(cmd: Command): Promise<void> {
    switch (cmd.type) {
      case 'pause':
        this.paused = true;
        this.setWaiting('paused');
        break;
      case 'resume':
        this.paused = false;
        if (this.waiting === 'paused') this.setWaiting(null);
        break;
      case 'cancel':
        await this.cancel();
        break;
      case 'retry':
      case 'retry-failed': {
        const ids = cmd.type === 'retry' ? cmd.tiles : this.index.list('failed').map((t) => t.id);
        for (const id of ids) {
          const t = this.repo.state.tiles[id];
          if (t && RETRYABLE_STATES.includes(t.state)) await this.setTile(t, retryPatch());
        }
        break;
      }
      case 'skip':
        for (const id of cmd.tiles) {
          const t = this.repo.state.tiles[id];
          if (t && (t.state === 'pending' || t.state === 'retrying' || t.state === 'failed')) await this.setTile(t, { state: 'skipped' });
        }
        break;
      case 'start':
      case 'status':
        break;
    }
    this.wakeUp();
  }

  // ---- start-up ----------------------------------------------------------------------------------------

  /** One pass over the journaled tiles at start; afterwards the totals follow each change. */
  private seedTotals(): void {
    for (const t of this.tiles) {
      if (t.state === 'done' || t.state === 'verified') this.sizes.learn(t);
      if (t.eecuSeconds !== undefined) {
        this.eecuUsed += t.eecuSeconds;
        this.exportedCount++;
      }
      this.producer.seed(t);
    }
    this.recentDone = summarizeTiles(this.tiles).recentDone;
  }

  /** Failed tiles that a raised `retries` or `splitDepth` gives another chance (reconsider.ts). */
  private async reconsiderFailed(): Promise<void> {
    const again = failedTilesToReconsider(this.index.list('failed'), this.job);
    for (const r of again) {
      if (r.action === 'split') await this.failures.failed(r.tile, r.message);
      else await this.setTile(r.tile, { state: 'pending', error: undefined, notBefore: undefined });
    }
    if (again.length) this.log('info', `${again.length} failed tile(s) tried again: retries or splitDepth was raised`);
  }

  private roiInExportCrs(): Promise<MultiPolygon> {
    return (this.roi ??= roiInExportCrs(this.job));
  }

  // ---- sending -----------------------------------------------------------------------------------------

  private inFlight(): TileRecord[] {
    return this.index.list(...IN_FLIGHT);
  }

  private submittable(t: TileRecord, now: number): boolean {
    return t.state === 'pending' || (t.state === 'retrying' && (!t.notBefore || Date.parse(t.notBefore) <= now));
  }

  private async submit(): Promise<boolean> {
    if (this.pace.holding() || this.cancelling) return false;
    await this.destination.prepare();
    let changed = false;
    // Exports that may or may not have reached EE are re-sent first, with the same requestId.
    for (const tile of this.index.list('submitting')) {
      if (!(await this.producer.send(tile))) return true;
      changed = true;
    }
    if (this.paused) return changed;
    const now = this.clock.now();
    const inFlight = this.inFlight();
    let room = this.job.maxInFlight - inFlight.length;
    let inFlightBytes = inFlight.reduce((s, t) => s + this.sizes.forTile(t), 0);
    let blocked: Exclude<Admission, { ok: true }> | undefined;
    // Retrying tiles first (their time has come), then pending ones in grid order; the live sets are
    // walked lazily, so a cycle looks at as many tiles as it can submit.
    for (const tile of this.index.in('retrying', 'pending')) {
      if (room <= 0 || this.options.signal?.aborted || this.paused) break; // a pause may arrive during the awaits below
      if (!this.submittable(tile, now)) continue;
      // Point jobs: a tile holding none of the points has nothing to export.
      if (this.options.recipe?.kind === 'table' && this.options.recipe.pointsFor(tile)?.length === 0) {
        await this.setTile(tile, { state: 'skipped', error: 'no points in this tile' });
        changed = true;
        continue;
      }
      const bytes = this.sizes.forTile(tile);
      const admission = await this.gates.admit(tile, { eecuUsed: this.eecuUsed, exported: this.exportedCount, inFlight: this.job.maxInFlight - room, inFlightBytes, bytes });
      if (!admission.ok) {
        blocked = admission;
        break;
      }
      const attempt = tile.attempt + 1;
      this.destination.sent(tile);
      // Journal first: after a crash the engine finds this attempt by its description or re-sends it.
      await this.setTile(tile, { state: 'submitting', attempt, requestId: randomUUID(), description: taskDescription(this.job.name, tile.id, attempt), notBefore: undefined });
      room--;
      inFlightBytes += bytes;
      changed = true;
      if (!(await this.producer.send(tile))) break;
    }
    if (blocked && 'stop' in blocked) this.stopFor(blocked.stop.reason, blocked.stop.message);
    else if (blocked) {
      this.stuck = blocked.stuck;
      this.setWaiting(blocked.wait);
    } else if (this.needsUser) return changed;
    else if (this.waiting === 'quota' || this.waiting === 'budget' || this.waiting === 'asset-quota' || (changed && this.waiting === 'queue-full')) this.setWaiting(null);
    return changed;
  }

  /** Tiles wait to be sent (EE's queue of this job's tasks is then worth keeping filled). */
  private moreToSend(): boolean {
    return !this.paused && !this.cancelling && this.index.count('pending') + this.index.count('retrying') > 0;
  }

  /**
   * Cancels the job: tiles not yet in EE end at once; units in production are cancelled and then
   * watched, so one that finished before the cancel reached it still comes home.
   */
  private async cancel(): Promise<void> {
    this.cancelling = true;
    await this.producer.reconcile(false); // exports that may have reached EE get their operation first
    for (const t of this.tiles) {
      if (t.state === 'pending' || t.state === 'retrying' || (t.state === 'submitting' && !t.operation)) await this.setTile(t, { state: 'cancelled' });
    }
    await this.producer.cancel(this.inFlight());
    this.log('info', `cancelled: ${this.tiles.filter((t) => t.state === 'done').length} tiles were already downloaded; outputs already made are still fetched`);
  }

  // ---- bringing outputs home -------------------------------------------------------------------------

  /**
   * Starts collecting exported tiles, up to `downloads` at a time; the work runs beside the main loop.
   * The tiles ready now wait in `syncQueue`: a download that ends starts the next of them at once, so
   * the downloads keep going while the loop is busy sending exports (docs/scale.md, "Throughput of a run").
   */
  private startSyncs(): boolean {
    const ready = this.index.list(...SYNCING).filter((t) => !this.downloads.has(t.id));
    if (ready.length === 0) return false;
    const shared = new Map<string, Promise<unknown>>();
    const cycle: CollectCycle = {
      once: <T>(key: string, make: () => Promise<T>): Promise<T> => {
        let p = shared.get(key) as Promise<T> | undefined;
        if (!p) shared.set(key, (p = make()));
        return p;
      },
    };
    this.syncQueue = { tiles: ready, next: 0, cycle };
    return this.collectNext();
  }

  /**
   * Starts the queued tiles while there is room. They share the cycle of `startSyncs` (one listing per
   * folder, made after the poll that found them exported); a tile exported later waits for the next cycle
   * and its new listing. Each queued tile is started at most once per cycle; none after a failed one or
   * after the loop ended.
   */
  private collectNext(): boolean {
    const queue = this.syncQueue;
    let started = false;
    while (queue && queue.next < queue.tiles.length) {
      if (this.downloads.size >= this.job.downloads || this.needsUser || this.options.signal?.aborted) break;
      const tile = queue.tiles[queue.next++]!;
      if (!SYNCING.includes(tile.state) || this.downloads.has(tile.id)) continue;
      started = true;
      const work = this.destination.collect(tile, queue.cycle)
        .catch((e: unknown) => {
          // A failure (often the cycle's shared listing) ends the cycle's queue: the next cycle tries again.
          if (this.syncQueue === queue) this.syncQueue = undefined;
          this.syncFailed(tile, e);
        })
        .finally(() => {
          this.downloads.delete(tile.id);
          this.collectNext();
          this.wakeUp();
        });
      this.downloads.set(tile.id, work);
    }
    return started;
  }

  private syncFailed(tile: TileRecord, e: unknown): void {
    if (this.options.signal?.aborted) return; // the download was stopped on purpose: it resumes next run
    const disk = localDiskProblem(e);
    if (disk) {
      this.stopFor('paused', `${disk} (${(e as Error).message}); nothing more is deleted from Drive until it is fixed`);
    } else if (isSignedOut(e)) {
      this.stopFor('signed-out', 'signed out: Google no longer accepts the stored sign-in; sign in again');
    } else if (isOffline(e)) {
      this.offline(e);
    } else {
      this.log('warn', `${tile.id}: ${(e as Error).message}; trying again next cycle`);
    }
  }

  // ---- waiting, failing calmly ---------------------------------------------------------------------

  /** Runs one step; network, sign-in and Earth Engine hiccups become waiting states, never crashes. */
  private async guard<T>(step: () => Promise<T>): Promise<T | false> {
    try {
      return await step();
    } catch (e) {
      if (this.options.signal?.aborted) return false; // stopped on purpose (Ctrl-C): not a failure to report
      if (e instanceof TesseraError) {
        // Tessera's own errors carry an HTTP-like status too, but they are never a hiccup to retry:
        // exit 3 stops the run for the user; anything else ends it (bad input).
        if (e.exitCode !== 3) throw e;
        this.stopFor(e.waiting ?? (isSignedOut(e) ? 'signed-out' : 'paused'), e.message);
      } else if (isSignedOut(e)) this.stopFor('signed-out', 'signed out: Google no longer accepts the stored sign-in; sign in again');
      else if (isOffline(e)) this.offline(e);
      else if (e instanceof EarthEngineError || isHttpError(e)) {
        this.log('warn', `${(e as Error).message}; trying again next cycle`);
        this.pace.backoff(this.job.poll.minSeconds);
      } else throw e;
      return false;
    }
  }

  private offline(e: unknown): void {
    const first = this.pace.offline();
    this.setWaiting('offline');
    if (first) this.log('warn', `offline: ${(e as Error).message}; waiting`);
  }

  private online(): void {
    if (!this.pace.online()) return;
    if (this.waiting === 'offline') this.setWaiting(null);
    this.log('info', 'back online');
  }

  private stopFor(reason: WaitingReason, message: string): void {
    if (this.needsUser) return;
    this.needsUser = { reason, message };
    this.setWaiting(reason);
    this.log('error', message);
    this.wakeUp();
  }

  /** A gate's wait that nothing running can end needs the user (exit 3 in the CLI). */
  private checkStuck(): void {
    if (this.waiting !== 'quota' && this.waiting !== 'budget') return;
    if (this.inFlight().length > 0 || this.downloads.size > 0 || this.producer.busy() || SYNCING.some((s) => this.index.count(s) > 0)) return;
    if (this.stuck) this.stopFor(this.waiting, this.stuck);
  }

  // ---- state, events, timing -------------------------------------------------------------------------

  private async setTile(tile: TileRecord, patch: TilePatch): Promise<void> {
    const from = tile.state;
    await this.repo.append({ type: 'tile', id: tile.id, patch });
    if (patch.eecuSeconds !== undefined) {
      this.eecuUsed += patch.eecuSeconds;
      this.exportedCount++;
    }
    if (patch.state) {
      this.index.moved(tile.id, from, patch.state);
      if (patch.state === 'done') this.recentDone = [...this.recentDone.slice(-49), this.clock.now()];
      this.emit({ type: 'tile-state', job: this.job.name, tile: tile.id, state: patch.state, attempt: tile.attempt, message: patch.error, at: this.at() });
    }
  }

  private async setFile(tile: TileRecord, fileId: string, patch: Partial<Pick<FileRecord, 'verified' | 'cleaned'>>): Promise<void> {
    await this.repo.append({ type: 'tile', id: tile.id, patch: { files: tile.files.map((f) => (f.id === fileId ? { ...f, ...patch } : f)) } });
  }

  private setWaiting(reason: WaitingReason | null): void {
    if (this.waiting === reason) return;
    this.waiting = reason;
    void this.repo.append({ type: 'meta', patch: { waiting: reason } });
    if (reason) this.log('info', `waiting: ${reason}`);
  }

  private finished(): boolean {
    return this.downloads.size === 0 && !this.producer.busy() && TILE_STATES.every((s) => FINAL_TILE_STATES.includes(s) || this.index.count(s) === 0);
  }

  progress(): JobProgress {
    const tiles = Object.fromEntries(TILE_STATES.map((st) => [st, this.index.count(st)])) as JobProgress['tiles'];
    const total = TILE_STATES.reduce((sum, st) => sum + (st === 'split' ? 0 : this.index.count(st)), 0);
    const { throughputPerHour, etaSeconds } = pace(this.recentDone, total - (tiles.done ?? 0) - (tiles.failed ?? 0) - (tiles.skipped ?? 0) - (tiles.cancelled ?? 0), this.waiting === 'paused');
    const view = splitView((id) => this.repo.state.tiles[id], this.index.list('split'), TILE_STATES.reduce((sum, st) => sum + this.index.count(st), 0), tiles.done ?? 0);
    return {
      job: this.job.name,
      total,
      tiles,
      queued: (tiles.queued ?? 0) + (tiles.submitting ?? 0),
      running: tiles.running ?? 0,
      waiting: this.waiting,
      throughputPerHour,
      etaSeconds,
      bytesDownloaded: this.bytesDownloaded,
      finished: this.finished(),
      ...view,
    };
  }

  /** Ends the loop's sleep now, or skips its next one when it is not sleeping. */
  private wakeUp(): void {
    if (this.wake) this.wake.abort();
    else this.wakePending = true;
  }

  /** Sleeps `ms` (at least 10), ended early by a command, a finished download, a stop or Ctrl-C. */
  private async sleep(ms: number): Promise<void> {
    if (this.wakePending) {
      this.wakePending = false;
      return;
    }
    const wake = (this.wake = new AbortController());
    const stop = (): void => wake.abort();
    this.options.signal?.addEventListener('abort', stop, { once: true });
    if (this.options.signal?.aborted) wake.abort();
    try {
      await this.clock.sleep(Math.max(10, ms), wake.signal);
    } finally {
      this.options.signal?.removeEventListener('abort', stop);
      if (this.wake === wake) this.wake = undefined;
    }
  }

  private at(): string {
    return new Date(this.clock.now()).toISOString();
  }

  private emit(e: EngineEvent): void {
    this.options.onEvent?.(e);
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    // Google's raw JSON bodies and operation names become one readable line naming tiles (warnings.ts).
    if (level === 'warn' || level === 'error') message = readableWarning(message, (op) => this.index.list(...IN_FLIGHT).find((t) => t.operation === op)?.id);
    this.emit({ type: 'log', job: this.job.name, level, message, at: this.at() });
  }
}

function isHttpError(e: unknown): boolean {
  const status = (e as { response?: { status?: number }; status?: number }).response?.status ?? (e as { status?: number }).status;
  return typeof status === 'number' || /ECONNRESET|socket hang up|aborted|premature close/i.test(e instanceof Error ? e.message : '');
}
