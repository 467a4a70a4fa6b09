import { Command } from 'commander';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Drive } from '../../core/google/drive';
import { loadJobFile } from '../../core/job/job-file';
import { acquireJobLock } from '../../core/job/lock';
import { FileJobRepository } from '../../core/job/repository';
import { checkLocalInputs, freshStateFolder } from '../../core/job/local-checks';
import { stopSignedOutBeforeRun } from '../../core/engine/signed-out';
import { loadRecipe, type Recipe } from '../../core/recipes';
import { buildCog } from '../../core/recipes/results';
import { JobSession } from '../../core/session/job-session';
import { scaledClock, systemClock } from '../../core/ports/clock';
import { connectEarthEngine } from '../../core/session/connect-ee';
import { connect } from '../connect';
import { createDisplay } from '../display';
import { logSessionMarker, outputsPlace, sessionStartLine, stopCause, stopReport } from '../session';
import { gcsClientFor } from '../../core/gcs/session-client';
import { PreviewMaker, previewHook } from '../../core/preview';

export function runCommand(): Command {
  return new Command('run')
    .description('run a job until every tile is done (re-running resumes)')
    .argument('<job.json>', 'the job file')
    .option('--emulator <url>', 'send every Google request to this emulator (signs in by itself)')
    .option('--cog', 'at the end, also build one Cloud-Optimized GeoTIFF of the mosaic with GDAL (when installed)')
    .option('--adopt', "take over this job's Earth Engine operations that another run started (a lost journal, another machine)")
    .option('--overwrite', "let the run replace files in the output folder that have the job's output names but were not written by it")
    .action(async (jobPath: string, opts: { emulator?: string; cog?: boolean; adopt?: boolean; overwrite?: boolean }) => {
      const job = await loadJobFile(jobPath);
      // Bad input is refused before anything is made; a refusal found later removes the state folder it made.
      await checkLocalInputs(job);
      const fresh = await freshStateFolder(job.stateDir);
      const lock = await acquireJobLock(job.stateDir, `tessera run ${jobPath}`);
      const abort = new AbortController();
      let stoppedBy: NodeJS.Signals | undefined;
      const stop = (signal: NodeJS.Signals) => {
        // A second Ctrl-C does not wait for the run to wind down (the journal is consistent at every step).
        if (stoppedBy) process.exit(130);
        stoppedBy = signal;
        process.stderr.write(`\n${stopCause(signal)}: finishing the step in progress (press Ctrl-C again to quit at once)…\n`);
        abort.abort();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      mkdirSync(job.stateDir, { recursive: true });
      const logPath = join(job.stateDir, 'log');
      const display = createDisplay(process.stdout, (line) => appendFileSync(logPath, `${new Date().toISOString()} ${line}\n`));
      logSessionMarker(logPath, sessionStartLine(`tessera run ${jobPath}`));
      let sessionEnd = 'ended by an error';
      const repo = await FileJobRepository.open(job.stateDir);
      // Quicklooks of finished units (docs/previews.md), drawn beside the run, never on the download path.
      const previews = new PreviewMaker(job.stateDir);
      const preview = previewHook(job, previews, (id) => repo.state.tiles[id]);
      let recipe: Recipe | undefined;
      try {
        const { session: signedIn, timeScale, ee } = await connect(opts.emulator, job.project)
          // A 5xx of the client's start-up request is tried again, then stops the run with exit 3 (docs/transient-start.md).
          .then(async (c) => ({ ...c, ee: await connectEarthEngine(c.session, c.timeScale, (m) => process.stderr.write(`warning: ${m}\n`)) }))
          .catch(async (e: unknown) => {
            // Signed out before the first request (refused refresh, an unticked box): the job waits `signed-out` and its webhook hears.
            const problem = await stopSignedOutBeforeRun(job, repo, e);
            if (problem) process.stderr.write(`warning: ${problem}\n`);
            throw e;
          });
        recipe = await loadRecipe(job, ee.connection());
        const warn = (message: string) => process.stderr.write(`warning: ${message}\n`);
        const session = new JobSession({
          job, store: repo, ee, clients: { drive: new Drive(signedIn), gcs: gcsClientFor(signedIn) }, clock: scaledClock(systemClock, timeScale), recipe,
          signal: abort.signal,
          onEvent: (e) => {
            display.event(e);
            preview(e);
          },
          warn,
          adopt: opts.adopt === true,
          overwrite: opts.overwrite === true,
        });
        const { outcome, merged, results: made, exitCode } = await session.run();
        display.close();
        if (made.mosaic) process.stdout.write(`mosaic: ${made.mosaic}\n`);
        if (opts.cog && made.mosaic && outcome.exitCode === 0) {
          const cog = await buildCog(job, made.mosaic);
          if ('path' in cog) process.stdout.write(`single GeoTIFF (COG): ${cog.path}\n`);
          else process.stderr.write(`warning: ${cog.problem}\n`);
        }
        if (made.table) process.stdout.write(`table: ${made.table.path} (${made.table.rows} rows)\n`);
        if (outcome.failed.length) {
          process.stderr.write(`${outcome.failed.length} tile(s) failed:\n`);
          for (const f of outcome.failed.slice(0, 50)) process.stderr.write(`  ${f.id}: ${f.error}\n`);
        }
        if (outcome.exitCode === 0 && !job.assetFolder) process.stdout.write(`${job.name}: all ${outcome.progress.total} tiles done; outputs in ${job.output}\n`);
        if (outcome.exitCode === 0 && job.assetFolder) process.stdout.write(`${job.name}: all ${outcome.progress.total} tiles done; assets in ${job.assetFolder}\n`);
        if (merged && merged.exitCode === 0) process.stdout.write(`merged: ${merged.message}\n`);
        if (merged && merged.exitCode !== 0) process.stderr.write(`tessera: ${merged.message}\n`);
        if (outcome.needsUser) process.stderr.write(`tessera: ${outcome.needsUser.message}\n`);
        if (outcome.exitCode === 130) for (const line of stopReport(stopCause(stoppedBy), outcome.progress, jobPath, outputsPlace(job))) process.stderr.write(`${line}\n`);
        process.exitCode = exitCode;
        sessionEnd = outcome.exitCode === 130 ? `${stopCause(stoppedBy)} (exit 130; ${outcome.progress.queued + outcome.progress.running} tasks left in Earth Engine)` : `exit ${process.exitCode}, ${outcome.progress.tiles.done ?? 0}/${outcome.progress.total} tiles done`;
      } finally {
        // A stopped run leaves the rest of the quicklooks to the next run or the dashboard (drawn on demand).
        await (stoppedBy || process.exitCode ? previews.stop() : previews.idle());
        await recipe?.close();
        display.close();
        logSessionMarker(logPath, `session end: ${sessionEnd}`);
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
        await repo.close();
        await lock.release();
        await fresh.discardIfUnused();
      }
    });
}
