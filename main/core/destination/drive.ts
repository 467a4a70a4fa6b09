import type { Quota } from '../../../shared/contract';
import { driveFolderId, type Operation } from '../google/earthengine';
import type { DriveQuota } from '../google/drive';
import type { TilePatch } from '../job/state';
import { downloadVerified } from '../sync/download';
import { acquireLease, type LeaseDrive } from '../sync/lease';
import { ListingWatch } from '../sync/listing';
import { filePrefix } from '../sync/names';
import { crashPoint } from '../engine/crash-points';
import { DriveSpace } from '../engine/drive-space';
import { classifyTaskFailure } from '../engine/failures';
import type { DrivePort } from '../ports/drive';
import { finishUnit, ForeignFiles, lockedMessage, takeListedOutputs, type StorePlace } from './collect';
import type { Admission, CollectCycle, Destination, DestinationClients, DestinationContext, ExportTarget, FailureReading, LeaseStore, UnitRecord } from './port';

/**
 * Google Drive as a destination: Earth Engine writes each unit's files into the job's Drive folder; the
 * engine lists them (ownership rule and late listings, docs/ownership.md), downloads and verifies them
 * into the output folder, and only then deletes or trashes them in Drive. Its gate is Drive's free space
 * (drive-space.ts), and the job's lease is a file in the same folder.
 */
export function driveDestination(ctx: DestinationContext, clients: DestinationClients): Destination {
  return new DriveDestination(ctx, clients.drive);
}

class DriveDestination implements Destination {
  readonly kind = 'drive';
  readonly localOutputs = true;
  readonly lease: LeaseStore | undefined;
  /** Drive's free space, `about` read only when the quota gate needs it (drive-space.ts). */
  private readonly space: DriveSpace;
  /** Late Drive listings: which exported units wait for their files, with back-off (sync/listing.ts). */
  private readonly listingWatch = new ListingWatch();
  /** Drive files with the job's output names that are not its outputs, each warned about once. */
  private readonly foreign: ForeignFiles;
  /** The last quota sent to the gauge, so an unchanged one is not sent again. */
  private lastQuotaEvent = '';
  /** The job's Drive folder as the lease found or made it. */
  private leaseFolderId: string | undefined;

  constructor(
    private readonly ctx: DestinationContext,
    private readonly drive: DrivePort,
  ) {
    const { job } = ctx;
    // Re-read without need at most every 30 × poll.maxSeconds (30 min by default): for the gauge.
    this.space = new DriveSpace({ read: () => drive.quota(), now: () => ctx.clock.now(), maxAgeMs: ctx.scaledMs(job.poll.maxSeconds) * 30, freshMs: ctx.scaledMs(job.poll.minSeconds) });
    this.foreign = new ForeignFiles(ctx, DRIVE);
    this.lease = hasLeaseCalls(drive) ? this.leaseStore(drive) : undefined;
  }

  async prepare(): Promise<void> {}

  target(unit: UnitRecord): ExportTarget {
    return { to: 'drive', folder: this.ctx.job.driveFolder, fileNamePrefix: filePrefix(this.ctx.job.name, unit.id) };
  }

  /**
   * The quota gate. Drive's `about` is read once, then the job's own outputs and deletes are counted
   * locally (drive-space.ts); it is read again, fresh, only before the gate closes: a wrong "no" costs a
   * stall, a wrong "yes" costs a failed task.
   */
  async admit(_unit: UnitRecord, bytes: number, inFlightBytes: number): Promise<Admission> {
    const { job } = this.ctx;
    const room = await this.space.hasRoom(inFlightBytes, bytes, job.driveReserveBytes);
    this.emitQuota(this.space.projected());
    if (room) return { ok: true };
    return { ok: false, wait: 'quota', stuck: `Drive has no room for the next tile's output (keeping ${job.driveReserveBytes} bytes free); free space in Drive and run again` };
  }

  sent(): void {}

  async succeeded(unit: UnitRecord, op: Operation): Promise<TilePatch> {
    const { job, store } = this.ctx;
    this.space.appeared(unit.id, this.ctx.sizes.forTile(unit));
    const folderId = driveFolderId(op) ?? (await this.jobFolderFor(unit, op));
    if (!folderId) return { state: 'failed', error: `operation ${op.name} succeeded without a Drive folder in destinationUris, and no Drive folder named "${job.driveFolder}" was found` };
    if (!store.state.meta.driveFolderId && driveFolderId(op)) await store.append({ type: 'meta', patch: { driveFolderId: folderId } });
    // The operation's createTime: Drive files older than it are not its outputs (docs/ownership.md).
    const createTime = op.metadata?.createTime;
    return { state: 'exported', folderId, eecuSeconds: op.metadata?.batchEecuUsageSeconds ?? 0, ...(createTime ? { operationCreateTime: createTime } : {}) };
  }

