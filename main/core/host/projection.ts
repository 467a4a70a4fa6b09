import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FINAL_TILE_STATES, type JobProgress } from '../../../shared/contract';
import type { JobSummary, JobView, TileDetail, TileView } from '../../../shared/dashboard';
import { boundsOfFlatRings } from '../../../shared/flat-rings';
import { summarizeTiles } from '../engine/progress';
import type { Job } from '../job/job-file';
import type { TileRecord } from '../job/state';
import { HostError } from './host-error';
import type { HostedJob } from './hosted-job';
import { outline } from './map-geometry';

/**
 * The dashboards' view of a hosted job (docs/ARCHITECTURE.md): its tiles as drawn, its progress (the
 * live runner's while it runs, else derived from the journal), its summary and one tile's detail.
 */

export function tileDetail(h: HostedJob, id: string): TileDetail {
  const name = h.job.name;
  const t = h.repo.state.tiles[id];
  if (!t) throw new HostError(404, `job ${name} has no tile ${id}`);
  return {
    job: name,
    id: t.id,
    crs: t.crs,
    crsTransform: [...t.crsTransform],
    dimensions: [...t.dimensions],
    state: t.state,
    attempt: t.attempt,
    retriesUsed: t.retriesUsed ?? 0,
    description: t.description ?? null,
    operation: t.operation ?? null,
    error: t.error ?? null,
    ...(t.via ? { via: t.via } : {}),
    eecuSeconds: t.eecuSeconds ?? null,
    notBefore: t.notBefore ?? null,
    history: t.history.map((x) => ({ state: x.state, at: x.at })),
    files: t.files.map((f) => ({ id: f.id, name: f.name, size: f.size, md5: f.md5, verified: f.verified, cleaned: f.cleaned })),
    ring: h.views.get(id)?.ring ?? [],
  };
}

export function progressOf(h: HostedJob): JobProgress {
  const live = h.running ? h.session?.runner : undefined;
  if (live) return live.progress();
  const records = Object.values(h.repo.state.tiles);
  const { tiles, total, throughputPerHour, etaSeconds, planned, split } = summarizeTiles(records, 50, h.repo.state.meta.waiting === 'paused');
  return {
    planned,
    ...(split ? { split } : {}),
    job: h.job.name,
    total,
    tiles,
    queued: (tiles.queued ?? 0) + (tiles.submitting ?? 0),
    running: tiles.running ?? 0,
    waiting: h.repo.state.meta.waiting ?? null,
    throughputPerHour,
    etaSeconds: h.end ? null : etaSeconds,
    bytesDownloaded: 0,
    finished: records.length > 0 && records.every((t) => FINAL_TILE_STATES.includes(t.state)),
  };
}

type DriveFigures = Pick<JobSummary['drive'], 'pendingBytes' | 'pendingFiles' | 'unlistedTiles' | 'unlistedBytes' | 'downloadedBytes'>;

/**
 * What the tiles' files hold in Drive: bytes and files not cleaned up yet, bytes downloaded, and the
 * exported tiles whose files are not listed yet (their size guessed from the listed tiles' average).
 */
function driveFigures(tiles: readonly TileRecord[]): DriveFigures {
  const d = { pendingBytes: 0, pendingFiles: 0, unlistedTiles: 0, downloadedBytes: 0 };
  const listed = { tiles: 0, bytes: 0 };
  for (const t of tiles) {
    if (t.state === 'split') continue; // its parts carry the files
    if (t.state === 'exported' && t.files.length === 0) d.unlistedTiles++;
    if (t.files.length) listed.tiles++;
    for (const f of t.files) {
      listed.bytes += f.size;
      if (f.verified) d.downloadedBytes += f.size;
      if (!f.cleaned) {
        d.pendingBytes += f.size;
        d.pendingFiles++;
      }
    }
  }
  return { ...d, unlistedBytes: listed.tiles ? Math.round((listed.bytes / listed.tiles) * d.unlistedTiles) : 0 };
}

/** EECU-seconds used so far, and projected over every tile that will run from those measured (null before any). */
function eecuFigures(tiles: readonly TileRecord[]): { usedSeconds: number; projectedSeconds: number | null } {
  let used = 0;
  let measured = 0;
  let toRun = 0;
  for (const t of tiles) {
    if (t.state === 'split') continue; // its parts run instead
    if (t.state !== 'skipped' && t.state !== 'cancelled') toRun++;
    if (t.eecuSeconds === undefined) continue;
    used += t.eecuSeconds;
    measured++;
  }
  return { usedSeconds: used, projectedSeconds: measured > 0 ? Math.max(used, (used / measured) * toRun) : null };
}

export function summaryOf(h: HostedJob): JobSummary {
  // No filtered copy: at a million units every summary would make one more array of them.
  const tiles = Object.values(h.repo.state.tiles);
  return {
    name: h.job.name,
    file: h.job.file,
    assetFolder: h.job.assetFolder ?? null,
    bucket: h.job.gcs ? { bucket: h.job.gcs.bucket, prefix: h.job.gcs.prefix } : null,
    progress: progressOf(h),
    quota: h.feed.quota,
    drive: { ...driveFigures(tiles), reserveBytes: h.job.driveReserveBytes, cleanup: h.job.cleanup },
    eecu: { ...eecuFigures(tiles), budgetSeconds: h.job.eecuBudgetHours !== undefined ? h.job.eecuBudgetHours * 3600 : null },
    running: Boolean(h.running),
    outcome: h.end ? { exitCode: h.end.exitCode, message: h.end.message } : null,
    log: [...h.feed.log],
    results: h.end && !h.job.assetFolder ? finishedResults(h.job) : null,
  };
}

export function viewOf(h: HostedJob): JobView {
  return { ...summaryOf(h), tiles: [...h.views.values()].map((v) => ({ ...v })), roi: h.roi, bounds: h.bounds };
}

/** Adds the tiles not drawn yet (outline computed once); answers the added ones. */
export function addViews(h: HostedJob, records: TileRecord[]): TileView[] {
  const added: TileView[] = [];
  for (const t of records) {
    if (h.views.has(t.id)) continue;
    const v: TileView = { id: t.id, state: t.state, attempt: t.attempt, ring: outline(t) };
    h.views.set(t.id, v);
    added.push(v);
  }
  return added;
}

export function boundsOf(h: HostedJob): [number, number, number, number] | null {
  return boundsOfFlatRings(h.roi, [...h.views.values()].map((v) => v.ring));
}

/** The files a finished job's run left in its output folder (the dashboard's links to them). */
function finishedResults(job: Job): { folder: string; mosaic: string | null; summary: string | null } {
  const at = (name: string) => {
    const path = join(job.output, name);
    return existsSync(path) ? path : null;
  };
  return { folder: job.output, mosaic: at(`${job.name}.vrt`), summary: at(`${job.name}.summary.txt`) ?? at(`${job.name}.summary.json`) };
}
