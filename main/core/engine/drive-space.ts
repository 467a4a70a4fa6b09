import type { DriveQuota } from '../google/drive';
import { driveHasRoom } from './estimates';

export interface DriveSpaceOptions {
  /** Reads Drive's `about.storageQuota` (one request). */
  read(): Promise<DriveQuota>;
  now?: () => number;
  /** Read again without need after this long (the gauge). */
  maxAgeMs: number;
  /** A reading younger than this is fresh enough to close the gate on. */
  freshMs: number;
}

/**
 * Drive's free space as the quota gate needs it, with `about.get` read only when a decision needs it
 * (docs/performance.md, "Drive quota"). One read gives the usage; afterwards the job's own changes are
 * counted locally: a tile's outputs appearing (the size estimate when its task succeeds, its listed
 * sizes once listed) and its files deleted (trashed files still count, as in Drive). `about` is read
 * again only
 *  - when the projection says the next export would leave less than the reserve free (a wrong "no" costs
 *    a stall, so the gate looks again, fresh, before closing),
 *  - after a task failed because Drive was full (someone else's files count too),
 *  - and at the latest `maxAgeMs` after the last read, for the gauge (other programs fill Drive as well).
 */
export class DriveSpace {
  private last: (DriveQuota & { at: number }) | undefined;
  /** Bytes counted for each tile whose outputs appeared after the last read. */
  private readonly added = new Map<string, number>();
  private addedTotal = 0;
  /** Bytes deleted since the last read of files that were there at the read. */
  private freed = 0;

  private readonly now: () => number;

  constructor(private readonly options: DriveSpaceOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Whether one more export of `bytes` fits while `inFlightBytes` are on their way, keeping `reserve`
   * bytes free. Reads Drive only without a reading, or (fresh) when the projection says no.
   */
  async hasRoom(inFlightBytes: number, bytes: number, reserve: number): Promise<boolean> {
    await this.current();
    const fits = () => {
      const q = this.projected();
      return !q || driveHasRoom(q.limit, q.usage, inFlightBytes, bytes, reserve);
    };
    if (fits()) return true;
    if (this.age() > this.options.freshMs) await this.fetch();
    return fits();
  }

  /** The projected quota, read first when there is no reading or it is older than `maxAgeMs`. */
  async current(): Promise<DriveQuota | undefined> {
    if (this.stale()) await this.fetch();
    return this.projected();
  }

  private async fetch(): Promise<void> {
    const q = await this.options.read();
    this.read(q, this.now());
  }

  /** A fresh `about` reading: everything counted locally is in it now. */
  read(q: DriveQuota, at: number): void {
    this.last = { ...q, at };
    this.added.clear();
    this.addedTotal = 0;
    this.freed = 0;
  }

  /** Forget the reading (Drive said it is full): the next decision reads again. */
  forget(): void {
    this.last = undefined;
  }

  /** True when there is no reading, or it is older than `maxAgeMs`. */
  stale(): boolean {
    return this.age() > this.options.maxAgeMs;
  }

  /** Milliseconds since the last reading (Infinity without one). */
  age(): number {
    return this.last ? this.now() - this.last.at : Infinity;
  }

  /** A tile's task succeeded: its outputs (about `bytes`) are in Drive now. */
  appeared(tileId: string, bytes: number): void {
    if (!this.last) return;
    this.count(tileId, bytes);
  }

  /** A tile's outputs were listed: their real size replaces the estimate counted when they appeared. */
  listed(tileId: string, bytes: number): void {
    if (this.added.has(tileId)) this.count(tileId, bytes);
  }

  /** A tile's files were deleted from Drive (not trashed). */
  deleted(tileId: string, bytes: number): void {
    const counted = this.added.get(tileId);
    if (counted !== undefined) {
      this.added.delete(tileId);
      this.addedTotal -= counted;
    } else if (this.last) {
      this.freed += bytes;
    }
  }

  /** The projected quota (the last reading plus what the job changed since), or undefined before a read. */
  projected(): DriveQuota | undefined {
    if (!this.last) return undefined;
    const delta = this.addedTotal - this.freed;
    return { limit: this.last.limit, usage: this.last.usage + delta, usageInDrive: this.last.usageInDrive + delta, usageInDriveTrash: this.last.usageInDriveTrash };
  }

  private count(tileId: string, bytes: number): void {
    this.addedTotal += bytes - (this.added.get(tileId) ?? 0);
    this.added.set(tileId, bytes);
  }
}
