import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors';
import type { ImageExport } from '../google/earthengine';
import type { FileRecord } from '../job/state';
import type { MultiPolygon } from '../geo/geometry';
import type { UnitRecord } from '../destination/port';
import { isOffline, localDiskProblem } from '../engine/failures';
import { clippedImage, roiPartInTile } from '../engine/roi-mask';
import { roiInExportCrs } from '../engine/plan';
import { builtInBytesPerPixel } from '../engine/recipe';
import { staticShape } from '../recipes/output-shape';
import { filePrefix, safeOutputPath, unitOutputDir } from '../sync/names';
import { classifyDirectFailure, DirectRequestError, type DirectFailureKind } from '../direct/failures';
import { AimdLimiter, type Outcome, type Permit } from '../direct/limiter';
import { overLimit, PROJECT_CONCURRENCY, DEFAULT_DIRECT_CONCURRENCY } from '../direct/limits';
import { checkFetched, readGeoTiffHeader, writeDurably } from '../direct/output';
import { directPixelsOf, type ComputePixels } from '../direct/pixels-port';
import { batchExportProducer } from './batch-export';
import type { Producer, ProducerContext } from './port';
import { buildRecipeFor } from './recipe-build';

/**
 * Direct download (docs/direct-download.md): each unit is one `image:computePixels` request in the unit's
 * own grid, written under the name its export would have and verified by its header. `auto` starts the
 * same way and hands a unit whose request hits a computation limit (time, memory) to a batch export.
 *
 * States: the runner journals `submitting`; the fetch journals `running`, then the output's name (before
 * the file exists, so a crash never leaves a file the journal does not know), then `done`. After a crash a
 * `running` unit without an operation was being fetched: it is sent again with the same attempt, and a
 * complete file it already wrote (journaled size and MD5) is taken without a second request.
 */
export function directProducer(ctx: ProducerContext): Producer {
  return new DirectProducer(ctx, undefined);
}

export function autoProducer(ctx: ProducerContext): Producer {
  return new DirectProducer(ctx, batchExportProducer(ctx));
}

/** The id journaled for a file fetched with computePixels (there is no Drive file behind it). */
const DIRECT_FILE_ID = 'computePixels';


class DirectProducer implements Producer {
  readonly mode;
  private readonly limiter: AimdLimiter;
  private readonly pixels: ComputePixels;
  private readonly fetching = new Map<string, { promise: Promise<void>; abort: AbortController }>();
  private readonly shape: { bands: number; bytesPerPixel: number };
  private roi: Promise<MultiPolygon> | undefined;
  /** The band count of the first unit fetched; every other must match (unless export.bands fixes it). */
  private bands: number | undefined;
  /** A failure that must stop the run (signed out), thrown at the next send. */
  private fatal: unknown;

  constructor(
    private readonly ctx: ProducerContext,
    private readonly fallback: Producer | undefined,
  ) {
    this.mode = fallback ? ('auto' as const) : ('direct' as const);
    const { job } = ctx;
    const max = Math.min(job.direct?.concurrency ?? DEFAULT_DIRECT_CONCURRENCY, PROJECT_CONCURRENCY);
    this.limiter = new AimdLimiter({ max, clock: ctx.clock, backoffMs: ctx.scaledMs(1), maxBackoffMs: ctx.scaledMs(job.poll.maxSeconds) });
    this.pixels = directPixelsOf(ctx.ee);
    const declared = staticShape(job);
    this.shape = { bands: declared.bands, bytesPerPixel: ctx.recipe?.bytesPerPixel ?? (ctx.recipe ? declared.bytesPerPixel : builtInBytesPerPixel(job.export.dataType)) };
    this.bands = job.export.bands?.length;
  }

  seed(unit: UnitRecord): void {
    this.fallback?.seed(unit);
  }

  async reconcile(all: boolean): Promise<void> {
    if (!this.fallback) {
      // Exports an earlier run sent in mode "export": a direct job has no destination to collect them from.
      const exports = [...this.ctx.units('submitting', 'queued', 'running', 'exported', 'downloading', 'verified').filter((u) => u.operation), ...(await this.exportsSentUnanswered())];
      if (exports.length) {
        // Exit 3 (docs/states.md#exit-codes): the job file is fine, the user must finish those exports first.
        throw new UserError(`${exports.length} tile${exports.length === 1 ? ' is' : 's are'} still in batch exports sent by an earlier run in "mode": "export" (first: ${exports[0]!.id}); nothing was sent — run the job with "mode": "auto" (or "export") until they are done, then switch to "direct"`, 3);
      }
    }
    await this.fallback?.reconcile(all);
    // A fetch a crash or a stop interrupted: sent again with the same attempt.
    for (const unit of this.ctx.units('running')) {
      if (!unit.operation && !this.fetching.has(unit.id)) await this.ctx.setUnit(unit, { state: 'submitting' });
    }
  }

