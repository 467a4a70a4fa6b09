import { EarthEngineError, QUEUE_FULL, type ImageExport, type Operation, type TableExport } from '../google/earthengine';
import type { Job } from '../job/job-file';
import { maxPixelsSent } from '../../../shared/estimate';
import type { ExportTarget, UnitRecord } from '../destination/port';
import { crashPoint } from '../engine/crash-points';
import { isOffline } from '../engine/failures';
import { PollPolicy, eeMillis, type PollPlan, type WatchedOperation } from '../engine/poll-policy';
import { clippedImage, roiPartInTile } from '../engine/roi-mask';
import { roiInExportCrs } from '../engine/plan';
import type { MultiPolygon } from '../geo/geometry';
import type { Producer, ProducerContext } from './port';
import { buildRecipeFor, type BuiltRecipe } from './recipe-build';

/** At most this many operations per batched getOperation request. */
const POLL_BATCH = 100;

/**
 * Batch export (today's only producer): each unit is one Earth Engine export task, sent with the journaled
 * requestId (a re-send after a crash cannot start a second task), read with one batched request per due
 * poll (poll-policy.ts), and its outputs collected at the job's Destination once the task SUCCEEDED.
 */
export function batchExportProducer(ctx: ProducerContext): Producer {
  return new BatchExportProducer(ctx);
}

class BatchExportProducer implements Producer {
  readonly mode = 'export';
  /** When to read which operations (poll-policy.ts). */
  private readonly polls: PollPolicy;
  private roi: Promise<MultiPolygon> | undefined;

  constructor(private readonly ctx: ProducerContext) {
    const { job } = ctx;
    this.polls = new PollPolicy({ minIntervalMs: ctx.scaledMs(job.poll.minSeconds), maxIntervalMs: ctx.scaledMs(job.poll.maxSeconds) });
  }

  seed(unit: UnitRecord): void {
    const duration = runDuration(unit);
    if (duration !== undefined) this.polls.learnRunTime(duration);
    const since = unit.state === 'running' && unit.operation ? unit.history.findLast((h) => h.state === 'running') : undefined;
    if (since) this.polls.running(unit.operation!, Date.parse(since.at));
  }

  /**
   * Adopts operations that were sent but not recorded (found by description), then (`all`) polls
   * everything in flight.
   */
  async reconcile(all: boolean): Promise<void> {
    const unsure = this.ctx.units('submitting');
    if (unsure.length > 0) {
      const ops = await this.ctx.ee.listOperations();
      const byDescription = new Map(ops.map((op) => [op.metadata?.description, op]));
      for (const unit of unsure) {
        const op = byDescription.get(unit.description);
        if (op) {
          await this.ctx.setUnit(unit, { state: 'queued', operation: op.name });
          this.ctx.log('info', `${unit.id}: adopted ${op.name}, sent before a restart`);
        }
      }
    }
    if (all) await this.poll(true);
  }

  /** Sends the unit's export; false when EE cannot take more now (the caller stops submitting). */
  async send(unit: UnitRecord): Promise<boolean> {
    const { job, recipe } = this.ctx;
    const [w, h] = unit.dimensions;
    let built: BuiltRecipe | undefined;
    if (recipe) {
      built = await buildRecipeFor(this.ctx, recipe, unit);
      // The recipe itself failed the unit: no task is sent.
      if (!built) return true;
    }
    const target = exportFields(this.ctx.destination.target(unit), job);
    if (built?.kind === 'table') {
      const exportTable = this.ctx.ee.exportTable?.bind(this.ctx.ee);
      if (!exportTable) throw new Error('this Earth Engine connection cannot export tables');
      const params: TableExport = {
        requestId: unit.requestId!,
        description: unit.description!,
        ...target,
        fileFormat: built.format ?? 'CSV',
        priority: job.export.priority,
        collection: built.make,
      };
      return this.sendExport(unit, () => exportTable(params));
    }
    const params: ImageExport = {
      requestId: unit.requestId!,
      description: unit.description!,
      folder: target.folder,
      fileNamePrefix: target.fileNamePrefix,
      crs: unit.crs,
      crsTransform: unit.crsTransform,
      dimensions: unit.dimensions,
      fileDimensions: this.ctx.fileDimensions(unit),
      shardSize: job.export.shardSize ?? 256,
      maxPixels: maxPixelsSent(w * h, job.export.maxPixels),
      priority: job.export.priority,
      image: await this.maskedToRoi(unit, built ? built.make : this.ctx.image!),
      noData: job.export.noData,
      cloudOptimized: job.export.cloudOptimized,
      skipEmptyTiles: job.export.skipEmptyTiles,
      ...(target.assetId !== undefined ? { assetId: target.assetId } : {}),
      ...(target.bucket !== undefined ? { bucket: target.bucket } : {}),
    };
    return this.sendExport(unit, () => this.ctx.ee.exportImage(params));
  }

