import type { Command, EngineEvent } from '../../../shared/contract';
import { float64Warning, type OutputShape } from '../../../shared/estimate';
import { UserError } from '../errors';
import type { EarthEngine } from '../google/earthengine';
import type { Job } from '../job/job-file';
import type { Recipe } from '../recipes';
import { shapeOfBuiltImage } from '../recipes/output-shape';
import { writeSummary, type JobSummary } from '../recipes/results';
import { mergeAssets, mergeOutputCount, mergeWanted } from '../engine/merge';
import { notifyWebhook } from '../engine/notify';
import { planTiles } from '../engine/plan';
import { checkPeriodChange } from '../engine/period-plan';
import { builtInBytesPerPixel, builtInImage } from '../engine/recipe';
import { JobRunner, type RunOutcome } from '../engine/runner';
import type { DestinationClients } from '../destination/port';
import { systemClock, type Clock } from '../ports/clock';
import type { Store } from '../ports/store';
import { resultsWriter } from './results-writer';

export interface JobSessionDeps {
  job: Job;
  store: Store;
  /** The signed-in Earth Engine client (exports, and the recipe's first-tile build). */
  ee: EarthEngine;
  clients: DestinationClients;
  recipe: Recipe | undefined;
  signal: AbortSignal;
  /** Every engine event of the run (tile states, progress, quota, log lines). */
  onEvent(e: EngineEvent): void;
  /** A problem worth one line that does not stop the job (results, summary, webhook). */
  warn(message: string): void;
  /**
   * The run (and the merge) ended; results, summary and webhook follow. A host marks the job as no
   * longer running here, as it did before the session wrote results.
   */
  ran?(end: Pick<SessionEnd, 'outcome' | 'merged'>): void;
  adopt?: boolean;
  overwrite?: boolean;
  /**
   * The one clock the run and the merge take: wall-clock now, Google's durations at an emulator's pace
   * (`scaledClock`, ports/clock.ts). Default: the system clock, as with Google.
   */
  clock?: Clock;
}

/** How a session ended: the run's outcome, what the merge and the results made, the exit code. */
export interface SessionEnd {
  outcome: RunOutcome;
  /** Asset jobs with a merge: its exit code and one line. */
  merged?: { exitCode: number; message: string };
  /** The mosaic (VRT) or merged table written for the job's outputs. */
  results: Pick<JobSummary, 'mosaic' | 'table'>;
  /** The run's exit code, or the merge's when it failed. */
  exitCode: number;
}

/**
 * One job from start to end, the same for `tessera run`, `tessera serve` and the desktop app
 * (docs/ARCHITECTURE.md, "Job session"): preflight (the recipe builds for the first tile before anything
 * is sent, and its real bands size the space estimate) → run (the runner plans, sends, collects) →
 * results (the mosaic or merged table rewritten as units finish, the asset merge, the summary) → the
 * webhook. A run stopped on purpose (exit 130) writes no summary and calls no webhook.
 */
export class JobSession {
  private current: JobRunner | undefined;
  /** Commands that arrived during the preflight, applied once the runner exists (before it runs). */
  private readonly early: Command[] = [];
  /** Time for the run and the merge: wall-clock now, Google's durations at the emulator's pace. */
  private readonly clock: Clock;

  constructor(private readonly d: JobSessionDeps) {
    this.clock = d.clock ?? systemClock;
  }

  /** The run's runner once the preflight passed (commands and progress go to it). */
  get runner(): JobRunner | undefined {
    return this.current;
  }

  /** A command of the contract for this run (kept until the runner exists). */
  async command(cmd: Command): Promise<void> {
    if (this.current) await this.current.command(cmd);
    else this.early.push(cmd);
  }

