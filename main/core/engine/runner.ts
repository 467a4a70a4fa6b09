import { randomUUID } from 'node:crypto';
import { access, constants } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  FINAL_TILE_STATES, TILE_STATES,
  type Command, type EngineEvent, type JobProgress, type Quota, type TileState, type WaitingReason,
} from '../../../shared/contract';
import { UserError } from '../errors';
import { ASSET_EXISTS, ASSET_QUOTA, QUEUE_FULL, driveFolderId, EarthEngineError, type AssetQuota, type EeAsset, type ImageExport, type Operation, type TableExport } from '../google/earthengine';
import type { Recipe } from '../recipes';
import type { DriveFile, DriveQuota } from '../google/drive';
import { splitDepthOf, splitTile } from '../grid';
import type { MultiPolygon } from '../geo/geometry';
import type { Job } from '../job/job-file';
import type { JobRepository } from '../job/repository';
import type { FileRecord, TilePatch, TileRecord } from '../job/state';
import { downloadVerified } from '../sync/download';
import { adoptLocalOutputs } from '../sync/adopt-local';
import { checkOutputGrids } from '../sync/grid-check';
import type { LeaseDrive } from '../sync/lease';
import { ListingWatch } from '../sync/listing';
import { SingleDriver } from './single-driver';
import { filePrefix, safeOutputPath, taskDescription } from '../sync/names';
import { crashPoint } from './crash-points';
import { budgetAllows, OutputSizeEstimate } from './estimates';
import { classifyTaskFailure, isOffline, isSignedOut, localDiskProblem, retryDelaySeconds } from './failures';
import { DriveSpace } from './drive-space';
import { PollPolicy, eeMillis, type PollPlan, type WatchedOperation } from './poll-policy';
import { pace, splitView, summarizeTiles } from './progress';
import { failedTilesToReconsider } from './reconsider';
import { RETRYABLE_STATES, retryPatch } from '../job/retry';
import { prepareOutputFolder } from '../job/output-folder';
import { maxPixelsSent } from '../../../shared/estimate';
import { readableWarning } from './warnings';
import { clippedImage, roiPartInTile } from './roi-mask';
import { TileIndex } from './tile-index';
import { fileDimensionsFor, fileHash, planTiles, roiContentHash, roiInExportCrs } from './plan';

/** What the runner needs from Earth Engine (the real adapter over the unmodified client). */
export interface EarthEnginePort {
  exportImage(x: ImageExport): Promise<string>;
  /** Table exports (point recipes, recipes returning a FeatureCollection). */
  exportTable?(x: TableExport): Promise<string>;
  getOperations(names: string[]): Promise<Map<string, Operation>>;
  /** The project's operations, every page; with `limit`, paging stops once that many are read. */
  listOperations(limit?: number): Promise<Operation[]>;
  cancelOperations(names: string[]): Promise<void>;
  /** Asset jobs: an asset or null, and creating the job's folder or image collection. */
  getAsset?(name: string): Promise<EeAsset | null>;
  createAsset?(name: string, type: 'FOLDER' | 'IMAGE_COLLECTION'): Promise<void>;
  /** Asset jobs: the project's asset quota (the asset-count gate). */
  assetQuota?(name: string): Promise<AssetQuota>;
}

export interface DrivePort extends Partial<Omit<LeaseDrive, 'remove'>> {
  listFolder(folderId: string): Promise<DriveFile[]>;
  download(fileId: string, start: number, signal?: AbortSignal): Promise<Readable>;
  remove(fileId: string): Promise<void>;
  trash(fileId: string): Promise<void>;
  quota(): Promise<DriveQuota>;
}

export interface RunOptions {
  /** Simulated time runs this many times faster (the emulator's timeScale): intervals shrink by it. */
  timeScale?: number;
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
/** At most this many operations per batched getOperation request. */
const POLL_BATCH = 100;

/**
 * Drives one job to its end: keeps up to `maxInFlight` tasks in Earth Engine, polls them with one batched
 * request per cycle, and moves every output from Drive to the output folder (verified) before cleaning
 * Drive. Every step is journaled before it is taken, so a restart after a crash at any point continues
 * without losing or duplicating anything. Failures are met by kind: transient ones retry with back-off,
 * time-outs and memory limits split the tile, a full Drive or a spent budget waits, a lost network waits,
 * a dead sign-in or an unwritable disk stops and says so.
 */
export class JobRunner {
  private readonly downloads = new Map<string, Promise<void>>();
  /** Late Drive listings: which exported tiles wait for their files, with back-off (sync/listing.ts). */
  private readonly listingWatch = new ListingWatch();
  /** The lease, foreign operations and local files at start (single-driver.ts). */
  private readonly driver: SingleDriver;
  /** Drive files with the job's output names that are not its outputs, each warned about once. */
  private readonly foreignSeen: Set<string>;
  private wake: (() => void) | undefined;
  private intervalSeconds: number;
  private waiting: WaitingReason | null = null;
  private needsUser: NeedsUser | undefined;
  private paused = false;
  private cancelling = false;
  private bytesDownloaded = 0;
  private readonly fileDimensions: (t: Pick<TileRecord, 'dimensions'>) => number;
  private readonly shardSize: number;
  private backoffUntil = 0;
  private offlineStreak = 0;
  /** Drive's free space, `about` read only when the quota gate needs it (drive-space.ts). */
  private readonly space: DriveSpace;
  /** The last quota sent to the gauge, so an unchanged one is not sent again. */
  private lastQuotaEvent = '';
  /** When to read which operations (poll-policy.ts). */
  private readonly polls: PollPolicy;
  /** Asset jobs: the destination folder was found or created in this run. */
  private assetFolderReady = false;
  /** Asset jobs: the last quota read, with the tasks in flight then and the exports sent since. */
  private assetQuota: (AssetQuota & { at: number; inFlightAtRead: number; sentSince: number }) | undefined;
  /** Asset jobs: assets the job itself adds beyond its tiles (the merge's outputs), for "can never fit". */
  private readonly extraAssets: (tiles: number) => number;
  private readonly sizes: OutputSizeEstimate;
  private roi: Promise<MultiPolygon> | undefined;
  private index!: TileIndex;
  /** Running totals, so a cycle never walks every tile. */
  private eecuUsed = 0;
  private exportedCount = 0;
  private recentDone: number[] = [];