  /**
   * Units an export run journaled as `submitting` and stopped before Earth Engine's answer came: their
   * export may be in Earth Engine under the unit's description (docs/direct-download.md#switching-mode).
   * A unit this producer started is `running` with `via: "direct"` first, so only a crash between the
   * runner's journal line and the fetch costs the one listing here.
   */
  private async exportsSentUnanswered(): Promise<UnitRecord[]> {
    const unsure = this.ctx.units('submitting').filter((u) => !u.operation && u.via !== 'direct' && u.description);
    if (!unsure.length) return [];
    const ops = await this.ctx.ee.listOperations();
    const live = new Set(ops.filter((op) => !['FAILED', 'CANCELLED'].includes(String(op.metadata?.state ?? ''))).map((op) => op.metadata?.description));
    return unsure.filter((u) => live.has(u.description));
  }

  async send(unit: UnitRecord): Promise<boolean> {
    if (this.fatal) throw this.fatal;
    if (this.fetching.has(unit.id)) return true;
    if (this.fallback && unit.via === 'export') return this.fallback.send(unit);
    const tooBig = overLimit(unit.dimensions, this.shape);
    if (tooBig) {
      // Split before sending, until each child fits (not limited by splitDepth): docs/direct-download.md.
      await this.ctx.split(unit, tooBig);
      return true;
    }
    if (await this.alreadyWritten(unit)) return true;
    const permit = this.limiter.tryAcquire();
    if (!permit) return false;
    const abort = new AbortController();
    const promise = this.fetch(unit, permit, abort.signal).finally(() => {
      this.fetching.delete(unit.id);
      this.ctx.wake();
    });
    this.fetching.set(unit.id, { promise, abort });
    return true;
  }

  async poll(all: boolean): Promise<boolean> {
    return (await this.fallback?.poll(all)) ?? false;
  }

  async cancel(units: UnitRecord[]): Promise<void> {
    for (const u of units) this.fetching.get(u.id)?.abort.abort();
    const exported = units.filter((u) => u.operation);
    if (this.fallback && exported.length) await this.fallback.cancel(exported);
  }

  nextPollAt(): number {
    const next = this.fallback?.nextPollAt() ?? Number.POSITIVE_INFINITY;
    // While requests are out, the loop comes back soon to send more as slots free up.
    const held = this.limiter.heldUntil;
    const soon = this.fetching.size > 0 || held ? Math.max(held, this.ctx.clock.now() + this.ctx.scaledMs(0.2)) : Number.POSITIVE_INFINITY;
    return Math.min(next, soon);
  }

