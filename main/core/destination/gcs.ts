import type { Quota } from '../../../shared/contract';
import type { Operation } from '../google/earthengine';
import type { TilePatch } from '../job/state';
import { acquireLease } from '../sync/lease';
import { ListingWatch } from '../sync/listing';
import { filePrefix } from '../sync/names';
import { crashPoint } from '../engine/crash-points';
import { bucketProblem } from '../gcs/client';
import { downloadObject } from '../gcs/download';
import { leaseStorage } from '../gcs/lease';
import { asFolderFiles, checksumsFrom, folderKey, jobFolder, objectPrefix, operationFolder, parseFileId, parseFolderKey, type GcsFolder } from '../gcs/location';
import type { GcsPort } from '../gcs/port';
import { finishUnit, ForeignFiles, lockedMessage, takeListedOutputs, type StorePlace } from './collect';
import type { Admission, CollectCycle, Destination, DestinationClients, DestinationContext, ExportTarget, FailureReading, LeaseStore, UnitRecord } from './port';

/**
 * Cloud Storage as a destination (docs/cloud-storage.md): Earth Engine writes each unit's files as objects
 * `{prefix}/{job}_{unitId}…` in the job's bucket; the engine lists the prefix's folder (the ownership rule
 * and late listings as for Drive: `timeCreated` against the operation's createTime), downloads each
 * object with ranged resumes, verifies it by MD5 or — composite objects — CRC32C, and only then deletes
 * that very generation. The lease is an object in the same folder. Buckets have no quota to wait for.
 */
export function gcsDestination(ctx: DestinationContext, clients: DestinationClients): Destination {
  const gcs = clients.gcs;
  const at = ctx.job.gcs;
  if (!at) throw new Error('the Cloud Storage destination needs a job with destination.type "gcs"');
  if (!gcs) throw new Error('this run has no Cloud Storage client: the host must pass clients.gcs for a job whose destination is a bucket');
  return new GcsDestination(ctx, gcs, jobFolder(at.bucket, at.prefix), at.prefix);
}

class GcsDestination implements Destination {
  readonly kind = 'gcs';
  readonly localOutputs = true;
  readonly lease: LeaseStore;
  private readonly listingWatch = new ListingWatch();
  private readonly foreign: ForeignFiles;
  /** Bytes of this job's objects in the bucket at the last listing, per folder (the dashboard's gauge). */
  private readonly usage = new Map<string, number>();
  private lastGauge = '';

  constructor(
    private readonly ctx: DestinationContext,
    private readonly gcs: GcsPort,
    private readonly home: GcsFolder,
    private readonly prefix: string,
  ) {
    this.foreign = new ForeignFiles(ctx, BUCKET);
    this.lease = this.leaseStore();
  }

  async prepare(): Promise<void> {}

  target(unit: UnitRecord): ExportTarget {
    return { to: 'gcs', bucket: this.home.bucket, fileNamePrefix: objectPrefix(this.prefix, filePrefix(this.ctx.job.name, unit.id)) };
  }

  /** A bucket has no quota Tessera can read: nothing holds a unit back. */
  async admit(): Promise<Admission> {
    return { ok: true };
  }

  sent(): void {}

  async succeeded(unit: UnitRecord, op: Operation): Promise<TilePatch> {
    let where = operationFolder(op.metadata?.destinationUris);
    if (!where) {
      this.ctx.log('warn', `${unit.id}: ${op.name} succeeded without a Cloud Storage location in destinationUris; looking for its objects under gs://${this.home.bucket}/${this.home.folder}`);
      where = this.home;
    }
    const createTime = op.metadata?.createTime;
    return { state: 'exported', folderId: folderKey(where), eecuSeconds: op.metadata?.batchEecuUsageSeconds ?? 0, ...(createTime ? { operationCreateTime: createTime } : {}) };
  }

  readFailure(): FailureReading | undefined {
    return undefined;
  }

  async collect(unit: UnitRecord, cycle: CollectCycle): Promise<void> {
    const { job, signal } = this.ctx;
    if (unit.state === 'exported' && !(await this.takeOutputs(unit, cycle))) return;
    const finished = await finishUnit(this.ctx, unit, {
      download: (file, path) => {
        const o = parseFileId(file.id);
        if (!o) throw new Error(`${unit.id}: the journal's object id ${file.id} is not a Cloud Storage object`);
        const obj = { bucket: o.bucket, name: o.name, generation: o.generation, size: file.size, ...checksumsFrom(file.md5) };
        return downloadObject(obj, path, (start) => this.gcs.download(o.bucket, o.name, o.generation, start, signal), () => crashPoint('mid-download'));
      },
      clean: async (file) => {
        const o = parseFileId(file.id);
        // Only now, with every byte verified on disk, is that very generation deleted (a newer one is not ours).
        if (o && job.cleanup === 'delete') await this.gcs.remove(o.bucket, o.name, o.generation);
      },
    }, BUCKET);
    if (finished) this.ctx.online();
  }

  /** The gauge: the bytes of this job's objects in the bucket at the last listing (no limit to show). */
  async gauge(): Promise<void> {
    const usage = [...this.usage.values()].reduce((a, b) => a + b, 0);
    const key = String(usage);
    if (key === this.lastGauge) return;
    this.lastGauge = key;
    const quota: Quota = { limit: null, usage, usageInDrive: usage, usageInDriveTrash: 0, at: new Date(this.ctx.clock.now()).toISOString() };
    this.ctx.emit({ type: 'quota', job: this.ctx.job.name, quota });
  }

  /** An exported unit: which objects of its folder are its outputs (the same rule as Drive files, collect.ts). */
  private async takeOutputs(unit: UnitRecord, cycle: CollectCycle): Promise<boolean> {
    const { job, clock } = this.ctx;
    if (!this.listingWatch.due(unit.id, clock.now())) return false;
    const where = (unit.folderId && parseFolderKey(unit.folderId)) || this.home;
    const key = folderKey(where);
    // One listing of the job's objects per folder per cycle serves every unit in it.
    const listing = await cycle.once(`gcs-folder:${key}`, async () => {
      const objects = await this.gcs.list(where.bucket, `${where.folder}${job.name}_`);
      this.usage.set(key, objects.reduce((s, o) => s + o.size, 0));
      return asFolderFiles(objects, where);
    });
    return takeListedOutputs(this.ctx, unit, listing, this.listingWatch, this.foreign, BUCKET);
  }

  /** The lease object `.tessera-lease-{job}.json` in the prefix's folder (sync/lease.ts over gcs/lease.ts). */
  private leaseStore(): LeaseStore {
    const { job } = this.ctx;
    const where = `gs://${this.home.bucket}/${this.home.folder}`;
    return {
      acquire: async () => {
        // The first request to the bucket: a missing or forbidden bucket stops the run here, in words.
        const r = await acquireLease(leaseStorage(this.gcs, this.home), { job: job.name, folderName: this.home.folder, folderId: this.home.folder }).catch((e: unknown) => {
          throw bucketProblem(e, this.home.bucket) ?? e;
        });
        if (r.kind === 'held') return r;
        return { kind: 'locked', message: lockedMessage(job.name, r.holder, where) };
      },
    };
  }
}

/** The bucket in the words of the shared collect steps (collect.ts); a foreign object is named by its id. */
const BUCKET: StorePlace = { where: 'the bucket', thing: 'object', kept: 'the objects in the bucket are kept', describe: (f) => f.id };
