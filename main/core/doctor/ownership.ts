import type { Operation } from '../google/earthengine';
import type { TileRecord } from '../job/state';
import { hostname } from 'node:os';
import { LEASE_STALE_MS, parseLease } from '../sync/lease';
import { pidAlive } from '../../common/process';
import type { FolderFile } from './drive-folder';
import { hasPeriodUnits } from '../sync/names';
import { tileOfOutputName as unitOfOutputName } from '../sync/local-guard';

/**
 * What in a job's Drive folder and Earth Engine project is not provably this journal's (read-only, for
 * `tessera doctor`; the rules are in docs/signin-and-doctor.md, "folder"). Pure functions over what Drive,
 * Earth Engine and the journal say, so a run's own ownership checks can share them.
 */

export { leaseFileName } from '../sync/lease';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The tile id an output file name claims (`{job}_{tile}.tif`, split parts `-yMin-xMin`), or undefined; in
 * a job with periods the unit id (`{periodId}@{tileId}`) of `{job}_{tile}_{periodId}.tif`.
 */
export function tileOfOutputName(job: string, name: string, withPeriods = false): string | undefined {
  if (withPeriods) return unitOfOutputName(job, name, true);
  const m = new RegExp(`^${escapeRe(job)}_(.+?)(?:-\\d+-\\d+)?\\.(?:tif|csv|geojson)$`).exec(name);
  return m?.[1];
}

/** When the tile's current attempt was submitted (its last `submitting`), in ms; undefined if never. */
function submittedAt(tile: TileRecord): number | undefined {
  const at = tile.history.findLast((h) => h.state === 'submitting')?.at;
  return at ? Date.parse(at) : undefined;
}

const LIVE_STATES = new Set(['submitting', 'queued', 'running', 'exported', 'downloading', 'verified']);

/**
 * Files carrying the job's output names that its journal cannot claim: neither recorded as a tile's output,
 * nor created after the tile's live attempt was submitted. Those are an earlier run's or the user's own.
 */
export function foreignOutputFiles(job: string, files: readonly FolderFile[], tiles: Readonly<Record<string, TileRecord>>): FolderFile[] {
  const known = new Set<string>();
  for (const t of Object.values(tiles)) for (const f of t.files) known.add(f.id);
  // A job with periods names its outputs with the period too (docs/periods.md#names).
  const withPeriods = hasPeriodUnits(tiles);
  return files.filter((f) => {
    const tileId = tileOfOutputName(job, f.name, withPeriods);
    if (tileId === undefined || known.has(f.id)) return false;
    const tile = tiles[tileId];
    if (!tile || !LIVE_STATES.has(tile.state)) return true;
    const since = submittedAt(tile);
    const created = f.createdTime ? Date.parse(f.createdTime) : Number.NaN;
    return since === undefined || !(created >= since);
  });
}

export interface LeaseInfo {
  host: string | null;
  pid: number | null;
  heartbeatMs: number | null;
  /** Heartbeat younger than 15 minutes, and not a dead process of this machine (docs/signin-and-doctor.md#folder-what-is-foreign). */
  live: boolean;
}

/**
 * Reads a lease file's content (sync/lease.ts writes it). With no readable heartbeat, the file's creation
 * time stands for it (a lease written and never renewed).
 */
export function readLease(text: string, now: number, createdTime?: string | null, alive: (pid: number) => boolean = pidAlive): LeaseInfo {
  const lease = parseLease(text);
  const beat = lease ? Date.parse(lease.heartbeatAt) : createdTime ? Date.parse(createdTime) : Number.NaN;
  const heartbeatMs = Number.isFinite(beat) ? beat : null;
  const deadHere = !!lease && lease.host === hostname() && !alive(lease.pid);
  return {
    host: lease?.host ?? null,
    pid: lease?.pid ?? null,
    heartbeatMs,
    live: !deadHere && (heartbeatMs === null || now - heartbeatMs < LEASE_STALE_MS),
  };
}


const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/**
 * Earth Engine operations of the job (description `{job}_…`) the journal does not hold: neither a tile's
 * recorded operation, nor an earlier attempt of a tile the journal has gone past, nor the attempt a tile is
 * still sending (its answer not yet journalled). Split into those still running and those that ended.
 */
export function foreignOperations(job: string, ops: readonly Operation[], tiles: Readonly<Record<string, TileRecord>>): { live: Operation[]; ended: Operation[] } {
  const recorded = new Set(Object.values(tiles).flatMap((t) => (t.operation ? [t.operation] : [])));
  const live: Operation[] = [];
  const ended: Operation[] = [];
  const pattern = new RegExp(`^${escapeRe(job)}_(.+)_a(\\d+)$`);
  for (const op of ops) {
    const description = op.metadata?.description ?? '';
    if (!description.startsWith(`${job}_`) || recorded.has(op.name)) continue;
    const m = pattern.exec(description);
    const tile = m ? tiles[m[1] as string] : undefined;
    const attempt = m ? Number(m[2]) : Number.NaN;
    if (tile && (attempt < tile.attempt || (attempt === tile.attempt && tile.state === 'submitting' && !tile.operation))) continue;
    (TERMINAL.has(op.metadata?.state ?? '') || op.done ? ended : live).push(op);
  }
  return { live, ended };
}
