import { Command } from 'commander';
import { join } from 'node:path';
import { TILE_STATES } from '../../../shared/contract';
import { summarizeTiles } from '../../core/engine/progress';
import { loadJobFile } from '../../core/job/job-file';
import { readLock } from '../../core/job/lock';
import { readJobState } from '../../core/job/repository';
import { readMergeState } from '../../core/engine/merge';
import { formatDuration } from '../display';

export function statusCommand(): Command {
  return new Command('status')
    .description('show a job’s tiles by state, waiting reason, throughput and ETA')
    .argument('<job.json>', 'the job file')
    .option('--json', 'print one JSON object')
    .action(async (jobPath: string, opts: { json?: boolean }) => {
      const job = await loadJobFile(jobPath);
      const state = await readJobState(job.stateDir);
      const records = Object.values(state?.tiles ?? {});
      const { tiles, total, throughputPerHour, etaSeconds } = summarizeTiles(records);
      const holder = await readLock(join(job.stateDir, 'lock'));
      const summary = {
        job: job.name,
        total,
        tiles,
        waiting: state?.meta.waiting ?? null,
        throughputPerHour,
        etaSeconds,
        runningBy: holder ? { pid: holder.pid, host: holder.host, since: holder.startedAt } : null,
        eecuSeconds: records.reduce((s, t) => s + (t.eecuSeconds ?? 0), 0),
        failed: records.filter((t) => t.state === 'failed').map((t) => ({ id: t.id, error: t.error ?? '' })),
        // Asset jobs: the merge of the tile assets (null before it starts).
        ...(job.assetFolder ? { merge: await readMergeState(job.stateDir) } : {}),
      };
      if (opts.json) {
        process.stdout.write(JSON.stringify(summary) + '\n');
        return;
      }
      if (!state) {
        process.stdout.write(`${job.name}: not started yet (run: tessera run ${jobPath})\n`);
        return;
      }
      const lines = [`${job.name}: ${tiles.done}/${total} tiles done${holder ? ` · running (pid ${holder.pid})` : ''}`];
      lines.push('  ' + TILE_STATES.filter((s) => tiles[s]).map((s) => `${s} ${tiles[s]}`).join(' · '));
      if (summary.waiting) lines.push(`  waiting: ${summary.waiting}`);
      if (summary.merge) lines.push(`  merge into ${summary.merge.target}: ${summary.merge.state}${summary.merge.deleted ? ` (${summary.merge.deleted} temporary assets deleted)` : ''}`);
      if (throughputPerHour) lines.push(`  ${throughputPerHour.toFixed(1)} tiles/h · ETA ${formatDuration(etaSeconds ?? 0)}`);
      for (const f of summary.failed.slice(0, 20)) lines.push(`  failed ${f.id}: ${f.error}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