  readFailure(_unit: UnitRecord, message: string): FailureReading | undefined {
    if (classifyTaskFailure(message) !== 'drive-full') return undefined;
    // Not the unit's fault: it waits for space (the quota gate holds it back) without using a retry.
    this.space.forget();
    return 'wait-for-room';
  }

  async collect(unit: UnitRecord, cycle: CollectCycle): Promise<void> {
    const { job, signal } = this.ctx;
    if (unit.state === 'exported') {
      if (!(await this.takeOutputs(unit, cycle))) return;
      this.space.listed(unit.id, unit.files.reduce((s, f) => s + f.size, 0));
    }
    const finished = await finishUnit(this.ctx, unit, {
      download: (file, path) => downloadVerified(file, path, (start) => this.drive.download(file.id, start, signal), () => crashPoint('mid-download')),
      clean: async (file) => {
        // Only now, with every byte verified on disk, does anything in Drive get deleted.
        if (job.cleanup === 'delete') await this.drive.remove(file.id);
        else if (job.cleanup === 'trash') await this.drive.trash(file.id);
      },
    }, DRIVE);
    if (!finished) return;
    // Deleted files free their space at once; trashed ones still count (Drive's trash is in `usage`).
    if (job.cleanup === 'delete') this.space.deleted(unit.id, unit.files.reduce((s, f) => s + f.size, 0));
    this.ctx.online();
  }

  /** The gauge: Drive is read when the reading is missing or old; otherwise the projection is shown. */
  async gauge(): Promise<void> {
    this.emitQuota(await this.space.current());
  }

  /** An exported unit: which files of its folder are its outputs (collect.ts, docs/ownership.md). */
  private async takeOutputs(unit: UnitRecord, cycle: CollectCycle): Promise<boolean> {
    if (!this.listingWatch.due(unit.id, this.ctx.clock.now())) return false;
    const folder = unit.folderId!;
    // One listing per folder per cycle serves every unit in it.
    const listing = await cycle.once(`drive-folder:${folder}`, () => this.drive.listFolder(folder));
    return takeListedOutputs(this.ctx, unit, listing, this.listingWatch, this.foreign, DRIVE);
  }

  /** A SUCCEEDED operation without destinationUris: its files are looked for in the job's folder, by name. */
  private async jobFolderFor(unit: UnitRecord, op: Operation): Promise<string | undefined> {
    const { job, store } = this.ctx;
    this.ctx.log('warn', `${unit.id}: ${op.name} succeeded without destinationUris; looking for its files in the Drive folder "${job.driveFolder}"`);
    return store.state.meta.driveFolderId ?? this.leaseFolderId ?? (await this.drive.findFolder?.(job.driveFolder));
  }

  private emitQuota(q: DriveQuota | undefined): void {
    if (!q) return;
    const key = `${q.limit} ${q.usage} ${q.usageInDrive} ${q.usageInDriveTrash}`;
    if (key === this.lastQuotaEvent) return;
    this.lastQuotaEvent = key;
    const quota: Quota = { ...q, at: new Date(this.ctx.clock.now()).toISOString() };
    this.ctx.emit({ type: 'quota', job: this.ctx.job.name, quota });
  }

  /** The lease file `.tessera-lease-{job}.json` in the job's Drive folder (sync/lease.ts). */
  private leaseStore(drive: LeaseDrive): LeaseStore {
    const { job, store } = this.ctx;
    return {
      acquire: async () => {
        const r = await acquireLease(drive, { job: job.name, folderName: job.driveFolder, folderId: store.state.meta.driveFolderId });
        this.leaseFolderId = r.folderId;
        if (r.kind === 'held') return r;
        return { kind: 'locked', message: lockedMessage(job.name, r.holder, `the Drive folder "${job.driveFolder}"`) };
      },
    };
  }
}

/** Drive in the words of the shared collect steps (collect.ts). */
const DRIVE: StorePlace = { where: 'Drive', thing: 'file', kept: 'the Drive copy is kept', describe: (f) => `${f.name} in Drive` };

function hasLeaseCalls(drive: DrivePort): drive is DrivePort & LeaseDrive {
  return !!(drive.findFolder && drive.createFolder && drive.findByName && drive.createText && drive.updateText && drive.readText && drive.remove);
}
