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

export function summaryOf(h: HostedJob): JobSummary {
  let pendingBytes = 0;
  let downloadedBytes = 0;
  let listedBytes = 0;
  let listedTiles = 0;
  let pendingFiles = 0;
  let unlistedTiles = 0;
  let used = 0;
  let measured = 0;
  let count = 0;
  let notRun = 0;
  for (const t of Object.values(h.repo.state.tiles)) {
    if (t.state === 'split') continue;
    count++;
    if (t.state === 'skipped' || t.state === 'cancelled') notRun++;
    if (t.eecuSeconds !== undefined) {
      used += t.eecuSeconds;
      measured++;
    }
    if (t.state === 'exported' && t.files.length === 0) unlistedTiles++;
    if (t.files.length) {
      listedTiles++;
      for (const f of t.files) listedBytes += f.size;
    }
    for (const f of t.files) {
      if (f.verified) downloadedBytes += f.size;
      if (!f.cleaned) {
        pendingBytes += f.size;
        pendingFiles++;
      }
    }
  }
  const projected = measured > 0 ? Math.max(used, (used / measured) * (count - notRun)) : null;
  return {
    name: h.job.name,
    file: h.job.file,
    assetFolder: h.job.assetFolder ?? null,
    bucket: h.job.gcs ? { bucket: h.job.gcs.bucket, prefix: h.job.gcs.prefix } : null,
    progress: progressOf(h),
    quota: h.feed.quota,
    drive: { pendingBytes, pendingFiles, unlistedTiles, unlistedBytes: listedTiles ? Math.round((listedBytes / listedTiles) * unlistedTiles) : 0, reserveBytes: h.job.driveReserveBytes, downloadedBytes, cleanup: h.job.cleanup },
    eecu: { usedSeconds: used, projectedSeconds: projected, budgetSeconds: h.job.eecuBudgetHours !== undefined ? h.job.eecuBudgetHours * 3600 : null },
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