  constructor(
    private readonly job: Job,
    private readonly repo: JobRepository,
    private readonly ee: EarthEnginePort,
    private readonly drive: DrivePort,
    private readonly options: RunOptions,
  ) {
    this.intervalSeconds = job.poll.minSeconds;
    this.polls = new PollPolicy({ minIntervalMs: this.scaled(job.poll.minSeconds) * 1000, maxIntervalMs: this.scaled(job.poll.maxSeconds) * 1000 });
    // Re-read without need at most every 30 × poll.maxSeconds (30 min by default): for the gauge.
    this.space = new DriveSpace({ read: () => this.drive.quota(), maxAgeMs: this.scaled(job.poll.maxSeconds) * 30_000, freshMs: this.scaled(job.poll.minSeconds) * 1000 });
    this.shardSize = job.export.shardSize ?? 256;
    this.fileDimensions = (t) => fileDimensionsFor(t.dimensions, this.shardSize, job.export.fileDimensions);
    this.sizes = new OutputSizeEstimate(options.bytesPerPixel);
    // Built again by run() after planning; here so progress() and command() work before run() (the host).
    this.index = new TileIndex(repo.state.tiles);
    this.extraAssets = options.mergeAssets ?? (() => 0);
    this.foreignSeen = new Set(repo.state.meta.foreignFiles ?? []);
    this.driver = new SingleDriver({
      job,
      repo,
      listOperations: () => this.ee.listOperations(),
      drive: this.drive,
      adopt: options.adopt === true,
      overwrite: options.overwrite === true,
      log: (level, message) => this.log(level, message),
      takeOver: (tile, f) => this.setTile(tile, { state: 'queued', attempt: f.attempt, description: f.op.metadata?.description, operation: f.op.name, adopted: true, notBefore: undefined }),
      onLeaseLost: (message) => this.stopFor('locked', message),
      pause: (seconds) => this.sleep(seconds),
      firstPauseSeconds: this.scaled(job.poll.minSeconds),
    });
  }

  private get tiles(): TileRecord[] {
    return Object.values(this.repo.state.tiles);
  }

  /** Runs the job (runCycles); the job's lease in Drive is given back however the run ends. */
  async run(): Promise<RunOutcome> {
    try {
      return await this.runCycles();
    } finally {
      await this.driver.end();
    }
  }

  private async runCycles(): Promise<RunOutcome> {
    await this.plan();
    await this.prepareOutput();
    this.index = new TileIndex(this.repo.state.tiles);
    this.seedTotals();
    await this.reconsiderFailed();
    // Running the job again is the user's answer to whatever stopped it: start without a waiting reason.
    if (this.repo.state.meta.waiting) await this.repo.append({ type: 'meta', patch: { waiting: null } });
    // One driver per job, foreign operations, local files (docs/ownership.md) — before anything is sent.
    const locked = await this.driver.start();
    if (locked) this.stopFor('locked', locked);
    else await this.guard(() => this.reconcile());
    const signal = this.options.signal;
    let lastCycleAt = Date.now();
    for (let cycle = 0; !signal?.aborted && !this.needsUser; cycle++) {
      // A laptop that slept, or a long stall: find out what EE did meanwhile before anything else.
      const gap = Date.now() - lastCycleAt;
      if (cycle > 0 && gap > Math.max(this.scaled(this.job.poll.maxSeconds) * 3000, 300_000)) await this.guard(() => this.reconcile(true));
      lastCycleAt = Date.now();
      let changed = await this.guard(() => this.submit());
      changed = (await this.guard(() => this.poll())) || changed;
      changed = this.startSyncs() || changed;
      await this.guard(() => this.refreshQuota()); // the gauge
      this.emit({ type: 'job-progress', progress: this.progress() });
      this.options.onCycle?.(cycle);
      if (this.finished() || this.needsUser) break;
      this.checkStuck();
      if (this.needsUser) break;
      this.intervalSeconds = changed ? this.job.poll.minSeconds : Math.min(this.job.poll.maxSeconds, this.intervalSeconds * 1.5);
      const backoff = Math.max(0, (this.backoffUntil - Date.now()) / 1000);
      await this.sleep(Math.max(Math.min(this.scaled(this.intervalSeconds), this.untilNextPoll()), Math.min(backoff, this.scaled(this.job.poll.maxSeconds))));
    }
    await Promise.allSettled(this.downloads.values());
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
    this.wake?.();
  }

  // ---- planning and start-up -------------------------------------------------------------------------

  /** One pass over the journaled tiles at start; afterwards the totals follow each change. */
  private seedTotals(): void {
    for (const t of this.tiles) {
      if (t.state === 'done' || t.state === 'verified') this.sizes.learn(t);
      if (t.eecuSeconds !== undefined) {
        this.eecuUsed += t.eecuSeconds;
        this.exportedCount++;
      }
      const duration = runDuration(t);
      if (duration !== undefined) this.polls.learnRunTime(duration);
      const since = t.state === 'running' && t.operation ? t.history.findLast((h) => h.state === 'running') : undefined;
      if (since) this.polls.running(t.operation!, Date.parse(since.at));
    }
    this.recentDone = summarizeTiles(this.tiles).recentDone;
  }

  /** Failed tiles that a raised `retries` or `splitDepth` gives another chance (reconsider.ts). */
  private async reconsiderFailed(): Promise<void> {
    const again = failedTilesToReconsider(this.index.list('failed'), this.job);
    for (const r of again) {
      if (r.action === 'split') await this.taskFailed(r.tile, r.message);
      else await this.setTile(r.tile, { state: 'pending', error: undefined, notBefore: undefined });
    }
    if (again.length) this.log('info', `${again.length} failed tile(s) tried again: retries or splitDepth was raised`);
  }

