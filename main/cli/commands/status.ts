import { Command } from 'commander';
import { join } from 'node:path';
import { FINAL_TILE_STATES, TILE_STATES, type TileCounts } from '../../../shared/contract';
import { summarizeTiles } from '../../core/engine/progress';
import { loadJobFile } from '../../core/job/job-file';
import { readLock } from '../../core/job/lock';
import { readJobState } from '../../core/job/repository';
import { readMergeState } from '../../core/engine/merge';
import { formatDuration } from '../display';
import { outputsPlace } from '../session';
import { countByPeriod } from '../../core/periods/status';

export function statusCommand(): Command {
  return new Command('status')
    .description('show a job’s tiles by state, waiting reason, throughput and ETA')
    .argument('<job.json>', 'the job file')
    .option('--json', 'print one JSON object')
    .action(async (jobPath: string, opts: { json?: boolean }) => {
      const job = await loadJobFile(jobPath);
      const state = await readJobState(job.stateDir);
      const records = Object.values(state?.tiles ?? {});
      const paused = state?.meta.waiting === 'paused';
      const { tiles: journaled, total, throughputPerHour, etaSeconds, planned, split } = summarizeTiles(records, 50, paused);
      const holder = await readLock(join(job.stateDir, 'lock'));
      const finished = records.length > 0 && records.every((t) => FINAL_TILE_STATES.includes(t.state));
      // "downloading" in the journal means "its files are listed"; only `downloads` of them can be in a slot.
      const { tiles, waitingForSlot } = downloadSlots(journaled, job.downloads, !!holder && !finished);
      const summary = {
        job: job.name,
        state: !state ? 'not started' : finished ? 'finished' : holder ? 'running' : 'stopped',
        total,
        planned,
        ...(split ? { split } : {}),
        tiles,
        waitingForDownloadSlot: waitingForSlot,
        waiting: state?.meta.waiting ?? null,
        throughputPerHour,
        etaSeconds,
        runningBy: holder ? { pid: holder.pid, host: holder.host, since: holder.startedAt } : null,
        eecuSeconds: records.reduce((s, t) => s + (t.eecuSeconds ?? 0), 0),
        failed: records.filter((t) => t.state === 'failed').map((t) => ({ id: t.id, error: t.error ?? '' })),
        // Drive files with the job's output names that are not its outputs (docs/ownership.md): left untouched.
        foreignFiles: state?.meta.foreignFiles?.length ?? 0,
        // Asset jobs: the merge of the tile assets (null before it starts).
        ...(job.assetFolder ? { merge: await readMergeState(job.stateDir) } : {}),
        // A time series: units by period and state (docs/periods.md#status); `tiles` counts units.
        ...(job.periods ? { periods: countByPeriod(records, job.periods) } : {}),
      };
      if (opts.json) {
        process.stdout.write(JSON.stringify(summary) + '\n');
        return;
      }
      if (!state) {
        process.stdout.write(`${job.name}: not started yet (run: tessera run ${jobPath})\n`);
        return;
      }
      const who = holder ? `${holder.command.split(' ').slice(0, 2).join(' ')} (pid ${holder.pid})` : '';
      const activity = finished ? ` · finished${holder ? `; held by ${who}` : ''}` : holder ? ` · running in ${who}` : ' · stopped (resume: tessera run)';
      const lines = [`${job.name}: ${planned.done}/${planned.total} ${job.periods ? 'units (tile × period)' : 'tiles'} done${split ? ` (${split.tiles} split into ${split.parts} parts, ${split.done} done)` : ''}${activity}`];
      lines.push('  ' + TILE_STATES.filter((s) => tiles[s]).map((s) => `${s} ${tiles[s]}`).join(' · '));
      for (const [id, counts] of Object.entries(summary.periods ?? {})) lines.push(`  ${id}: ${TILE_STATES.filter((s) => counts[s]).map((s) => `${s} ${counts[s]}`).join(' · ') || 'not planned yet'}`);
      if (summary.waiting) lines.push(`  waiting: ${summary.waiting}`);
      if (summary.foreignFiles) lines.push(`  ${summary.foreignFiles} ${job.gcs ? 'object(s)' : 'file(s)'} in ${outputsPlace(job)} with this job's output names are not its outputs; they were left untouched`);
      if (summary.merge) lines.push(`  merge into ${summary.merge.target}: ${summary.merge.state}${summary.merge.deleted ? ` (${summary.merge.deleted} temporary assets deleted)` : ''}`);
      if (waitingForSlot) lines.push(holder && !finished ? `  ${waitingForSlot} exported tile(s) waiting for a download slot (downloads: ${job.downloads})` : `  ${waitingForSlot} exported tile(s) waiting in ${outputsPlace(job)} for the next run`);
      if (throughputPerHour && !finished) lines.push(`  ${throughputPerHour.toFixed(1)} tiles/h${etaSeconds !== null && holder ? ` · ETA ${formatDuration(etaSeconds)}` : paused ? ' · paused' : ''}`);
      for (const f of summary.failed.slice(0, 20)) lines.push(`  failed ${f.id}: ${f.error}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}

/**
 * Tiles the journal has as `downloading` beyond the job's download slots are waiting for one (only
 * `downloads` run at a time; none while no run holds the job): shown as exported, waiting.
 */
function downloadSlots(tiles: TileCounts, downloads: number, running: boolean): { tiles: TileCounts; waitingForSlot: number } {
  const listed = tiles.downloading ?? 0;
  const active = running ? Math.min(listed, downloads) : 0;
  const waiting = listed - active;
  return { tiles: { ...tiles, downloading: active, exported: (tiles.exported ?? 0) + waiting }, waitingForSlot: waiting + (tiles.exported ?? 0) };
}
