import { Command } from 'commander';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EarthEngine } from '../../core/google/earthengine';
import { Drive } from '../../core/google/drive';
import { loadJobFile } from '../../core/job/job-file';
import { acquireJobLock } from '../../core/job/lock';
import { FileJobRepository } from '../../core/job/repository';
import { checkLocalInputs, freshStateFolder } from '../../core/job/local-checks';
import { JobRunner } from '../../core/engine/runner';
import { builtInBytesPerPixel, builtInImage } from '../../core/engine/recipe';
import { notifyWebhook } from '../../core/engine/notify';
import { stopSignedOutBeforeRun } from '../../core/engine/signed-out';
import { mergeAssets, mergeOutputCount, mergeWanted } from '../../core/engine/merge';
import { planTiles } from '../../core/engine/plan';
import { loadRecipe, type Recipe } from '../../core/recipes';
import { buildCog, updateResults, writeSummary, type JobSummary, type ResultsCache } from '../../core/recipes/results';
import type { Job } from '../../core/job/job-file';
import type { JobRepository } from '../../core/job/repository';
import { connect } from '../connect';
import { float64Warning, type OutputShape } from '../../../shared/estimate';
import { shapeOfBuiltImage } from '../../core/recipes/output-shape';
import { createDisplay } from '../display';
import { logSessionMarker, sessionStartLine, stopCause, stopReport } from '../session';

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
      let recipe: Recipe | undefined;
      try {
        const { session, timeScale, ee } = await connect(opts.emulator, job.project)
          .then(async (c) => ({ ...c, ee: await EarthEngine.connect(c.session) }))
          .catch(async (e: unknown) => {
            // Signed out before the first request (refused refresh, an unticked box): the job waits `signed-out` and its webhook hears.
            const problem = await stopSignedOutBeforeRun(job, repo, e);
            if (problem) process.stderr.write(`warning: ${problem}\n`);
            throw e;
          });
        recipe = await loadRecipe(job, ee.connection());
        const shape = recipe ? await preflight(job, repo, recipe, ee) : undefined;
        const f64 = shape && float64Warning(shape, job.export.dataType !== undefined);
        if (f64) display.event({ type: 'log', job: job.name, level: 'warn', message: f64, at: new Date().toISOString() });
        const results = resultsWriter(job, repo);
        // The mosaic (or merged table) and the summary: for every job with local outputs, and for recipe jobs.
        const wantsResults = !!recipe || !job.assetFolder;
        const runner = new JobRunner(job, repo, ee, new Drive(session), {
          timeScale,
          signal: abort.signal,
          onEvent: (e) => {
            display.event(e);
            if (wantsResults && e.type === 'tile-state' && e.state === 'done') results.soon(e.tile);
          },
          image: (eeModule) => builtInImage(eeModule, job.export.dataType),
          recipe,
          adopt: opts.adopt === true,
          overwrite: opts.overwrite === true,
          // The recipe's real bands and types (asked from EE for the first tile), else what it declares.
          bytesPerPixel: shape?.bytesPerPixel ?? recipe?.bytesPerPixel ?? builtInBytesPerPixel(job.export.dataType),
          ...(job.assetFolder && mergeWanted(job, recipe?.kind === 'table')
            ? { mergeAssets: (tiles: number) => mergeOutputCount(recipe?.kind === 'table' ? 'table' : 'mosaic', tiles) }
            : {}),
        });
        const outcome = await runner.run();
        // Asset jobs: the merge (and the clean-up of the tile assets) once every tile is done.
        let merged: Awaited<ReturnType<typeof mergeAssets>> | undefined;
        if (outcome.exitCode === 0 && !outcome.cancelled && job.assetFolder && mergeWanted(job, recipe?.kind === 'table')) {
          merged = await mergeAssets(job, Object.values(repo.state.tiles), ee, {
            timeScale,
            signal: abort.signal,
            log: (level, message) => display.event({ type: 'log', job: job.name, level, message, at: new Date().toISOString() }),
          });
        }
        const made = wantsResults ? await results.now() : {};
        if (wantsResults && outcome.exitCode !== 130) await writeSummary(job, repo.state, made).catch((e: Error) => process.stderr.write(`warning: the job summary could not be written (${e.message})\n`));
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
        if (job.webhook && outcome.exitCode !== 130) {
          const problem = await notifyWebhook(job.webhook, job.name, outcome);
          if (problem) process.stderr.write(`warning: ${problem}\n`);
        }
        if (outcome.exitCode === 130) for (const line of stopReport(stopCause(stoppedBy), outcome.progress, jobPath)) process.stderr.write(`${line}\n`);
        process.exitCode = merged && merged.exitCode !== 0 ? merged.exitCode : outcome.exitCode;
        sessionEnd = outcome.exitCode === 130 ? `${stopCause(stoppedBy)} (exit 130; ${outcome.progress.queued + outcome.progress.running} tasks left in Earth Engine)` : `exit ${process.exitCode}, ${outcome.progress.tiles.done ?? 0}/${outcome.progress.total} tiles done`;
      } finally {
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

/**
 * Builds the first tile's expression before anything is sent: a recipe that does not build (a syntax
 * error, an exception, a wrong return type, a time-out) stops the run with its message and no EE task.
 */
async function preflight(job: Job, repo: JobRepository, recipe: Recipe, ee: EarthEngine): Promise<OutputShape | undefined> {
  const tiles = Object.values(repo.state.tiles).length ? Object.values(repo.state.tiles) : (await planTiles(job)).tiles;
  const first = recipe.kind === 'table' ? (tiles.find((t) => (recipe.pointsFor(t)?.length ?? 1) > 0) ?? tiles[0]) : tiles[0];
  if (!first) return undefined;
  const built = await recipe.build(first);
  // Its bands and types, for the Drive-space estimate and the Float64 warning (output-shape.ts).
  return built.kind === 'image' ? shapeOfBuiltImage(ee, built.make, job.export.dataType) : undefined;
}

/**
 * Rewrites the mosaic / merged table as tiles arrive: at most one rewrite at a time, coalesced, and spaced
 * by 20× the last rewrite's time (at least 0.5 s), so a job of 100,000 tiles spends ≤ 5 % of a core on it.
 */
function resultsWriter(job: Job, repo: JobRepository) {
  let running: Promise<unknown> = Promise.resolve();
  let queued = false;
  let pauseMs = 500;
  const cache: ResultsCache = { headers: new Map() };
  const run = async (): Promise<Pick<JobSummary, 'mosaic' | 'table'>> => {
    const t0 = performance.now();
    try {
      return await updateResults(job, repo.state, cache, (m) => process.stderr.write(`warning: ${m}\n`));
    } catch (e) {
      process.stderr.write(`warning: results could not be updated (${(e as Error).message})\n`);
      return {};
    } finally {
      pauseMs = Math.max(500, 20 * (performance.now() - t0));
    }
  };
  return {
    /** A tile is done: rewrite soon (its id joins the cache's list once the list exists). */
    soon(tile: string): void {
      cache.done?.add(tile);
      if (queued) return;
      queued = true;
      running = running.then(() => new Promise((r) => setTimeout(r, pauseMs))).then(() => {
        queued = false;
        return run();
      });
    },
    async now() {
      await running;
      return run();
    },
  };
}