  private async plan(): Promise<void> {
    const fingerprint: Record<string, string> = { ...this.job.fingerprint, roiContent: await roiContentHash(this.job).catch(() => 'unreadable') };
    // A custom recipe's code defines the outputs as much as the job file does.
    if (this.job.recipe && 'file' in this.job.recipe) fingerprint.recipeContent = await fileHash(this.job.recipe.file).catch(() => 'unreadable');
    const before = this.repo.state.meta.fingerprint;
    if (before) {
      const changed = Object.keys(fingerprint).filter((k) => before[k] !== undefined && before[k] !== fingerprint[k]);
      if (changed.length) {
        const names: Record<string, string> = { roiContent: 'the ROI file', recipeContent: 'the recipe file' };
        const keys = changed.map((k) => names[k] ?? `"${k}"`).join(', ');
        throw new UserError(
          `the job changed since it started: ${keys} differ${changed.length === 1 ? 's' : ''}; undo the change, or give the job a new name to start over`,
        );
      }
    }
    if (this.repo.state.meta.planned) return;
    const { tiles, warnings } = await planTiles(this.job);
    for (const w of warnings) this.log('warn', w);
    if (tiles.length === 0) throw new UserError('the ROI covers no tile with positive area');
    await this.repo.append({ type: 'meta', patch: { fingerprint } }, { type: 'plan', tiles });
    this.log('info', `planned ${tiles.length} tiles`);
  }

  private async prepareOutput(): Promise<void> {
    try {
      // Made one level at a time, refusing kernel filesystems such as /proc (output-folder.ts).
      await prepareOutputFolder(this.job.output);
      await access(this.job.output, constants.W_OK);
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`the output folder ${this.job.output} cannot be written (${(e as Error).message}); nothing was submitted or deleted`, 3);
    }
  }

  /**
   * Finds out what Earth Engine did while nobody watched: adopts operations that were sent but not
   * recorded (found by description), then polls everything in flight.
   */
  private async reconcile(force = false): Promise<void> {
    const unsure = this.index.list('submitting');
    if (unsure.length > 0) {
      const ops = await this.ee.listOperations();
      const byDescription = new Map(ops.map((op) => [op.metadata?.description, op]));
      for (const tile of unsure) {
        const op = byDescription.get(tile.description);
        if (op) {
          await this.setTile(tile, { state: 'queued', operation: op.name });
          this.log('info', `${tile.id}: adopted ${op.name}, sent before a restart`);
        }
      }
    }
    if (force) await this.poll(true);
  }

  // ---- Earth Engine ----------------------------------------------------------------------------------

  private inFlight(): TileRecord[] {
    return this.index.list(...IN_FLIGHT);
  }

  private submittable(t: TileRecord, now: number): boolean {
    return t.state === 'pending' || (t.state === 'retrying' && (!t.notBefore || Date.parse(t.notBefore) <= now));
  }

