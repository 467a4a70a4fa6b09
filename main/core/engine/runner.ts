import { randomUUID } from 'node:crypto';
import { access, constants, mkdir } from 'node:fs/promises';
import { FINAL_TILE_STATES, TILE_STATES, type EngineEvent, type JobProgress, type TileCounts, type TileState, type WaitingReason } from '../../../shared/contract';
import { UserError } from '../errors';
import { QUEUE_FULL, driveFolderId, EarthEngineError, type ImageExport, type Operation } from '../google/earthengine';
import type { DriveFile, DriveQuota } from '../google/drive';
import type { Job } from '../job/job-file';
import type { JobRepository } from '../job/repository';
import type { FileRecord, TilePatch, TileRecord } from '../job/state';
import { downloadVerified } from '../sync/download';
import { filePrefix, outputPattern, safeOutputPath, taskDescription } from '../sync/names';
import type { Readable } from 'node:stream';
import { expectedFileCount, fileDimensionsFor, planTiles } from './plan';
import { crashPoint } from './crash-points';

/** What the runner needs from Earth Engine (the real adapter, or a test double). */
export interface EarthEnginePort {
  exportImage(x: ImageExport): Promise<string>;
  getOperations(names: string[]): Promise<Map<string, Operation>>;
  listOperations(): Promise<Operation[]>;
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
  /** The image each tile exports (until recipes land, the built-in one). */
  image: ImageExport['image'];
}

export interface RunOutcome {
  exitCode: 0 | 2 | 3 | 130;
  progress: JobProgress;
  failed: { id: string; error: string }[];
}

const IN_FLIGHT: readonly TileState[] = ['submitting', 'queued', 'running'];
const SYNCING: readonly TileState[] = ['exported', 'downloading', 'verified'];
/** At most this many operations per batched getOperation request. */
const POLL_BATCH = 100;

/**
 * Drives one job to its end: keeps up to `maxInFlight` tasks in Earth Engine, polls them with one batched
 * request per cycle, and moves every output from Drive to the output folder (verified) before cleaning
 * Drive. Every step is journaled before it is taken, so a restart after a crash at any point continues
 * without losing or duplicating anything.
 */
