import { randomUUID } from 'node:crypto';
import { access, constants, mkdir } from 'node:fs/promises';
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
import { filePrefix, outputPattern, safeOutputPath, taskDescription } from '../sync/names';
import { crashPoint } from './crash-points';
import { budgetAllows, driveHasRoom, OutputSizeEstimate } from './estimates';
import { classifyTaskFailure, isOffline, isSignedOut, localDiskProblem, retryDelaySeconds } from './failures';
import { pace, summarizeTiles } from './progress';
import { TileIndex } from './tile-index';
import { expectedFileCount, fileDimensionsFor, fileHash, planTiles, roiContentHash, roiInExportCrs } from './plan';

/** What the runner needs from Earth Engine (the real adapter over the unmodified client). */
export interface EarthEnginePort {
  exportImage(x: ImageExport): Promise<string>;
  /** Table exports (point recipes, recipes returning a FeatureCollection). */
  exportTable?(x: TableExport): Promise<string>;
  getOperations(names: string[]): Promise<Map<string, Operation>>;
  listOperations(): Promise<Operation[]>;
  cancelOperations(names: string[]): Promise<void>;
  /** Asset jobs: an asset or null, and creating the job's folder or image collection. */
  getAsset?(name: string): Promise<EeAsset | null>;
  createAsset?(name: string, type: 'FOLDER' | 'IMAGE_COLLECTION'): Promise<void>;
  /** Asset jobs: the project's asset quota (the asset-count gate). */
  assetQuota?(name: string): Promise<AssetQuota>;
}

export interface DrivePort {
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
  /** Tiles whose Drive listing showed fewer files than expected once (skipEmptyTiles). */
  private readonly shortListings = new Set<string>();
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
  private quota: (DriveQuota & { at: number }) | undefined;
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
  private recentDurations: number[] = [];

  constructor(
    private readonly job: Job,
    private readonly repo: JobRepository,
    private readonly ee: EarthEnginePort,
    private readonly drive: DrivePort,
    private readonly options: RunOptions,
  ) {
    this.intervalSeconds = job.poll.minSeconds;
    this.shardSize = job.export.shardSize ?? 256;
    this.fileDimensions = (t) => fileDimensionsFor(t.dimensions, this.shardSize, job.export.fileDimensions);
    this.sizes = new OutputSizeEstimate(options.bytesPerPixel);
    // Built again by run() after planning; here so progress() and command() work before run() (the host).
    this.index = new TileIndex(repo.state.tiles);
    this.extraAssets = options.mergeAssets ?? (() => 0);
  }

  private get tiles(): TileRecord[] {
    return Object.values(this.repo.state.tiles);
  }