  private async submit(): Promise<boolean> {
    if (Date.now() < this.backoffUntil || this.cancelling) return false;
    if (this.job.assetFolder && !this.assetFolderReady) await this.ensureAssetFolder(this.job.assetFolder);
    let changed = false;
    // Exports that may or may not have reached EE are re-sent first, with the same requestId.
    for (const tile of this.index.list('submitting')) {
      if (!(await this.send(tile))) return true;
      changed = true;
    }
    if (this.paused) return changed;
    const now = Date.now();
    const inFlight = this.inFlight();
    let room = this.job.maxInFlight - inFlight.length;
    let inFlightBytes = inFlight.reduce((s, t) => s + this.sizes.forTile(t), 0);
    let blocked: WaitingReason | null = null;
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
      if (!budgetAllows(this.eecuUsed, this.exportedCount, this.job.maxInFlight - room, this.job.eecuBudgetHours)) {
        blocked = 'budget';
        break;
      }
      const bytes = this.sizes.forTile(tile);
      if (!(await this.driveHasRoomFor(inFlightBytes, bytes))) {
        blocked = 'quota';
        break;
      }
      if (!(await this.assetRoomForOneMore())) {
        blocked = this.needsUser ? null : 'asset-quota';
        break;
      }
      const attempt = tile.attempt + 1;
      if (this.assetQuota) this.assetQuota.sentSince++;
      // Journal first: after a crash the engine finds this attempt by its description or re-sends it.
      await this.setTile(tile, { state: 'submitting', attempt, requestId: randomUUID(), description: taskDescription(this.job.name, tile.id, attempt), notBefore: undefined });
      room--;
      inFlightBytes += bytes;
      changed = true;
      if (!(await this.send(tile))) break;
    }
    if (blocked) this.setWaiting(blocked);
    else if (this.needsUser) return changed;
    else if (this.waiting === 'quota' || this.waiting === 'budget' || this.waiting === 'asset-quota' || (changed && this.waiting === 'queue-full')) this.setWaiting(null);
    return changed;
  }

  /** Sends the tile's export; false when EE cannot take more now (the caller stops submitting). */
  private async send(tile: TileRecord): Promise<boolean> {
    const [w, h] = tile.dimensions;
    const recipe = this.options.recipe;
    let built: Awaited<ReturnType<Recipe['build']>> | undefined;
    if (recipe) {
      try {
        built = await recipe.build(tile);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        // The recipe itself failed (a custom recipe's error, or a time-out): no task is sent.
        await this.setTile(tile, { state: 'failed', error: e.message });
        return true;
      }
      for (const line of built.logs) this.log('info', `${tile.id}: ${line}`);
    }
    if (built?.kind === 'table') return this.sendTable(tile, built.make, built.format ?? 'CSV');
    const exportParams: ImageExport = {
      requestId: tile.requestId!,
      description: tile.description!,
      folder: this.job.driveFolder,
      fileNamePrefix: filePrefix(this.job.name, tile.id),
      crs: tile.crs,
      crsTransform: tile.crsTransform,
      dimensions: tile.dimensions,
      fileDimensions: this.fileDimensions(tile),
      shardSize: this.shardSize,
      maxPixels: maxPixelsSent(w * h, this.job.export.maxPixels),
      priority: this.job.export.priority,
      image: await this.maskedToRoi(tile, built ? built.make : this.options.image!),
      noData: this.job.export.noData,
      cloudOptimized: this.job.export.cloudOptimized,
      skipEmptyTiles: this.job.export.skipEmptyTiles,
      ...(this.job.assetFolder ? { assetId: this.assetName(tile) } : {}),
    };
    return this.sendExport(tile, () => this.ee.exportImage(exportParams));
  }

  /** With export.maskToRoi, the tile's image clipped to the ROI (roi-mask.ts); else as it is. */
  private async maskedToRoi(tile: TileRecord, make: ImageExport['image']): Promise<ImageExport['image']> {
    if (!this.job.export.maskToRoi) return make;
    this.roi ??= roiInExportCrs(this.job);
    const part = roiPartInTile(await this.roi, tile);
    return part ? clippedImage(make, part, tile.crs) : make;
  }

  /** A table export of one tile: one CSV or GeoJSON file in Drive. */
  private sendTable(tile: TileRecord, make: TableExport['collection'], format: 'CSV' | 'GeoJSON'): Promise<boolean> {
    const exportTable = this.ee.exportTable?.bind(this.ee);
    if (!exportTable) throw new Error('this Earth Engine connection cannot export tables');
    const params: TableExport = {
      requestId: tile.requestId!,
      description: tile.description!,
      folder: this.job.driveFolder,
      fileNamePrefix: filePrefix(this.job.name, tile.id),
      fileFormat: format,
      priority: this.job.export.priority,
      collection: make,
      ...(this.job.assetFolder ? { assetId: this.assetName(tile) } : {}),
    };
    return this.sendExport(tile, () => exportTable(params));
  }

  /** Sends an export with the journaled requestId; same crash points and outcomes for images and tables. */
  private async sendExport(tile: TileRecord, start: () => Promise<string>): Promise<boolean> {
    try {
      crashPoint('before-export');
      const name = await start();
      crashPoint('after-export');
      await this.setTile(tile, { state: 'queued', operation: name });
      this.online();
      return true;
    } catch (e) {
      if (!(e instanceof EarthEngineError)) throw e;
      if (QUEUE_FULL.test(e.message)) {
        this.setWaiting('queue-full');
        this.backoff(this.job.poll.maxSeconds);
        return false;
      }
      if (e.transient || isOffline(e)) {
        this.log('warn', `${tile.id}: export not confirmed (${e.message}); it is re-sent with the same requestId`);
        if (isOffline(e)) this.offline(e);
        else this.backoff(this.job.poll.minSeconds);
        return false;
      }
      // EE refused the request itself: the same outcome as a task failing with that message.
      await this.taskFailed(tile, e.message);
      return true;
    }
  }

  /**
   * Reads the operations that can have changed, when a read is due (poll-policy.ts); `all` reads every
   * operation in flight now (start-up, after a long gap, while cancelling).
   */
  private async poll(all = false): Promise<boolean> {
    const watched = this.index.list('queued', 'running').filter((t) => t.operation);
    if (watched.length === 0) return false;
    const ops = watched.map(watchedOperation);
    const plan: PollPlan | undefined = all || this.cancelling ? { names: ops.map((o) => o.name), via: 'get' } : this.polls.plan(ops, Date.now(), this.moreToSend());
    if (!plan) return false;
    const seen = await this.readOperations(plan);
    this.online();
    let changed = false;
    for (const tile of watched) {
      const op = seen.get(tile.operation!);
      if (op) changed = (await this.observe(tile, op)) || changed;
    }
    this.polls.polled(Date.now(), changed);
    return changed;
  }

  /** One list page, or batched reads (POLL_BATCH a request); what a listed page lacks is read after it. */
  private async readOperations(plan: PollPlan): Promise<Map<string, Operation>> {
    const seen = new Map<string, Operation>();
    let missing = plan.names;
    if (plan.via === 'list') {
      for (const op of await this.ee.listOperations(plan.names.length)) seen.set(op.name, op);
      missing = plan.names.filter((n) => !seen.has(n));
    }
    for (let k = 0; k < missing.length; k += POLL_BATCH) {
      for (const [name, op] of await this.ee.getOperations(missing.slice(k, k + POLL_BATCH))) seen.set(name, op);
    }
    return seen;
  }

  /** Tiles wait to be sent (EE's queue of this job's tasks is then worth keeping filled). */
  private moreToSend(): boolean {
    return !this.paused && !this.cancelling && this.index.count('pending') + this.index.count('retrying') > 0;
  }

  private async observe(tile: TileRecord, op: Operation): Promise<boolean> {
    const m = op.metadata;
    const scale = this.options.timeScale;
    if (m?.state === 'RUNNING') this.polls.running(op.name, Date.now(), eeMillis(m.startTime, m.updateTime, scale));
    else if (m?.state === 'SUCCEEDED' || m?.state === 'FAILED' || m?.state === 'CANCELLED') {
      this.polls.ended(op.name, m.state === 'SUCCEEDED' ? (eeMillis(m.startTime, m.endTime, scale) ?? journaledRun(tile)) : undefined);
      if (m.state === 'SUCCEEDED' && !this.job.assetFolder) this.space.appeared(tile.id, this.sizes.forTile(tile));
    }
    switch (op.metadata?.state) {
      case 'RUNNING':
      case 'CANCELLING':
        if (tile.state === 'running') return false;
        await this.setTile(tile, { state: 'running' });
        return true;
      case 'SUCCEEDED': {
        if (this.job.assetFolder) {
          // Verified (done) only once the asset is seen in EE: startSyncs → syncAsset.
          await this.setTile(tile, { state: 'exported', eecuSeconds: op.metadata?.batchEecuUsageSeconds ?? 0 });
          return true;
        }
        const folderId = driveFolderId(op) ?? (await this.jobFolderFor(tile, op));
        if (!folderId) {
          await this.setTile(tile, { state: 'failed', error: `operation ${op.name} succeeded without a Drive folder in destinationUris, and no Drive folder named "${this.job.driveFolder}" was found` });
          return true;
        }
        if (!this.repo.state.meta.driveFolderId && driveFolderId(op)) await this.repo.append({ type: 'meta', patch: { driveFolderId: folderId } });
        // The operation's createTime: Drive files older than it are not its outputs (docs/ownership.md).
        const createTime = op.metadata?.createTime;
        await this.setTile(tile, { state: 'exported', folderId, eecuSeconds: op.metadata?.batchEecuUsageSeconds ?? 0, ...(createTime ? { operationCreateTime: createTime } : {}) });
        return true;
      }
      case 'FAILED':
        await this.taskFailed(tile, op.error?.message ?? 'failed without a message');
        return true;
      case 'CANCELLED':
        await this.setTile(tile, { state: 'cancelled', error: op.error?.message ?? 'cancelled in Earth Engine' });
        return true;
      default:
        return false;
    }
  }

  /** A task failed: split it, retry it later, wait for Drive space, or give up, by EE's message. */
  private async taskFailed(tile: TileRecord, message: string): Promise<void> {
    // An asset job's attempt refused because the tile's asset already exists: an earlier attempt made it
    // (e.g. before a crash). Adopt it, never overwrite it; syncAsset checks its type.
    if (this.job.assetFolder && ASSET_EXISTS.exec(message)?.[1] === this.assetName(tile)) {
      this.log('info', `${tile.id}: adopted the existing asset ${this.assetName(tile)}`);
      await this.setTile(tile, { state: 'exported' });
      return;
    }
    const kind = classifyTaskFailure(message);
    if (kind === 'split') {
      const depth = splitDepthOf(tile.id);
      if (depth < this.job.splitDepth && Math.max(...tile.dimensions) > 1) {
        this.roi ??= roiInExportCrs(this.job);
        const children = splitTile(tile, await this.roi);
        await this.repo.append({ type: 'plan', tiles: children });
        for (const c of children) this.index.moved(c.id, undefined, 'pending');
        await this.setTile(tile, { state: 'split', error: message });
        this.log('info', `${tile.id}: ${message} split into ${children.map((c) => c.id.slice(tile.id.length + 1)).join(', ')}`);
        return;
      }
      await this.setTile(tile, { state: 'failed', error: `${message} (split ${depth} times already; splitDepth is ${this.job.splitDepth})` });
      return;
    }
    if (this.job.assetFolder && ASSET_QUOTA.test(message)) {
      // The project's asset quota filled up under us: wait for room (the asset gate), no retry used.
      this.assetQuota = undefined;
      await this.setTile(tile, { state: 'retrying', error: message, notBefore: new Date().toISOString() });
      return;
    }
    if (kind === 'drive-full') {
      // Not the tile's fault: it waits for space (the quota gate holds it back) without using a retry.
      this.space.forget();
      await this.setTile(tile, { state: 'retrying', error: message, notBefore: new Date().toISOString() });
      return;
    }
    const used = tile.retriesUsed ?? 0;
    if (kind === 'transient' && used < this.job.retries) {
      const delay = this.scaled(retryDelaySeconds(used + 1));
      await this.setTile(tile, { state: 'retrying', error: message, retriesUsed: used + 1, notBefore: new Date(Date.now() + delay * 1000).toISOString() });
      return;
    }
    await this.setTile(tile, { state: 'failed', error: kind === 'transient' ? `${message} (after ${used} retries)` : message });
  }

  /**
   * Cancels the job: tiles not yet in EE end at once; operations in EE are cancelled and then watched, so
   * a task that finished before the cancel reached it is still downloaded (its output is in Drive).
   */
  private async cancel(): Promise<void> {
    this.cancelling = true;
    await this.reconcile(); // exports that may have reached EE get their operation first
    for (const t of this.tiles) {
      if (t.state === 'pending' || t.state === 'retrying' || (t.state === 'submitting' && !t.operation)) await this.setTile(t, { state: 'cancelled' });
    }
    const names = this.inFlight().flatMap((t) => (t.operation ? [t.operation] : []));
    try {
      await this.ee.cancelOperations(names);
    } catch (e) {
      // Some finished before the cancel arrived (EE refuses those); polling shows each one's outcome.
      this.log('warn', `cancel: ${(e as Error).message}`);
    }
    this.log('info', `cancelled: ${this.tiles.filter((t) => t.state === 'done').length} tiles were already downloaded; outputs already made are still fetched`);
  }

  // ---- Drive -----------------------------------------------------------------------------------------

  /** Starts syncing exported tiles, up to `downloads` at a time; the work runs beside the main loop. */
  private startSyncs(): boolean {
    const ready = this.index.list(...SYNCING).filter((t) => !this.downloads.has(t.id));
    if (ready.length === 0) return false;
    const listings = new Map<string, Promise<DriveFile[]>>();
    let started = false;
    for (const tile of ready) {
      if (this.downloads.size >= this.job.downloads || this.needsUser) break;
      started = true;
      const work = this.syncTile(tile, listings)
        .catch((e: unknown) => this.syncFailed(tile, e))
        .finally(() => {
          this.downloads.delete(tile.id);
          this.wake?.();
        });
      this.downloads.set(tile.id, work);
    }
    return started;
  }

  private async syncTile(tile: TileRecord, listings: Map<string, Promise<DriveFile[]>>): Promise<void> {
    if (this.job.assetFolder) return this.syncAsset(tile);
    if (tile.state === 'exported') {
      if (!(await this.takeOutputs(tile, listings))) return;
      this.space.listed(tile.id, tile.files.reduce((s, f) => s + f.size, 0));
    }
    for (const file of tile.files) {
      if (file.verified) continue;
      const path = safeOutputPath(this.job.output, file.name);
      // Not `+= await`: that reads the counter before the await and loses concurrent downloads' bytes.
      const transferred = await downloadVerified(file, path, (start) => this.drive.download(file.id, start, this.options.signal), () => crashPoint('mid-download'));
      this.bytesDownloaded += transferred;
      crashPoint('after-rename');
      await this.setFile(tile, file.id, { verified: true });
    }
    if (tile.state !== 'verified') {
      // The grid, not only the bytes: a wrong grid fails the tile and keeps the Drive copy.
      const problem = await checkOutputGrids(this.job.output, tile, this.job.export.skipEmptyTiles === true);
      if (problem) {
        await this.setTile(tile, { state: 'failed', error: `${problem}; the Drive copy is kept` });
        return;
      }
      await this.setTile(tile, { state: 'verified' });
    }
    for (const file of tile.files) {
      if (file.cleaned) continue;
      // Only now, with every byte verified on disk, does anything in Drive get deleted.
      if (this.job.cleanup === 'delete') await this.drive.remove(file.id);
      else if (this.job.cleanup === 'trash') await this.drive.trash(file.id);
      crashPoint('after-cleanup');
      await this.setFile(tile, file.id, { cleaned: true });
    }
    await this.setTile(tile, { state: 'done' });
    this.sizes.learn(tile);
    // Deleted files free their space at once; trashed ones still count (Drive's trash is in `usage`).
    if (this.job.cleanup === 'delete') this.space.deleted(tile.id, tile.files.reduce((s, f) => s + f.size, 0));
    this.online();
  }

  /**
   * An exported tile: which files of its folder are its outputs (docs/ownership.md). True once they are
   * journaled for download; false while Drive has not listed them all yet, or when the tile ended here.
   */
  private async takeOutputs(tile: TileRecord, listings: Map<string, Promise<DriveFile[]>>): Promise<boolean> {
    if (!this.listingWatch.due(tile.id, Date.now())) return false;
    const folder = tile.folderId!;
    // One listing per folder per cycle serves every tile in it.
    let listing = listings.get(folder);
    if (!listing) listings.set(folder, (listing = this.drive.listFolder(folder)));
    const table = this.options.recipe?.kind === 'table';
    const d = this.listingWatch.decide(tile, await listing, {
      job: this.job.name,
      fileDimensions: this.fileDimensions(tile),
      table,
      skipEmptyTiles: this.job.export.skipEmptyTiles === true,
      graceMs: this.scaled(this.job.listingGraceSeconds) * 1000,
      minBackoffMs: this.scaled(this.job.poll.minSeconds) * 1000,
      maxBackoffMs: this.scaled(this.job.poll.maxSeconds) * 1000,
    }, Date.now());
    await this.noteForeign(tile, d.foreign);
    if (d.kind === 'wait') return false;
    if (d.kind === 'fail') {
      await this.setTile(tile, { state: 'failed', error: d.message });
      return false;
    }
    if (d.kind === 'gone') {
      // Adopted, and nothing in Drive: the lost journal's own download, when its grid is the tile's.
      const local = await adoptLocalOutputs(this.job.output, this.job.name, tile, this.job.export.skipEmptyTiles === true);
      if (local && 'files' in local) {
        await this.setTile(tile, { state: 'downloading', files: local.files });
        this.log('info', `${tile.id}: its outputs are gone from Drive; the local ${local.files.map((f) => f.name).join(', ')} ${local.files.length === 1 ? 'has' : 'have'} the tile's grid and ${local.files.length === 1 ? 'is' : 'are'} taken as done`);
        return true;
      }
      if (local && 'problem' in local) {
        await this.setTile(tile, { state: 'failed', error: `${local.problem}; the local file was left as it is` });
        return false;
      }
      if (!d.graceOver) return false;
      this.log('warn', `${tile.id}: the adopted ${tile.operation} left no file in Drive nor locally; exporting the tile again`);
      await this.setTile(tile, { state: 'pending', adopted: false, error: undefined });
      return false;
    }
    const files: FileRecord[] = d.files.map((f) => ({ id: f.id, name: f.name, size: f.size, md5: f.md5, verified: false, cleaned: false }));
    await this.setTile(tile, { state: 'downloading', files });
    return true;
  }

  /** Warns once about each foreign file (never downloaded, never trashed or deleted) and counts it. */
  private async noteForeign(tile: TileRecord, files: readonly DriveFile[]): Promise<void> {
    const fresh = files.filter((f) => !this.foreignSeen.has(f.id));
    if (fresh.length === 0) return;
    for (const f of fresh) {
      this.foreignSeen.add(f.id);
      this.log('warn', `${tile.id}: ${f.name} in Drive (created ${f.createdTime ?? 'at an unknown time'}) is not this run's output: it is older than the task${tile.operationCreateTime ? ` (${tile.operationCreateTime})` : ''}, so it is left untouched`);
    }
    await this.repo.append({ type: 'meta', patch: { foreignFiles: [...this.foreignSeen] } });
  }

  /** A SUCCEEDED operation without destinationUris: its files are looked for in the job's folder, by name. */
  private async jobFolderFor(tile: TileRecord, op: Operation): Promise<string | undefined> {
    this.log('warn', `${tile.id}: ${op.name} succeeded without destinationUris; looking for its files in the Drive folder "${this.job.driveFolder}"`);
    return this.repo.state.meta.driveFolderId ?? this.driver.folderId ?? (await this.drive.findFolder?.(this.job.driveFolder));
  }

  // ---- Earth Engine assets (asset jobs) -----------------------------------------------------------------

  /** `{folder}/{job}_{tileId}`: the asset a tile of an asset job exports to. */
  private assetName(tile: TileRecord): string {
    return `${this.job.assetFolder!}/${filePrefix(this.job.name, tile.id)}`;
  }

  private assetPort(): Required<Pick<EarthEnginePort, 'getAsset' | 'createAsset'>> {
    const { getAsset, createAsset } = this.ee;
    if (!getAsset || !createAsset) throw new Error('this Earth Engine connection cannot manage assets');
    return { getAsset: getAsset.bind(this.ee), createAsset: createAsset.bind(this.ee) };
  }

  /**
   * The job's asset folder, created when missing (parents as folders): an image collection for image
   * jobs, a folder for table jobs (EE keeps tables out of image collections).
   */
  private async ensureAssetFolder(folder: string): Promise<void> {
    const ee = this.assetPort();
    const existing = await ee.getAsset(folder);
    if (!existing) {
      const root = /^projects\/[^/]+\/assets/.exec(folder)![0];
      const parts = folder.slice(root.length + 1).split('/');
      for (let i = 1; i < parts.length; i++) {
        const parent = `${root}/${parts.slice(0, i).join('/')}`;
        if (!(await ee.getAsset(parent))) await ee.createAsset(parent, 'FOLDER');
      }
      const type = this.options.recipe?.kind === 'table' ? 'FOLDER' : 'IMAGE_COLLECTION';
      try {
        await ee.createAsset(folder, type);
        this.log('info', `created the ${type === 'FOLDER' ? 'asset folder' : 'image collection'} ${folder}`);
      } catch (e) {
        // Another run created it meanwhile: fine.
        if (!(e instanceof EarthEngineError && ASSET_EXISTS.test(e.message))) throw e;
      }
    } else if (existing.type !== 'FOLDER' && existing.type !== 'IMAGE_COLLECTION') {
      throw new UserError(`the asset destination ${folder} is a ${existing.type}, not a folder or image collection; nothing was submitted`);
    }
    this.assetFolderReady = true;
  }

  /** An exported tile of an asset job is done once its asset exists in EE with the right type. */
  private async syncAsset(tile: TileRecord): Promise<void> {
    const name = this.assetName(tile);
    const asset = await this.assetPort().getAsset(name);
    const want = this.options.recipe?.kind === 'table' ? 'TABLE' : 'IMAGE';
    if (!asset) {
      this.log('warn', `${tile.id}: the task succeeded but ${name} is not in Earth Engine yet; looking again next cycle`);
      return;
    }
    if (asset.type !== want) {
      await this.setTile(tile, { state: 'failed', error: `${name} exists but is a ${asset.type}, not a ${want}` });
      return;
    }
    if (tile.state !== 'verified') await this.setTile(tile, { state: 'verified' });
    await this.setTile(tile, { state: 'done' });
    this.online();
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

  /**
   * The quota gate. Drive's `about` is read once, then the job's own outputs and deletes are counted
   * locally (drive-space.ts); it is read again, fresh, only before the gate closes: a wrong "no" costs a
   * stall, a wrong "yes" costs a failed task.
   */
  private async driveHasRoomFor(inFlightBytes: number, bytes: number): Promise<boolean> {
    if (this.job.assetFolder) return true; // no Drive involved
    const room = await this.space.hasRoom(inFlightBytes, bytes, this.job.driveReserveBytes);
    this.emitQuota(this.space.projected());
    return room;
  }

  /**
   * The asset-count gate (asset jobs): the project's asset quota is read at most every poll.maxSeconds;
   * between reads, the exports sent since count as assets already made (conservative: a wrong "no"
   * costs a stall, a wrong "yes" a failed task), and the quota is read once more, fresh, before the gate
   * closes. A job whose own assets (every tile plus the merge's outputs) exceed the limit can never fit:
   * the run stops (exit 3) naming the limit.
   */
  private async assetRoomForOneMore(): Promise<boolean> {
    if (!this.job.assetFolder || !this.ee.assetQuota) return true;
    const fits = (): boolean => {
      const q = this.assetQuota!;
      if (q.maxAssets <= 0) return true; // no limit reported
      return q.assetCount + q.inFlightAtRead + q.sentSince + 1 <= q.maxAssets;
    };
    await this.readAssetQuota(this.scaled(this.job.poll.maxSeconds) * 1000);
    const q = this.assetQuota!;
    const tiles = this.index.count('pending') + this.index.count('retrying') + this.inFlight().length + this.index.count('exported') + this.index.count('verified') + this.index.count('done');
    const extra = this.extraAssets(tiles);
    const needed = tiles + extra;
    if (q.maxAssets > 0 && needed > q.maxAssets) {
      this.stopFor('asset-quota', `the project's asset quota allows ${q.maxAssets} assets, but this job alone needs ${needed} (${tiles} tile assets${extra ? ` and ${extra} made by the merge` : ''}); raise the quota, use a larger tilePixels, or split the job`);
      return false;
    }
    if (fits()) return true;
    await this.readAssetQuota(this.scaled(this.job.poll.minSeconds) * 1000);
    return fits();
  }

  private async readAssetQuota(maxAgeMs: number): Promise<void> {
    if (this.assetQuota && Date.now() - this.assetQuota.at <= maxAgeMs) return;
    const q = await this.ee.assetQuota!(this.job.assetFolder!);
    // Exports in flight have not made their asset yet: they will.
    const inFlight = this.inFlight().length + this.index.count('exported');
    this.assetQuota = { ...q, at: Date.now(), inFlightAtRead: inFlight, sentSince: 0 };
  }

  /** The gauge: Drive is read when the reading is missing or old; otherwise the projection is shown. */
  private async refreshQuota(): Promise<void> {
    if (this.job.assetFolder) return;
    this.emitQuota(await this.space.current());
  }

  private emitQuota(q: DriveQuota | undefined): void {
    if (!q) return;
    const key = `${q.limit} ${q.usage} ${q.usageInDrive} ${q.usageInDriveTrash}`;
    if (key === this.lastQuotaEvent) return;
    this.lastQuotaEvent = key;
    const event: Quota = { ...q, at: new Date().toISOString() };
    this.emit({ type: 'quota', job: this.job.name, quota: event });
  }

  // ---- waiting, failing calmly ---------------------------------------------------------------------

  /** Runs one step; network, sign-in and Earth Engine hiccups become waiting states, never crashes. */
  private async guard<T>(step: () => Promise<T>): Promise<T | false> {
    try {
      return await step();
    } catch (e) {
      if (this.options.signal?.aborted) return false; // stopped on purpose (Ctrl-C): not a failure to report
      if (e instanceof UserError && e.exitCode === 3) this.stopFor(isSignedOut(e) ? 'signed-out' : 'paused', e.message);
      else if (isSignedOut(e)) this.stopFor('signed-out', 'signed out: Google no longer accepts the stored sign-in; sign in again');
      else if (isOffline(e)) this.offline(e);
      else if (e instanceof EarthEngineError || isHttpError(e)) {
        this.log('warn', `${(e as Error).message}; trying again next cycle`);
        this.backoff(this.job.poll.minSeconds);
      } else throw e;
      return false;
    }
  }

  private offline(e: unknown): void {
    this.offlineStreak++;
    this.setWaiting('offline');
    // Bounded: from poll.minSeconds doubling up to poll.maxSeconds; no tile loses an attempt meanwhile.
    this.backoff(Math.min(this.job.poll.maxSeconds, this.job.poll.minSeconds * 2 ** Math.min(10, this.offlineStreak - 1)));
    if (this.offlineStreak === 1) this.log('warn', `offline: ${(e as Error).message}; waiting`);
  }

  private online(): void {
    if (this.offlineStreak === 0) return;
    this.offlineStreak = 0;
    if (this.waiting === 'offline') this.setWaiting(null);
    this.log('info', 'back online');
  }

  private stopFor(reason: WaitingReason, message: string): void {
    if (this.needsUser) return;
    this.needsUser = { reason, message };
    this.setWaiting(reason);
    this.log('error', message);
    this.wake?.();
  }

  /** A quota or budget wait that nothing running can end needs the user (exit 3 in the CLI). */
  private checkStuck(): void {
    if (this.waiting !== 'quota' && this.waiting !== 'budget') return;
    if (this.inFlight().length > 0 || this.downloads.size > 0 || SYNCING.some((s) => this.index.count(s) > 0)) return;
    if (this.waiting === 'budget') {
      this.stopFor('budget', `the EECU budget of ${this.job.eecuBudgetHours} h would be exceeded by the next tile; raise eecuBudgetHours to go on`);
    } else {
      this.stopFor('quota', `Drive has no room for the next tile's output (keeping ${this.job.driveReserveBytes} bytes free); free space in Drive and run again`);
    }
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
      if (patch.state === 'done') this.recentDone = [...this.recentDone.slice(-49), Date.now()];
      this.emit({ type: 'tile-state', job: this.job.name, tile: tile.id, state: patch.state, attempt: tile.attempt, message: patch.error, at: new Date().toISOString() });
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

  private backoff(seconds: number): void {
    this.backoffUntil = Math.max(this.backoffUntil, Date.now() + this.scaled(seconds) * 1000);
  }

  private finished(): boolean {
    return this.downloads.size === 0 && TILE_STATES.every((s) => FINAL_TILE_STATES.includes(s) || this.index.count(s) === 0);
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

  /** Real seconds until the next read of operations is due (poll-policy.ts); never below poll.minSeconds. */
  private untilNextPoll(): number {
    const ops: WatchedOperation[] = [];
    for (const t of this.index.in('queued', 'running')) if (t.operation) ops.push(watchedOperation(t));
    return Math.max(this.scaled(this.job.poll.minSeconds), (this.polls.nextPollAt(ops, this.moreToSend()) - Date.now()) / 1000);
  }

  private scaled(seconds: number): number {
    return seconds / Math.max(1, this.options.timeScale ?? 1);
  }

  private sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.options.signal?.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(10, seconds * 1000));
      this.options.signal?.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  private emit(e: EngineEvent): void {
    this.options.onEvent?.(e);
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    // Google's raw JSON bodies and operation names become one readable line naming tiles (warnings.ts).
    if (level === 'warn' || level === 'error') message = readableWarning(message, (op) => this.index.list(...IN_FLIGHT).find((t) => t.operation === op)?.id);
    this.emit({ type: 'log', job: this.job.name, level, message, at: new Date().toISOString() });
  }
}

function isHttpError(e: unknown): boolean {
  const status = (e as { response?: { status?: number }; status?: number }).response?.status ?? (e as { status?: number }).status;
  return typeof status === 'number' || /ECONNRESET|socket hang up|aborted|premature close/i.test(e instanceof Error ? e.message : '');
}

/** A tile in flight as the poll policy sees it: its operation, state and (queued) when it was sent. */
function watchedOperation(t: TileRecord): WatchedOperation {
  if (t.state === 'running') return { name: t.operation!, state: 'running' };
  const sent = t.history.findLast((h) => h.state === 'queued');
  return { name: t.operation!, state: 'queued', since: sent ? Date.parse(sent.at) : undefined };
}

/** How long a tile's running task has run by the journal (its last running entry to now), in ms. */
function journaledRun(t: TileRecord): number | undefined {
  const ran = t.history.findLast((h) => h.state === 'running');
  return ran ? Date.now() - Date.parse(ran.at) : undefined;
}

/** How long a tile's last task ran (journaled running → exported), in ms. */
function runDuration(t: TileRecord): number | undefined {
  const ran = t.history.findLast((h) => h.state === 'running');
  const ended = t.history.findLast((h) => h.state === 'exported');
  return ran && ended ? Date.parse(ended.at) - Date.parse(ran.at) : undefined;
}
