import { UserError } from '../errors';
import { ASSET_EXISTS, ASSET_QUOTA, EarthEngineError, type AssetQuota, type Operation } from '../google/earthengine';
import type { TilePatch } from '../job/state';
import { filePrefix } from '../sync/names';
import type { EarthEnginePort } from '../ports/earth-engine';
import type { Admission, Destination, DestinationContext, ExportTarget, FailureReading, UnitRecord } from './port';

/**
 * Earth Engine assets as a destination: each unit exports to `{folder}/{job}_{unitId}` (never
 * overwriting) and is done once that asset exists with the right type; nothing comes to this computer.
 * Its gate is the project's asset count. No lease: nothing of the job lives in Drive.
 */
export class AssetDestination implements Destination {
  readonly kind = 'asset';
  readonly localOutputs = false;
  readonly lease = undefined;
  /** The destination folder was found or created in this run. */
  private ready = false;
  /** The last quota read, with the tasks in flight then and the exports sent since. */
  private quota: (AssetQuota & { at: number; inFlightAtRead: number; sentSince: number }) | undefined;
  private readonly folder: string;

  constructor(private readonly ctx: DestinationContext) {
    this.folder = ctx.job.assetFolder!;
  }

  /** `{folder}/{job}_{unitId}`: the asset a unit exports to. */
  private assetName(unit: UnitRecord): string {
    return `${this.folder}/${filePrefix(this.ctx.job.name, unit.id)}`;
  }

  target(unit: UnitRecord): ExportTarget {
    return { to: 'asset', assetId: this.assetName(unit), fileNamePrefix: filePrefix(this.ctx.job.name, unit.id) };
  }

  /**
   * The job's asset folder, created when missing (parents as folders): an image collection for image
   * jobs, a folder for table jobs (EE keeps tables out of image collections).
   */
  async prepare(): Promise<void> {
    if (this.ready) return;
    const ee = this.assetCalls();
    const folder = this.folder;
    const existing = await ee.getAsset(folder);
    if (!existing) {
      const root = /^projects\/[^/]+\/assets/.exec(folder)![0];
      const parts = folder.slice(root.length + 1).split('/');
      for (let i = 1; i < parts.length; i++) {
        const parent = `${root}/${parts.slice(0, i).join('/')}`;
        if (!(await ee.getAsset(parent))) await ee.createAsset(parent, 'FOLDER');
      }
      const type = this.ctx.outputKind === 'table' ? 'FOLDER' : 'IMAGE_COLLECTION';
      try {
        await ee.createAsset(folder, type);
        this.ctx.log('info', `created the ${type === 'FOLDER' ? 'asset folder' : 'image collection'} ${folder}`);
      } catch (e) {
        // Another run created it meanwhile: fine.
        if (!(e instanceof EarthEngineError && ASSET_EXISTS.test(e.message))) throw e;
      }
    } else if (existing.type !== 'FOLDER' && existing.type !== 'IMAGE_COLLECTION') {
      throw new UserError(`the asset destination ${folder} is a ${existing.type}, not a folder or image collection; nothing was submitted`);
    }
    this.ready = true;
  }

  /**
   * The asset-count gate: the project's asset quota is read at most every poll.maxSeconds; between reads,
   * the exports sent since count as assets already made (conservative: a wrong "no" costs a stall, a
   * wrong "yes" a failed task), and the quota is read once more, fresh, before the gate closes. A job
   * whose own assets (every unit plus the merge's outputs) exceed the limit can never fit: the run stops
   * (exit 3) naming the limit.
   */
  async admit(): Promise<Admission> {
    if (!this.ctx.ee.assetQuota) return { ok: true };
    const { job, count } = this.ctx;
    const fits = (): boolean => {
      const q = this.quota!;
      if (q.maxAssets <= 0) return true; // no limit reported
      return q.assetCount + q.inFlightAtRead + q.sentSince + 1 <= q.maxAssets;
    };
    await this.readQuota(this.ctx.scaledMs(job.poll.maxSeconds));
    const q = this.quota!;
    const units = count('pending', 'retrying', 'submitting', 'queued', 'running', 'exported', 'verified', 'done');
    const extra = this.ctx.extraOutputs(units);
    const needed = units + extra;
    if (q.maxAssets > 0 && needed > q.maxAssets) {
      return { ok: false, stop: { reason: 'asset-quota', message: `the project's asset quota allows ${q.maxAssets} assets, but this job alone needs ${needed} (${units} tile assets${extra ? ` and ${extra} made by the merge` : ''}); raise the quota, use a larger tilePixels, or split the job` } };
    }
    if (fits()) return { ok: true };
    await this.readQuota(this.ctx.scaledMs(job.poll.minSeconds));
    return fits() ? { ok: true } : { ok: false, wait: 'asset-quota' };
  }

  sent(): void {
    if (this.quota) this.quota.sentSince++;
  }

  /** Verified (done) only once the asset is seen in EE: collect. */
  async succeeded(_unit: UnitRecord, op: Operation): Promise<TilePatch> {
    return { state: 'exported', eecuSeconds: op.metadata?.batchEecuUsageSeconds ?? 0 };
  }

  readFailure(unit: UnitRecord, message: string): FailureReading | undefined {
    // An attempt refused because the unit's asset already exists: an earlier attempt made it (e.g. before
    // a crash). Adopt it, never overwrite it; collect checks its type.
    if (ASSET_EXISTS.exec(message)?.[1] === this.assetName(unit)) {
      this.ctx.log('info', `${unit.id}: adopted the existing asset ${this.assetName(unit)}`);
      return 'already-made';
    }
    if (ASSET_QUOTA.test(message)) {
      // The project's asset quota filled up under us: wait for room (the asset gate), no retry used.
      this.quota = undefined;
      return 'wait-for-room';
    }
    return undefined;
  }

  /** An exported unit is done once its asset exists in EE with the right type. */
  async collect(unit: UnitRecord): Promise<void> {
    const name = this.assetName(unit);
    const asset = await this.assetCalls().getAsset(name);
    const want = this.ctx.outputKind === 'table' ? 'TABLE' : 'IMAGE';
    if (!asset) {
      this.ctx.log('warn', `${unit.id}: the task succeeded but ${name} is not in Earth Engine yet; looking again next cycle`);
      return;
    }
    if (asset.type !== want) {
      await this.ctx.setUnit(unit, { state: 'failed', error: `${name} exists but is a ${asset.type}, not a ${want}` });
      return;
    }
    if (unit.state !== 'verified') await this.ctx.setUnit(unit, { state: 'verified' });
    await this.ctx.setUnit(unit, { state: 'done' });
    this.ctx.online();
  }

  async gauge(): Promise<void> {}

  private async readQuota(maxAgeMs: number): Promise<void> {
    const now = this.ctx.clock.now();
    if (this.quota && now - this.quota.at <= maxAgeMs) return;
    const q = await this.ctx.ee.assetQuota!(this.folder);
    // Exports in flight have not made their asset yet: they will.
    const inFlight = this.ctx.count('submitting', 'queued', 'running', 'exported');
    this.quota = { ...q, at: this.ctx.clock.now(), inFlightAtRead: inFlight, sentSince: 0 };
  }

  private assetCalls(): Required<Pick<EarthEnginePort, 'getAsset' | 'createAsset'>> {
    const { getAsset, createAsset } = this.ctx.ee;
    if (!getAsset || !createAsset) throw new Error('this Earth Engine connection cannot manage assets');
    return { getAsset: getAsset.bind(this.ctx.ee), createAsset: createAsset.bind(this.ctx.ee) };
  }
}