  async run(): Promise<RunOutcome> {
    await this.plan();
    await this.prepareOutput();
    this.index = new TileIndex(this.repo.state.tiles);
    this.seedTotals();
    // Running the job again is the user's answer to whatever stopped it: start without a waiting reason.
    if (this.repo.state.meta.waiting) await this.repo.append({ type: 'meta', patch: { waiting: null } });
    await this.guard(() => this.reconcile());
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
      await this.guard(() => this.refreshQuota(this.scaled(this.job.poll.maxSeconds) * 1000)); // the gauge
      this.emit({ type: 'job-progress', progress: this.progress() });
      this.options.onCycle?.(cycle);
      if (this.finished() || this.needsUser) break;
      this.checkStuck();
      if (this.needsUser) break;
      this.intervalSeconds = changed ? this.job.poll.minSeconds : Math.min(this.job.poll.maxSeconds, this.intervalSeconds * 1.5);
      const backoff = Math.max(0, (this.backoffUntil - Date.now()) / 1000);
      await this.sleep(Math.max(Math.min(this.scaled(this.intervalSeconds), this.untilNextDue()), Math.min(backoff, this.scaled(this.job.poll.maxSeconds))));
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
        for (const id of cmd.tiles) {
          const t = this.repo.state.tiles[id];
          if (t && (t.state === 'failed' || t.state === 'cancelled' || t.state === 'skipped')) {
            await this.setTile(t, { state: 'pending', retriesUsed: 0, error: undefined, notBefore: undefined });
          }
        }
        break;
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
      if (duration !== undefined && this.recentDurations.length < 20) this.recentDurations.push(duration);
    }
    this.recentDone = summarizeTiles(this.tiles).recentDone;
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
      await mkdir(this.job.output, { recursive: true });
      await access(this.job.output, constants.W_OK);
    } catch (e) {
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
    if (force) await this.poll();
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
      maxPixels: this.job.export.maxPixels ?? Math.max(1e8, w * h),
      priority: this.job.export.priority,
      image: built ? built.make : this.options.image!,
      noData: this.job.export.noData,
      cloudOptimized: this.job.export.cloudOptimized,
      skipEmptyTiles: this.job.export.skipEmptyTiles,
      ...(this.job.assetFolder ? { assetId: this.assetName(tile) } : {}),
    };
    return this.sendExport(tile, () => this.ee.exportImage(exportParams));
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

  private async poll(): Promise<boolean> {
    const watched = this.index.list('queued', 'running').filter((t) => t.operation);
    let changed = false;
    for (let k = 0; k < watched.length; k += POLL_BATCH) {
      const chunk = watched.slice(k, k + POLL_BATCH);
      const ops = await this.ee.getOperations(chunk.map((t) => t.operation!));
      this.online();
      for (const tile of chunk) {
        const op = ops.get(tile.operation!);
        if (op) changed = (await this.observe(tile, op)) || changed;
      }
    }
    return changed;
  }

  private async observe(tile: TileRecord, op: Operation): Promise<boolean> {
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
        const folderId = driveFolderId(op);
        if (!folderId) {
          await this.setTile(tile, { state: 'failed', error: `operation ${op.name} succeeded without a Drive folder in destinationUris` });
          return true;
        }
        await this.setTile(tile, { state: 'exported', folderId, eecuSeconds: op.metadata?.batchEecuUsageSeconds ?? 0 });
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
      this.quota = undefined;
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
      const folder = tile.folderId!;
      // One listing per folder per cycle serves every tile in it.
      let listing = listings.get(folder);
      if (!listing) listings.set(folder, (listing = this.drive.listFolder(folder)));
      const pattern = outputPattern(this.job.name, tile.id);
      const found = (await listing).filter((f) => pattern.test(f.name));
      const expected = this.options.recipe?.kind === 'table' || found.some((f) => !f.name.endsWith('.tif')) ? 1 : expectedFileCount(tile.dimensions, this.fileDimensions(tile));
      if (found.length < expected) {
        // With skipEmptyTiles EE writes no file for an empty part (possibly none at all): after a second
        // listing that still shows fewer files, what is there is the output.
        if (!this.job.export.skipEmptyTiles || !this.shortListings.has(tile.id)) {
          if (this.job.export.skipEmptyTiles) this.shortListings.add(tile.id);
          return; // Drive lists new files with a delay: look again next cycle
        }
      }
      this.shortListings.delete(tile.id);
      const files: FileRecord[] = found.map((f) => ({ id: f.id, name: f.name, size: f.size, md5: f.md5, verified: false, cleaned: false }));
      await this.setTile(tile, { state: 'downloading', files });
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
    if (tile.state !== 'verified') await this.setTile(tile, { state: 'verified' });
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
    if (this.quota && this.job.cleanup === 'delete') this.quota.usage -= tile.files.reduce((s, f) => s + f.size, 0);
    this.online();
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
   * The quota gate. Drive is read at most every poll.maxSeconds (deletes are subtracted locally in
   * between), and once more, fresh, before the gate closes: a wrong "no" costs a stall, a wrong "yes"
   * costs a failed task.
   */
  private async driveHasRoomFor(inFlightBytes: number, bytes: number): Promise<boolean> {
    if (this.job.assetFolder) return true; // no Drive involved
    await this.refreshQuota(this.scaled(this.job.poll.maxSeconds) * 1000);
    const room = (q: DriveQuota) => driveHasRoom(q.limit, q.usage, inFlightBytes, bytes, this.job.driveReserveBytes);
    if (!this.quota || room(this.quota)) return true;
    await this.refreshQuota(this.scaled(this.job.poll.minSeconds) * 1000);
    return room(this.quota);
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

  private async refreshQuota(maxAgeMs: number): Promise<void> {
    if (this.job.assetFolder) return;
    if (this.quota && Date.now() - this.quota.at <= maxAgeMs) return;
    const q = await this.drive.quota();
    this.quota = { ...q, at: Date.now() };
    const event: Quota = { ...q, at: new Date().toISOString() };
    this.emit({ type: 'quota', job: this.job.name, quota: event });
  }

  // ---- waiting, failing calmly ---------------------------------------------------------------------

  /** Runs one step; network, sign-in and Earth Engine hiccups become waiting states, never crashes. */
  private async guard<T>(step: () => Promise<T>): Promise<T | false> {
    try {
      return await step();
    } catch (e) {
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
      if (patch.state === 'exported') {
        const d = runDuration(tile);
        if (d !== undefined) this.recentDurations = [...this.recentDurations.slice(-19), d];
      }
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
    const { throughputPerHour, etaSeconds } = pace(this.recentDone, total - (tiles.done ?? 0) - (tiles.failed ?? 0) - (tiles.skipped ?? 0) - (tiles.cancelled ?? 0));
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
    };
  }

  /**
   * Real seconds until the soonest running task should end, judged by how long earlier tiles ran (from
   * their journaled running → exported times); never below poll.minSeconds. Infinity when unknown.
   */
  private untilNextDue(): number {
    if (this.recentDurations.length === 0) return Infinity;
    const typical = [...this.recentDurations].sort((a, b) => a - b)[Math.floor(this.recentDurations.length / 2)]!;
    let soonest = Infinity;
    for (const t of this.index.in('running')) {
      const since = t.history.findLast((h) => h.state === 'running');
      if (since) soonest = Math.min(soonest, Date.parse(since.at) + typical);
    }
    return Math.max(this.scaled(this.job.poll.minSeconds), (soonest - Date.now()) / 1000);
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
    this.emit({ type: 'log', job: this.job.name, level, message, at: new Date().toISOString() });
  }
}

function isHttpError(e: unknown): boolean {
  const status = (e as { response?: { status?: number }; status?: number }).response?.status ?? (e as { status?: number }).status;
  return typeof status === 'number' || /ECONNRESET|socket hang up|aborted|premature close/i.test(e instanceof Error ? e.message : '');
}

/** How long a tile's last task ran (journaled running → exported), in ms. */
function runDuration(t: TileRecord): number | undefined {
  const ran = t.history.findLast((h) => h.state === 'running');
  const ended = t.history.findLast((h) => h.state === 'exported');
  return ran && ended ? Date.parse(ended.at) - Date.parse(ran.at) : undefined;
}
