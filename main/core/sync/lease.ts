import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { pidAlive } from '../../common/process';
import type { DriveTextFile } from '../google/drive';

/**
 * One driver per job across machines (docs/ownership.md, "Lease"): a run holds the file
 * `.tessera-lease-{job}.json` in the job's Drive folder, renews its heartbeat while it runs and deletes
 * it at the end. The local lock (job/lock.ts) cannot see another machine; this can, through Drive.
 * Lease times are real time (never the emulator's scaled time): they measure whether a process lives.
 */

/** What the lease needs from Drive (the real adapter: google/drive.ts). */
export interface LeaseDrive {
  findFolder(name: string): Promise<string | undefined>;
  createFolder(name: string): Promise<string>;
  findByName(folderId: string, name: string): Promise<DriveTextFile[]>;
  createText(folderId: string, name: string, text: string): Promise<string>;
  updateText(fileId: string, text: string): Promise<void>;
  readText(fileId: string): Promise<string | undefined>;
  remove(fileId: string): Promise<void>;
}

export interface LeaseContent {
  job: string;
  host: string;
  pid: number;
  runId: string;
  startedAt: string;
  heartbeatAt: string;
}

/** Renewed this often (real time). */
export const LEASE_HEARTBEAT_MS = 5 * 60_000;
/** A lease whose heartbeat is older than this is stale. */
export const LEASE_STALE_MS = 15 * 60_000;

export function leaseFileName(job: string): string {
  return `.tessera-lease-${job}.json`;
}

export type LeaseOutcome =
  | { kind: 'held'; lease: DriveLease; tookOver: LeaseContent[] }
  | { kind: 'locked'; holder: LeaseContent | { host: string; heartbeatAt?: string } };

export interface LeaseOptions {
  job: string;
  /** The folder name of the job file (drive.folder). */
  folderName: string;
  /** The folder id when known (from an earlier export's destinationUris). */
  folderId?: string;
  now?: () => number;
  host?: string;
  pid?: number;
  /** Whether a pid runs on this machine. */
  alive?: (pid: number) => boolean;
}

/**
 * Takes the lease, or reports who holds it. The folder is the one the job's exports use: its id from an
 * earlier operation when known, else found by name the way Earth Engine picks a folder (the most
 * recently modified of that name), else created at the root of My Drive — where Earth Engine would
 * create it on the first export — so that the lease and the exports share one folder from the start.
 */
export async function acquireLease(drive: LeaseDrive, o: LeaseOptions): Promise<LeaseOutcome & { folderId: string }> {
  const now = o.now ?? Date.now;
  const host = o.host ?? hostname();
  const pid = o.pid ?? process.pid;
  const alive = o.alive ?? pidAlive;
  const folderId = o.folderId ?? (await drive.findFolder(o.folderName)) ?? (await drive.createFolder(o.folderName));
  const name = leaseFileName(o.job);
  const tookOver: LeaseContent[] = [];
  for (const f of await drive.findByName(folderId, name)) {
    const text = await drive.readText(f.id);
    if (text === undefined) continue; // deleted meanwhile
    const content = parseLease(text);
    const heartbeat = content ? Date.parse(content.heartbeatAt) : f.modifiedTime ? Date.parse(f.modifiedTime) : Number.NaN;
    const fresh = !Number.isNaN(heartbeat) && now() - heartbeat < LEASE_STALE_MS;
    // This machine can tell whether its own processes live; the local lock already excludes a second
    // live driver here, so a lease of this host whose pid is dead, or is this very process, is left over.
    const leftOver = content !== undefined && content.host === host && (content.pid === pid || !alive(content.pid));
    if (fresh && !leftOver) {
      return { kind: 'locked', folderId, holder: content ?? { host: 'an unknown machine', ...(f.modifiedTime ? { heartbeatAt: f.modifiedTime } : {}) } };
    }
    await drive.remove(f.id);
    if (content) tookOver.push(content);
  }
  const mine: LeaseContent = { job: o.job, host, pid, runId: randomUUID(), startedAt: new Date(now()).toISOString(), heartbeatAt: new Date(now()).toISOString() };
  const fileId = await drive.createText(folderId, name, JSON.stringify(mine));
  return { kind: 'held', folderId, lease: new DriveLease(drive, fileId, mine, now), tookOver };
}

/** A lease this run holds. */
export class DriveLease {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly drive: LeaseDrive,
    readonly fileId: string,
    private content: LeaseContent,
    private readonly now: () => number,
  ) {}

  get runId(): string {
    return this.content.runId;
  }

  /**
   * Renews the heartbeat every LEASE_HEARTBEAT_MS. Before each renewal the lease is read back: when it is
   * gone or names another run (taken over while this one could not renew), `onLost` is told and the
   * heartbeat stops. A failed renewal is only reported: the next one may succeed.
   */
  startHeartbeat(onLost: (message: string) => void, onProblem: (message: string) => void, everyMs = LEASE_HEARTBEAT_MS): void {
    this.stopHeartbeat();
    const beat = async (): Promise<void> => {
      try {
        const text = await this.drive.readText(this.fileId);
        const now = text === undefined ? undefined : parseLease(text);
        if (!now || now.runId !== this.content.runId) {
          this.stopHeartbeat();
          onLost(`the job's lease in Drive was taken over${now ? ` by ${now.host} (pid ${now.pid})` : ' or deleted'}; this run stops so that two machines never drive one job`);
          return;
        }
        this.content = { ...this.content, heartbeatAt: new Date(this.now()).toISOString() };
        await this.drive.updateText(this.fileId, JSON.stringify(this.content));
      } catch (e) {
        onProblem(`the job's lease could not be renewed (${(e as Error).message}); trying again in ${Math.round(everyMs / 60_000)} min`);
      }
    };
    this.timer = setInterval(() => void beat(), everyMs);
    this.timer.unref();
  }

  stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Deletes the lease (a 404 counts as deleted). */
  async release(): Promise<void> {
    this.stopHeartbeat();
    await this.drive.remove(this.fileId);
  }
}

export function parseLease(text: string): LeaseContent | undefined {
  try {
    const v = JSON.parse(text) as Partial<LeaseContent>;
    if (typeof v.host === 'string' && typeof v.pid === 'number' && typeof v.runId === 'string' && typeof v.heartbeatAt === 'string') {
      return { job: String(v.job ?? ''), host: v.host, pid: v.pid, runId: v.runId, startedAt: String(v.startedAt ?? v.heartbeatAt), heartbeatAt: v.heartbeatAt };
    }
  } catch {
    // not a lease Tessera wrote
  }
  return undefined;
}