  /**
   * Reads the operations that can have changed, when a read is due (poll-policy.ts); `all` reads every
   * operation in flight now (start-up, after a long gap, while cancelling).
   */
  async poll(all: boolean): Promise<boolean> {
    const watched = this.ctx.units('queued', 'running').filter((t) => t.operation);
    if (watched.length === 0) return false;
    const ops = watched.map(watchedOperation);
    const plan: PollPlan | undefined = all ? { names: ops.map((o) => o.name), via: 'get' } : this.polls.plan(ops, this.ctx.clock.now(), this.ctx.moreToSend());
    if (!plan) return false;
    const seen = await this.readOperations(plan);
    this.ctx.online();
    let changed = false;
    for (const unit of watched) {
      const op = seen.get(unit.operation!);
      if (op) changed = (await this.observe(unit, op)) || changed;
    }
    this.polls.polled(this.ctx.clock.now(), changed);
    return changed;
  }

  async cancel(units: UnitRecord[]): Promise<void> {
    const names = units.flatMap((t) => (t.operation ? [t.operation] : []));
    try {
      await this.ctx.ee.cancelOperations(names);
    } catch (e) {
      // Some finished before the cancel arrived (EE refuses those); polling shows each one's outcome.
      this.ctx.log('warn', `cancel: ${(e as Error).message}`);
    }
  }

  nextPollAt(): number {
    const ops: WatchedOperation[] = [];
    for (const t of this.ctx.units('queued', 'running')) if (t.operation) ops.push(watchedOperation(t));
    return this.polls.nextPollAt(ops, this.ctx.moreToSend());
  }

  busy(): boolean {
    return false;
  }

  async drain(): Promise<void> {}

  /** With export.maskToRoi, the unit's image clipped to the ROI (roi-mask.ts); else as it is. */
  private async maskedToRoi(unit: UnitRecord, make: ImageExport['image']): Promise<ImageExport['image']> {
    const { job } = this.ctx;
    if (!job.export.maskToRoi) return make;
    this.roi ??= roiInExportCrs(job);
    const part = roiPartInTile(await this.roi, unit);
    return part ? clippedImage(make, part, unit.crs) : make;
  }

  /** Sends an export with the journaled requestId; same crash points and outcomes for images and tables. */
  private async sendExport(unit: UnitRecord, start: () => Promise<string>): Promise<boolean> {
    const { job } = this.ctx;
    try {
      crashPoint('before-export');
      const name = await start();
      crashPoint('after-export');
      await this.ctx.setUnit(unit, { state: 'queued', operation: name });
      this.ctx.online();
      return true;
    } catch (e) {
      if (!(e instanceof EarthEngineError)) throw e;
      if (QUEUE_FULL.test(e.message)) {
        this.ctx.setWaiting('queue-full');
        this.ctx.backoff(job.poll.maxSeconds);
        return false;
      }
      if (e.transient || isOffline(e)) {
        this.ctx.log('warn', `${unit.id}: export not confirmed (${e.message}); it is re-sent with the same requestId`);
        if (isOffline(e)) this.ctx.offline(e);
        else this.ctx.backoff(job.poll.minSeconds);
        return false;
      }
      // EE refused the request itself: the same outcome as a task failing with that message.
      await this.ctx.failed(unit, e.message);
      return true;
    }
  }

