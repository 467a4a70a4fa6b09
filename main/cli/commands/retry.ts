import { Command } from 'commander';
import { UserError, isUserError } from '../../core/errors';
import { loadJobFile } from '../../core/job/job-file';
import { acquireJobLock, type JobLock } from '../../core/job/lock';
import { FileJobRepository, readJobState } from '../../core/job/repository';
import { retryPatch, tilesToRetry, type RetrySelection } from '../../core/job/retry';
import type { TileState } from '../../../shared/tile-state';

/**
 * `tessera retry JOB.json [TILE…|--failed|--cancelled]`: sends failed (or cancelled, or named) tiles back to
 * the queue with a fresh retry allowance; the next `tessera run` exports them again. It writes the job's
 * journal, so it takes the job's lock: a job another process drives is refused (that process has no
 * channel for other processes; its dashboard retries tiles).
 */
export function retryCommand(): Command {
  return new Command('retry')
    .description('send failed (or cancelled, or the named) tiles back to the queue; the next run exports them again')
    .argument('<job.json>', 'the job file')
    .argument('[tiles...]', 'tile ids (default: every failed tile)')
    .option('--failed', 'every failed tile (the default)')
    .option('--cancelled', 'every cancelled tile')
    .action(async (jobPath: string, ids: string[], opts: { failed?: boolean; cancelled?: boolean }) => {
      if (ids.length && (opts.failed || opts.cancelled)) throw new UserError('give tile ids or --failed / --cancelled, not both');
      const states: TileState[] = [...(opts.failed || (!opts.cancelled && !ids.length) ? (['failed'] as const) : []), ...(opts.cancelled ? (['cancelled'] as const) : [])];
      const selection: RetrySelection = ids.length ? { tiles: ids } : { states };
      const job = await loadJobFile(jobPath);
      if (!(await readJobState(job.stateDir))) throw new UserError(`${job.name} has not started yet: nothing to retry (run: tessera run ${jobPath})`);
      let lock: JobLock;
      try {
        lock = await acquireJobLock(job.stateDir, `tessera retry ${jobPath}`);
      } catch (e) {
        if (isUserError(e) && e.exitCode === 3) {
          throw new UserError(`${job.name} is being run by another process (${e.message.replace(/^the job is locked by /, '').replace(/; stop that process first.*$/, '')}); retry from its dashboard (tessera serve), or stop it and run tessera retry again`, 3);
        }
        throw e;
      }
      const repo = await FileJobRepository.open(job.stateDir);
      try {
        const tiles = tilesToRetry(repo.state, selection);
        if (tiles.length === 0) {
          process.stdout.write(`${job.name}: no ${states.join(' or ')} tiles: nothing to retry\n`);
          return;
        }
        await repo.append(...tiles.map((t) => ({ type: 'tile' as const, id: t.id, patch: retryPatch() })));
        const shown = tiles.slice(0, 10).map((t) => t.id).join(', ') + (tiles.length > 10 ? `, … (${tiles.length - 10} more)` : '');
        process.stdout.write(`${job.name}: ${tiles.length} tile${tiles.length === 1 ? '' : 's'} will be exported again (${shown}); run: tessera run ${jobPath}\n`);
      } finally {
        await repo.close();
        await lock.release();
      }
    });
}