  async run(): Promise<SessionEnd> {
    const { job, store, recipe, signal } = this.d;
    // A change of "periods" the journal cannot follow is refused before the recipe builds (docs/periods.md).
    checkPeriodChange(job, store);
    const shape = recipe ? await preflight(job, store, recipe, this.d.ee) : undefined;
    const f64 = shape && float64Warning(shape, job.export.dataType !== undefined);
    if (f64) this.d.onEvent({ type: 'log', job: job.name, level: 'warn', message: f64, at: new Date().toISOString() });
    // The mosaic (or merged table) and the summary: for every job with local outputs, and for recipe jobs.
    const wantsResults = !!recipe || !job.assetFolder;
    const results = resultsWriter(job, store, this.d.warn);
    const merging = !!job.assetFolder && mergeWanted(job, recipe?.kind === 'table');
    const runner = new JobRunner(job, store, this.d.ee, this.d.clients.drive, {
      clock: this.clock,
      signal,
      clients: this.d.clients,
      onEvent: (e) => {
        this.d.onEvent(e);
        if (wantsResults && e.type === 'tile-state' && e.state === 'done') results.soon(e.tile);
      },
      image: (eeModule) => builtInImage(eeModule, job.export.dataType),
      recipe,
      adopt: this.d.adopt === true,
      overwrite: this.d.overwrite === true,
      // The recipe's real bands and types (asked from EE for the first tile), else what it declares.
      bytesPerPixel: shape?.bytesPerPixel ?? recipe?.bytesPerPixel ?? builtInBytesPerPixel(job.export.dataType),
      // The asset gate counts the merge's own assets too.
      ...(merging ? { mergeAssets: (tiles: number) => mergeOutputCount(recipe?.kind === 'table' ? 'table' : 'mosaic', tiles) } : {}),
    });
    this.current = runner;
    for (const cmd of this.early.splice(0)) await runner.command(cmd);
    const outcome = await runner.run();
    const merged = merging && outcome.exitCode === 0 && !outcome.cancelled ? await this.merge() : undefined;
    this.d.ran?.({ outcome, merged });
    const made = wantsResults ? await results.now() : {};
    if (wantsResults && outcome.exitCode !== 130) await writeSummary(job, store.state, made).catch((e: Error) => this.d.warn(`the job summary could not be written (${e.message})`));
    if (job.webhook && outcome.exitCode !== 130) {
      const problem = await notifyWebhook(job.webhook, job.name, outcome);
      if (problem) this.d.warn(problem);
    }
    return { outcome, merged, results: made, exitCode: merged && merged.exitCode !== 0 ? merged.exitCode : outcome.exitCode };
  }

  /** Asset jobs: the merge (and the clean-up of the tile assets) once every unit is done. */
  private async merge(): Promise<{ exitCode: number; message: string }> {
    const { job, store } = this.d;
    try {
      return await mergeAssets(job, Object.values(store.state.tiles), this.d.ee, {
        clock: this.clock,
        signal: this.d.signal,
        log: (level, message) => this.d.onEvent({ type: 'log', job: job.name, level, message, at: new Date().toISOString() }),
      });
    } catch (e) {
      // Signed out mid-merge, a journal that cannot be written…: the job stops saying so (the merge resumes next run).
      return { exitCode: e instanceof UserError ? e.exitCode : 1, message: `the merge stopped: ${(e as Error)?.message ?? String(e)}` };
    }
  }
}

/**
 * Builds the first unit's expression before anything is sent: a recipe that does not build (a syntax
 * error, an exception, a wrong return type, a time-out) stops the run with its message and no EE task.
 */
async function preflight(job: Job, store: Store, recipe: Recipe, ee: EarthEngine): Promise<OutputShape | undefined> {
  const tiles = Object.values(store.state.tiles).length ? Object.values(store.state.tiles) : (await planTiles(job)).tiles;
  const first = recipe.kind === 'table' ? (tiles.find((t) => (recipe.pointsFor(t)?.length ?? 1) > 0) ?? tiles[0]) : tiles[0];
  if (!first) return undefined;
  const built = await recipe.build(first);
  // Its bands and types, for the Drive-space estimate and the Float64 warning (output-shape.ts).
  return built.kind === 'image' ? shapeOfBuiltImage(ee, built.make, job.export.dataType) : undefined;
}
