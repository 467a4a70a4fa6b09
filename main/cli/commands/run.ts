import { Command } from 'commander';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EarthEngine } from '../../core/google/earthengine';
import { Drive } from '../../core/google/drive';
import { loadJobFile } from '../../core/job/job-file';
import { acquireJobLock } from '../../core/job/lock';
import { FileJobRepository } from '../../core/job/repository';
import { JobRunner } from '../../core/engine/runner';
import { builtInBytesPerPixel, builtInImage } from '../../core/engine/recipe';
import { notifyWebhook } from '../../core/engine/notify';
import { connect } from '../connect';
import { createDisplay } from '../display';

export function runCommand(): Command {
  return new Command('run')
    .description('run a job until every tile is done (re-running resumes)')
    .argument('<job.json>', 'the job file')
    .option('--emulator <url>', 'send every Google request to this emulator (signs in by itself)')
    .action(async (jobPath: string, opts: { emulator?: string }) => {
      const job = await loadJobFile(jobPath);
      const lock = await acquireJobLock(job.stateDir, `tessera run ${jobPath}`);
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      mkdirSync(job.stateDir, { recursive: true });
      const logPath = join(job.stateDir, 'log');
      const display = createDisplay(process.stdout, (line) => appendFileSync(logPath, `${new Date().toISOString()} ${line}\n`));
      const repo = await FileJobRepository.open(job.stateDir);
      try {
        const { session, timeScale } = await connect(opts.emulator, job.project);
        const ee = await EarthEngine.connect(session);
        const runner = new JobRunner(job, repo, ee, new Drive(session), {
          timeScale,
          signal: abort.signal,
          onEvent: (e) => display.event(e),
          image: (eeModule) => builtInImage(eeModule, job.export.dataType),
          bytesPerPixel: builtInBytesPerPixel(job.export.dataType),
        });
        const outcome = await runner.run();
        display.close();
        if (outcome.failed.length) {
          process.stderr.write(`${outcome.failed.length} tile(s) failed:\n`);
          for (const f of outcome.failed.slice(0, 50)) process.stderr.write(`  ${f.id}: ${f.error}\n`);
        }
        if (outcome.exitCode === 0) process.stdout.write(`${job.name}: all ${outcome.progress.total} tiles done; outputs in ${job.output}\n`);
        if (outcome.needsUser) process.stderr.write(`tessera: ${outcome.needsUser.message}\n`);
        if (job.webhook && outcome.exitCode !== 130) {
          const problem = await notifyWebhook(job.webhook, job.name, outcome);
          if (problem) process.stderr.write(`warning: ${problem}\n`);
        }
        process.exitCode = outcome.exitCode;
      } finally {
        display.close();
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
        await repo.close();
        await lock.release();
      }
    });
}