  /** One list page, or batched reads (POLL_BATCH a request); what a listed page lacks is read after it. */
  private async readOperations(plan: PollPlan): Promise<Map<string, Operation>> {
    const seen = new Map<string, Operation>();
    let missing = plan.names;
    if (plan.via === 'list') {
      for (const op of await this.ctx.ee.listOperations(plan.names.length)) seen.set(op.name, op);
      missing = plan.names.filter((n) => !seen.has(n));
    }
    for (let k = 0; k < missing.length; k += POLL_BATCH) {
      for (const [name, op] of await this.ctx.ee.getOperations(missing.slice(k, k + POLL_BATCH))) seen.set(name, op);
    }
    return seen;
  }

  private async observe(unit: UnitRecord, op: Operation): Promise<boolean> {
    const m = op.metadata;
    const { clock } = this.ctx;
    const now = clock.now();
    // EE's timestamps are Google's time; the clock turns their spans into its own (ports/clock.ts).
    if (m?.state === 'RUNNING') this.polls.running(op.name, now, eeMillis(m.startTime, m.updateTime, clock));
    else if (m?.state === 'PENDING') this.polls.stillQueued(op.name, now);
    else if (m?.state === 'SUCCEEDED' || m?.state === 'FAILED' || m?.state === 'CANCELLED') {
      this.polls.ended(op.name, m.state === 'SUCCEEDED' ? (eeMillis(m.startTime, m.endTime, clock) ?? journaledRun(unit, now)) : undefined);
    }
    switch (m?.state) {
      case 'RUNNING':
      case 'CANCELLING':
        if (unit.state === 'running') return false;
        await this.ctx.setUnit(unit, { state: 'running' });
        return true;
      case 'SUCCEEDED':
        await this.ctx.setUnit(unit, await this.ctx.destination.succeeded(unit, op));
        return true;
      case 'FAILED':
        await this.ctx.failed(unit, op.error?.message ?? 'failed without a message');
        return true;
      case 'CANCELLED':
        await this.ctx.setUnit(unit, { state: 'cancelled', error: op.error?.message ?? 'cancelled in Earth Engine' });
        return true;
      default:
        return false;
    }
  }
}

/** The destination part of an export request, in the fields `Export.*.to*` take (google/earthengine.ts). */
function exportFields(target: ExportTarget, job: Job): { folder: string; fileNamePrefix: string; assetId?: string; bucket?: string } {
  switch (target.to) {
    case 'drive':
      return { folder: target.folder, fileNamePrefix: target.fileNamePrefix };
    case 'asset':
      return { folder: job.driveFolder, fileNamePrefix: target.fileNamePrefix, assetId: target.assetId };
    case 'gcs':
      return { folder: '', fileNamePrefix: target.fileNamePrefix, bucket: target.bucket };
  }
}

/** A unit in flight as the poll policy sees it: its operation, state and (queued) when it was sent. */
function watchedOperation(t: UnitRecord): WatchedOperation {
  if (t.state === 'running') return { name: t.operation!, state: 'running' };
  const sent = t.history.findLast((h) => h.state === 'queued');
  return { name: t.operation!, state: 'queued', since: sent ? Date.parse(sent.at) : undefined };
}

/** How long a unit's running task has run by the journal (its last running entry to now), in ms. */
function journaledRun(t: UnitRecord, now: number): number | undefined {
  const ran = t.history.findLast((h) => h.state === 'running');
  return ran ? now - Date.parse(ran.at) : undefined;
}

/** How long a unit's last task ran (journaled running → exported), in ms. */
function runDuration(t: UnitRecord): number | undefined {
  const ran = t.history.findLast((h) => h.state === 'running');
  const ended = t.history.findLast((h) => h.state === 'exported');
  return ran && ended ? Date.parse(ended.at) - Date.parse(ran.at) : undefined;
}