  busy(): boolean {
    return this.fetching.size > 0 || (this.fallback?.busy() ?? false);
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.fetching.values()].map((f) => f.promise));
    await this.fallback?.drain();
  }

  /** One request, written and journaled; every outcome is handled here (nothing is thrown). */
  private async fetch(unit: UnitRecord, permit: Permit, abort: AbortSignal): Promise<void> {
    const { job } = this.ctx;
    let outcome: Outcome = 'other';
    try {
      await this.ctx.setUnit(unit, { state: 'running', via: 'direct' });
      const image = await this.image(unit);
      if (!image) return;
      const signal = this.ctx.signal ? AbortSignal.any([this.ctx.signal, abort]) : abort;
      const bytes = await this.pixels({ crs: unit.crs, crsTransform: unit.crsTransform, dimensions: unit.dimensions }, image, signal);
      outcome = 'ok';
      this.ctx.online();
      const name = `${filePrefix(job.name, unit.id)}.tif`;
      const problem = await checkFetched(name, bytes, unit, this.bands);
      if (problem) {
        await this.ctx.setUnit(unit, { state: 'failed', error: `${problem}; nothing was written` });
        return;
      }
      const md5 = createHash('md5').update(bytes).digest('hex');
      const record: FileRecord = { id: DIRECT_FILE_ID, name, size: bytes.byteLength, md5, verified: false, cleaned: true };
      // The name first: a crash after the rename then leaves a file the journal knows.
      await this.ctx.setUnit(unit, { files: [record] });
      await writeDurably(safeOutputPath(unitOutputDir(job.output, unit.id), name), bytes);
      this.bands ??= (await readGeoTiffHeader(bytes)).bands;
      await this.done(unit, record);
    } catch (e) {
      outcome = await this.failedFetch(unit, e, abort);
    } finally {
      this.limiter.release(permit, outcome);
    }
  }

  private async done(unit: UnitRecord, record: FileRecord): Promise<void> {
    await this.ctx.setUnit(unit, { state: 'done', files: [{ ...record, verified: true }], error: undefined });
    this.ctx.sizes.learn(unit);
  }

  /** What a failed request becomes (direct/failures.ts); the limiter's outcome. */
  private async failedFetch(unit: UnitRecord, e: unknown, abort: AbortSignal): Promise<Outcome> {
    if (abort.aborted) {
      await this.ctx.setUnit(unit, { state: 'cancelled', error: 'cancelled while its pixels were being fetched' });
      return 'other';
    }
    if (this.ctx.signal?.aborted) return 'other'; // the run stops: the unit is sent again next run
    if (!(e instanceof DirectRequestError) && !isOffline(e)) {
      // The disk or our own bug, not the request: the run stops on it at the next send (the runner says
      // what is wrong); the unit is sent again by the next run.
      await this.ctx.setUnit(unit, { state: 'submitting' });
      const disk = localDiskProblem(e);
      this.fatal = disk ? new UserError(`${disk} (${(e as Error).message}); the run stops here and the tile is fetched again next run`, 3) : e;
      return 'other';
    }
    const kind: DirectFailureKind = classifyDirectFailure(e);
    const message = (e as Error).message;
    switch (kind) {
      case 'throttled':
        await this.ctx.setUnit(unit, { state: 'submitting' });
        this.ctx.log('debug', `${unit.id}: 429 (${message}); ${this.limiter.limit} requests in flight at most now`);
        return 'throttled';
      case 'lost':
        // No answer is never the unit's fault: the same attempt is sent again after a pause.
        await this.ctx.setUnit(unit, { state: 'submitting' });
        if (isOffline(e)) this.ctx.offline(e);
        else {
          this.ctx.log('warn', `${unit.id}: ${message}; sent again`);
          this.ctx.backoff(this.ctx.job.poll.minSeconds);
        }
        return 'other';
      case 'signed-out':
        await this.ctx.setUnit(unit, { state: 'submitting' });
        this.fatal = new Error(`signed out: ${message}`);
        return 'other';
      case 'computation-limit':
        if (this.fallback) {
          this.ctx.log('info', `${unit.id}: ${message} (direct request); sent as a batch export instead`);
          await this.ctx.setUnit(unit, { state: 'submitting', via: 'export', error: `${message} (direct request)` });
          await this.fallback.send(unit);
          return 'other';
        }
        await this.ctx.failed(unit, message);
        return 'other';
      default:
        await this.ctx.failed(unit, message);
        return 'other';
    }
  }

  /** The unit's image as an export would build it (recipe, ROI mask); undefined when the recipe failed it. */
  private async image(unit: UnitRecord): Promise<ImageExport['image'] | undefined> {
    const { job, recipe } = this.ctx;
    let make = this.ctx.image;
    if (recipe) {
      const built = await buildRecipeFor(this.ctx, recipe, unit);
      if (!built) return undefined;
      if (built.kind === 'table') {
        await this.ctx.setUnit(unit, { state: 'failed', error: `"mode": "${this.mode}" fetches images, but the recipe made a table for this tile; use "mode": "export"` });
        return undefined;
      }
      make = built.make;
    }
    if (!make) throw new Error('the job has no image to fetch');
    if (!job.export.maskToRoi) return make;
    this.roi ??= roiInExportCrs(job);
    const part = roiPartInTile(await this.roi, unit);
    return part ? clippedImage(make, part, unit.crs) : make;
  }

  /** A complete output this unit wrote before a crash (its journaled size and MD5): taken without a request. */
  private async alreadyWritten(unit: UnitRecord): Promise<boolean> {
    const record = unit.files.find((f) => f.id === DIRECT_FILE_ID);
    if (!record) return false;
    let bytes: Buffer;
    try {
      bytes = await readFile(safeOutputPath(unitOutputDir(this.ctx.job.output, unit.id), record.name));
    } catch {
      return false;
    }
    if (bytes.byteLength !== record.size || createHash('md5').update(bytes).digest('hex') !== record.md5) return false;
    if (await checkFetched(record.name, bytes, unit, this.bands)) return false;
    this.ctx.log('info', `${unit.id}: ${record.name} was written before a restart; taken as it is`);
    await this.done(unit, record);
    return true;
  }
}