export class JobRunner {
  private readonly downloads = new Map<string, Promise<void>>();
  private wake: (() => void) | undefined;
  private intervalSeconds: number;
  private lastPoll = 0;
  private waiting: WaitingReason | null = null;
  private bytesDownloaded = 0;
  private readonly doneTimes: number[] = [];
  private readonly fileDimensions: (t: TileRecord) => number;
  private readonly shardSize: number;
  private backoffUntil = 0;

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
  }

  private get tiles(): TileRecord[] {
    return Object.values(this.repo.state.tiles);
  }

  async run(): Promise<RunOutcome> {
    await this.plan();
    await this.prepareOutput();
    await this.reconcile();
    const signal = this.options.signal;
    for (let cycle = 0; !signal?.aborted; cycle++) {
      let changed = await this.submit();
      if (Date.now() - this.lastPoll >= this.scaled(this.intervalSeconds) * 0.9 || cycle === 0) {
        changed = (await this.poll()) || changed;
        this.lastPoll = Date.now();
      }
      changed = (await this.startSyncs()) || changed;
      if (cycle % 20 === 0) await this.readQuota();
      this.emit({ type: 'job-progress', progress: this.progress() });
      if (this.finished()) break;
      this.intervalSeconds = changed ? this.job.poll.minSeconds : Math.min(this.job.poll.maxSeconds, this.intervalSeconds * 1.5);
      await this.sleep(Math.min(this.scaled(this.intervalSeconds), this.untilNextDue()));
    }
    await Promise.allSettled(this.downloads.values());
    const progress = this.progress();
    this.emit({ type: 'job-progress', progress });
    const failed = this.tiles.filter((t) => t.state === 'failed').map((t) => ({ id: t.id, error: t.error ?? 'failed' }));
    const exitCode = signal?.aborted ? 130 : failed.length ? 2 : 0;
    return { exitCode, progress, failed };
  }

  // ---- planning and start-up -------------------------------------------------------------------------

  private async plan(): Promise<void> {
    if (this.repo.state.meta.planned) return;
    const { tiles, warnings } = await planTiles(this.job);
    for (const w of warnings) this.log('warn', w);
    if (tiles.length === 0) throw new UserError('the ROI covers no tile with positive area');
    await this.repo.append({ type: 'plan', tiles });
    this.log('info', `planned ${tiles.length} tiles`);
  }

  private async prepareOutput(): Promise<void> {
    try {
      await mkdir(this.job.output, { recursive: true });
      await access(this.job.output, constants.W_OK);
    } catch (e) {
      throw new UserError(`the output folder ${this.job.output} cannot be written (${(e as Error).message})`, 3);
    }
  }

  /** After a crash: adopt operations that were sent but not recorded, found by their description. */
  private async reconcile(): Promise<void> {
    const unsure = this.tiles.filter((t) => t.state === 'submitting');
    if (unsure.length === 0) return;
    const ops = await this.ee.listOperations();
    const byDescription = new Map(ops.map((op) => [op.metadata?.description, op]));
    for (const tile of unsure) {
      const op = byDescription.get(tile.description);
      if (op) {
        await this.setTile(tile, { state: 'queued', operation: op.name });
        this.log('info', `${tile.id}: adopted ${op.name} sent before a restart`);
      }
    }
  }

  // ---- Earth Engine ----------------------------------------------------------------------------------

  private inFlight(): number {
    return this.tiles.filter((t) => IN_FLIGHT.includes(t.state)).length;
  }

  private async submit(): Promise<boolean> {
    if (Date.now() < this.backoffUntil) return false;
    let changed = false;
    // Tiles whose export may or may not have reached EE are re-sent first, with the same requestId.
    for (const tile of this.tiles.filter((t) => t.state === 'submitting')) {
      if (!(await this.send(tile))) return true;
      changed = true;
    }
    let room = this.job.maxInFlight - this.inFlight();
    for (const tile of this.tiles) {
      if (room <= 0 || this.options.signal?.aborted) break;
      if (tile.state !== 'pending') continue;
      const attempt = tile.attempt + 1;
      // Journal first: after a crash the engine finds this attempt by its description or re-sends it.
      await this.setTile(tile, { state: 'submitting', attempt, requestId: randomUUID(), description: taskDescription(this.job.name, tile.id, attempt) });
      room--;
      changed = true;
      if (!(await this.send(tile))) break;
    }
    if (changed && this.waiting === 'queue-full') this.setWaiting(null);
    return changed;
  }

  /** Sends the tile's export; false when EE cannot take more now (the caller stops submitting). */
  private async send(tile: TileRecord): Promise<boolean> {
    const [w, h] = tile.dimensions;
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
      image: this.options.image,
    };
    try {
      crashPoint('before-export');
      const name = await this.ee.exportImage(exportParams);
      crashPoint('after-export');
      await this.setTile(tile, { state: 'queued', operation: name });
      return true;
    } catch (e) {
      if (!(e instanceof EarthEngineError)) throw e;
      if (QUEUE_FULL.test(e.message)) {
        this.setWaiting('queue-full');
        this.backoff(this.job.poll.maxSeconds);
        return false;
      }
      if (e.transient) {
        this.log('warn', `${tile.id}: export not confirmed (${e.message}); it is re-sent with the same requestId`);
        this.backoff(this.job.poll.minSeconds);
        return false;
      }
      await this.setTile(tile, { state: 'failed', error: e.message });
      return true;
    }
  }

  private async poll(): Promise<boolean> {
    const watched = this.tiles.filter((t) => (t.state === 'queued' || t.state === 'running') && t.operation);
    let changed = false;
    for (let k = 0; k < watched.length; k += POLL_BATCH) {
      const chunk = watched.slice(k, k + POLL_BATCH);
      let ops: Map<string, Operation>;
      try {
        ops = await this.ee.getOperations(chunk.map((t) => t.operation!));
      } catch (e) {
        if (e instanceof EarthEngineError && e.transient) {
          this.log('warn', `polling Earth Engine failed (${e.message}); trying again next cycle`);
          return changed;
        }
        throw e;
      }
      for (const tile of chunk) {
        const op = ops.get(tile.operation!);
        if (op) changed = (await this.observe(tile, op)) || changed;
      }
    }
    return changed;
  }

  private async observe(tile: TileRecord, op: Operation): Promise<boolean> {
    const state = op.metadata?.state;
    switch (state) {
      case 'PENDING':
        return false;
      case 'RUNNING':
      case 'CANCELLING':
        if (tile.state === 'running') return false;
        await this.setTile(tile, { state: 'running' });
        return true;
      case 'SUCCEEDED': {
        const folderId = driveFolderId(op);
        if (!folderId) {
          await this.setTile(tile, { state: 'failed', error: `operation ${op.name} succeeded without a Drive folder in destinationUris` });
          return true;
        }
        await this.setTile(tile, { state: 'exported', folderId, eecuSeconds: op.metadata?.batchEecuUsageSeconds ?? 0 });
        return true;
      }
      case 'FAILED':
        await this.setTile(tile, { state: 'failed', error: op.error?.message ?? 'failed without a message' });
        return true;
      case 'CANCELLED':
        await this.setTile(tile, { state: 'cancelled', error: op.error?.message });
        return true;
      default:
        return false;
    }
  }

  // ---- Drive -----------------------------------------------------------------------------------------

  /** Starts syncing exported tiles, up to `downloads` at a time; the work runs beside the main loop. */
  private async startSyncs(): Promise<boolean> {
    const ready = this.tiles.filter((t) => SYNCING.includes(t.state) && !this.downloads.has(t.id));
    if (ready.length === 0) return false;
    const listings = new Map<string, Promise<DriveFile[]>>();
    let started = false;
    for (const tile of ready) {
      if (this.downloads.size >= this.job.downloads) break;
      started = true;
      const work = this.syncTile(tile, listings)
        .catch((e: unknown) => this.log('warn', `${tile.id}: ${(e as Error).message}; trying again next cycle`))
        .finally(() => {
          this.downloads.delete(tile.id);
          this.wake?.();
        });
      this.downloads.set(tile.id, work);
    }
    return started;
  }

  private async syncTile(tile: TileRecord, listings: Map<string, Promise<DriveFile[]>>): Promise<void> {
    if (tile.state === 'exported') {
      const folder = tile.folderId!;
      // One listing per folder per cycle serves every tile in it.
      let listing = listings.get(folder);
      if (!listing) listings.set(folder, (listing = this.drive.listFolder(folder)));
      const pattern = outputPattern(this.job.name, tile.id);
      const found = (await listing).filter((f) => pattern.test(f.name));
      const expected = expectedFileCount(tile.dimensions, this.fileDimensions(tile));
      if (found.length < expected) return; // Drive lists new files with a delay: look again next cycle
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
    this.doneTimes.push(Date.now());
  }

  private async readQuota(): Promise<void> {
    try {
      const q = await this.drive.quota();
      this.emit({ type: 'quota', job: this.job.name, quota: { ...q, at: new Date().toISOString() } });
    } catch (e) {
      this.log('warn', `reading the Drive quota failed (${(e as Error).message})`);
    }
  }

  // ---- state, events, timing -------------------------------------------------------------------------

  private async setTile(tile: TileRecord, patch: TilePatch): Promise<void> {
    await this.repo.append({ type: 'tile', id: tile.id, patch });
    if (patch.state) {
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
    this.backoffUntil = Date.now() + this.scaled(seconds) * 1000;
  }

  private finished(): boolean {
    return this.tiles.every((t) => FINAL_TILE_STATES.includes(t.state)) && this.downloads.size === 0;
  }

  progress(): JobProgress {
    const tiles = Object.fromEntries(TILE_STATES.map((s) => [s, 0])) as TileCounts;
    for (const t of this.tiles) tiles[t.state] = (tiles[t.state] ?? 0) + 1;
    const total = this.tiles.length;
    const recent = this.doneTimes.slice(-50);
    const spanHours = recent.length >= 2 ? (recent[recent.length - 1]! - recent[0]!) / 3_600_000 : 0;
    const throughput = spanHours > 0 ? (recent.length - 1) / spanHours : null;
    const left = total - (tiles.done ?? 0) - (tiles.failed ?? 0) - (tiles.skipped ?? 0) - (tiles.cancelled ?? 0) - (tiles.split ?? 0);
    return {
      job: this.job.name,
      total,
      tiles,
      queued: (tiles.queued ?? 0) + (tiles.submitting ?? 0),
      running: tiles.running ?? 0,
      waiting: this.waiting,
      throughputPerHour: throughput,
      etaSeconds: throughput ? (left / throughput) * 3600 : null,
      bytesDownloaded: this.bytesDownloaded,
      finished: this.finished(),
    };
  }

  /**
   * Real seconds until the soonest running task should end, judged by how long earlier tiles ran (from
   * their journaled running → exported times); never below poll.minSeconds. Infinity when unknown.
   */
  private untilNextDue(): number {
    const durations: number[] = [];
    for (const t of this.tiles) {
      if (durations.length >= 20) break;
      const ran = t.history.findLast((h) => h.state === 'running');
      const ended = t.history.findLast((h) => h.state === 'exported');
      if (ran && ended) durations.push(Date.parse(ended.at) - Date.parse(ran.at));
    }
    if (durations.length === 0) return Infinity;
    const typical = durations.sort((a, b) => a - b)[Math.floor(durations.length / 2)]!;
    let soonest = Infinity;
    for (const t of this.tiles) {
      if (t.state !== 'running') continue;
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
