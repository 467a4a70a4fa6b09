import { z } from 'zod';
import { CommandSchema, FINAL_TILE_STATES, type Command } from '../../../shared/contract';
import type {
  CommandResult, DashboardSnapshot, GridPreview, JobSummary, NewJobResult, RecipeCheck, StreamMessage, TileDetail, TileView, UploadResult,
} from '../../../shared/dashboard';
import { UserError } from '../errors';
import type { EarthEngine } from '../google/earthengine';
import type { Session } from '../google/session';
import { loadJobFile, type Job } from '../job/job-file';
import { acquireJobLock } from '../job/lock';
import { checkLocalInputs, freshStateFolder } from '../job/local-checks';
import { FileJobRepository, type JobRepository } from '../job/repository';
import type { NewEntry } from '../job/state';
import { ConnectionPool, type HostConnect } from '../host/connections';
import { HostError } from '../host/host-error';
import type { HostedJob, RunEnd } from '../host/hosted-job';
import { JobFeed } from '../host/job-feed';
import { roiOutline } from '../host/map-geometry';
import { compactViewOf } from '../host/compact-grid';
import type { CompactSnapshot } from '../../../shared/compact-view';
import { addViews, boundsOf, progressOf, summaryOf, tileDetail, viewOf } from '../host/projection';
import { WizardServices } from '../host/wizard';
import { JobSession } from '../session/job-session';
import { loadRecipe } from '../recipes';
import { builtInBytesPerPixel } from './recipe';
import { JobRunner, type RunOutcome } from './runner';

export type { HostConnect } from '../host/connections';
export type { RunEnd } from '../host/hosted-job';
export { HostError } from '../host/host-error';
export { outline } from '../host/map-geometry';
export { CUSTOM_RECIPES_OFF, uploadName } from '../host/wizard';

export interface JobHostOptions {
  connect: HostConnect;
  /** What the job's lock file names as its holder. */
  holder?: string;
  /** Append each job's transitions and log lines to `<stateDir>/log`, as `tessera run` does (default true). */
  writeLog?: boolean;
  /** Log entries kept per job for the dashboard (default 200). */
  recentLog?: number;
  /** Drive's quota is read again at most this often while tiles finish, and when idle (ms; defaults 5 000, 60 000). */
  quotaMinIntervalMs?: number;
  quotaIdleIntervalMs?: number;
  /** job-progress events are passed on at most this often per job (ms, default 250); the last one always is. */
  progressIntervalMs?: number;
  /** Called when a run of a job ends (not when it was stopped by `stop()`). */
  onRunEnd?: (job: string, outcome: RunEnd) => void;
  /** Where files sent from a browser for the wizard (ROI, recipe) are kept; without it, uploads are refused. */
  uploadsDir?: string;
  /**
   * Custom recipe files through the wizard (upload, recipe check, new job): default true. `tessera serve`
   * turns it off unless started with --allow-custom-recipes: anyone with the page's token could otherwise
   * run code on this computer (docs/security.md, "Recipes"). Jobs opened from the command line are the user's own.
   */
  allowCustomRecipes?: boolean;
}

/**
 * Runs several jobs as `tessera run` would (lock, journal, sign-in, the same JobSession), and keeps what a
 * dashboard shows: every tile with its outline in EPSG:4326 (computed once) and current state, each job's
 * progress, Drive quota and recent log (host/job-feed.ts, host/projection.ts). Commands of the contract
 * come in (validated), its events go out, numbered so a client can join a snapshot and the stream
 * without a gap. Plain Node: `tessera serve` and the desktop shell use it.
 */
export class JobHost {
  private readonly jobs = new Map<string, HostedJob>();
  private readonly listeners = new Set<(m: StreamMessage) => void>();
  private readonly pool: ConnectionPool;
  private readonly wizard: WizardServices;
  private seq = 0;
  private stopping: Promise<void> | undefined;
  private readonly options: Required<Omit<JobHostOptions, 'onRunEnd' | 'uploadsDir'>> & Pick<JobHostOptions, 'onRunEnd' | 'uploadsDir'>;

  constructor(options: JobHostOptions) {
    this.options = {
      holder: 'tessera serve',
      writeLog: true,
      recentLog: 200,
      quotaMinIntervalMs: 5_000,
      quotaIdleIntervalMs: 60_000,
      progressIntervalMs: 250,
      allowCustomRecipes: true,
      ...options,
    };
    this.pool = new ConnectionPool(this.options.connect);
    this.wizard = new WizardServices({
      allowCustomRecipes: this.options.allowCustomRecipes,
      uploadsDir: this.options.uploadsDir,
      connection: (project) => this.pool.get(project),
      has: (name) => this.jobs.has(name),
      add: (file) => this.add(file),
      start: (name) => this.start(name),
    });
  }

  /**
   * Opens a job (its file, its lock, its journal) and signs in for it; the job does not run until
   * `start`. Throws a UserError as `tessera run` would (bad job file: 1; locked or signed out: 3).
   */
  async add(jobPath: string): Promise<string> {
    const job = await loadJobFile(jobPath);
    if (this.jobs.has(job.name)) throw new UserError(`two jobs are named "${job.name}"; give each job its own name`);
    // As `tessera run`: bad input is refused before the job's state folder is made (local-checks.ts).
    await checkLocalInputs(job);
    const fresh = await freshStateFolder(job.stateDir);
    const lock = await acquireJobLock(job.stateDir, `${this.options.holder} ${jobPath}`);
    let repo: FileJobRepository | undefined;
    try {
      const conn = await this.pool.get(job.project);
      const recipe = await loadRecipe(job, conn.eeConnection);
      repo = await FileJobRepository.open(job.stateDir);
      const views = new Map<string, TileView>();
      const o = this.options;
      const feed = new JobFeed({
        job, drive: conn.drive, broadcast: (m) => this.broadcast(m), stopping: () => this.stopping !== undefined,
        recentLog: o.recentLog, writeLog: o.writeLog, progressIntervalMs: o.progressIntervalMs, quotaMinIntervalMs: o.quotaMinIntervalMs, quotaIdleIntervalMs: o.quotaIdleIntervalMs,
      });
      const h: HostedJob = {
        job, lock, repo, conn, recipe, views, feed,
        observed: observe(repo, (entries) => this.journaled(h, entries)),
        roi: [], bounds: null,
        session: undefined, abort: undefined, running: undefined, end: null,
      };
      addViews(h, Object.values(repo.state.tiles));
      h.roi = await roiOutline(job).catch(() => []);
      h.bounds = boundsOf(h);
      this.jobs.set(job.name, h);
      if (this.listeners.size) this.broadcast({ kind: 'jobs', seq: 0 });
      return job.name;
    } catch (e) {
      await repo?.close();
      await lock.release();
      await fresh.discardIfUnused();
      throw e;
    }
  }

  /** The job wizard's live preview (host/wizard.ts). */
  previewGrid(input: unknown): Promise<GridPreview> {
    return this.wizard.previewGrid(input);
  }

  /** The job wizard's result: writes the job file, adds the job and starts it (host/wizard.ts). */
  createJob(input: unknown): Promise<NewJobResult> {
    return this.wizard.createJob(input);
  }

  /** The wizard's recipe field: builds the recipe for the first tile without exporting (host/wizard.ts). */
  checkRecipe(input: unknown): Promise<RecipeCheck> {
    return this.wizard.checkRecipe(input);
  }

  /** A file sent from a browser for the wizard (host/wizard.ts). */
  saveUpload(name: string, body: AsyncIterable<Uint8Array>): Promise<UploadResult> {
    return this.wizard.saveUpload(name, body);
  }

  /** Starts (or restarts) the job's session (session/job-session.ts); a job already running is left alone. */
  start(name: string): void {
    const h = this.hosted(name);
    if (h.running || this.stopping) return;
    const abort = new AbortController();
    const session = new JobSession({
      job: h.job,
      store: h.observed,
      ee: h.conn.ee,
      clients: { drive: h.conn.drive, gcs: h.conn.gcs },
      clock: h.conn.clock,
      recipe: h.recipe,
      signal: abort.signal,
      onEvent: (e) => h.feed.event(e),
      warn: (message) => h.feed.line('warn', message),
      // The run is over once the runner (and the merge) ended: results, summary and webhook follow.
      ran: ({ outcome, merged }) => {
        const end: RunEnd = { exitCode: outcome.exitCode, message: outcome.needsUser?.message ?? failedMessage(outcome), outcome };
        if (merged && merged.exitCode !== 0) Object.assign(end, { exitCode: merged.exitCode, message: merged.message });
        else if (merged) end.merged = merged.message;
        this.ended(h, abort.signal, end);
      },
    });
    h.session = session;
    h.abort = abort;
    h.end = null;
    h.feed.running();
    const running: Promise<void> = session.run().then(
      () => undefined,
      (e: unknown) => {
        // Stopped before the run ended (the preflight, the plan, an unwritable output folder…).
        if (h.running === running) this.ended(h, abort.signal, { exitCode: e instanceof UserError ? e.exitCode : 1, message: (e as Error)?.message ?? String(e) });
        else h.feed.line('warn', `the results could not be written (${(e as Error)?.message ?? String(e)})`);
      },
    );
    h.running = running;
  }

  startAll(): void {
    for (const name of this.jobs.keys()) this.start(name);
  }

  names(): string[] {
    return [...this.jobs.keys()];
  }

  /** True while some job's run is in progress. */
  busy(): boolean {
    return [...this.jobs.values()].some((h) => h.running);
  }

  /** Resolves when no job is running (each has finished, failed or needs the user). */
  async settled(): Promise<void> {
    for (;;) {
      const running = [...this.jobs.values()].flatMap((h) => (h.running ? [h.running] : []));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /** Every job with its tiles; `seq` is the stream position it includes. */
  snapshot(): DashboardSnapshot {
    return { seq: this.seq, jobs: [...this.jobs.values()].map(viewOf) };
  }

  /** The same jobs, each regular grid as one state byte per unit (shared/compact-view.ts): what dashboards load. */
  compactSnapshot(): CompactSnapshot {
    return { seq: this.seq, jobs: [...this.jobs.values()].map(compactViewOf) };
  }

  summary(name: string): JobSummary {
    return summaryOf(this.hosted(name));
  }

  tile(name: string, id: string): TileDetail {
    return tileDetail(this.hosted(name), id);
  }

  /**
   * Applies a command of the contract (validated here: anything may arrive from a page). `retry`, `skip`,
   * `resume` and `start` on a job whose run has ended start a new run when there is work again.
   */
  async command(input: unknown): Promise<CommandResult> {
    const parsed = CommandSchema.safeParse(input);
    if (!parsed.success) throw new HostError(400, `invalid command: ${z.prettifyError(parsed.error).replace(/\s*\n\s*/g, '; ')}`);
    const cmd: Command = parsed.data;
    const h = this.jobs.get(cmd.job);
    if (!h) throw new HostError(404, `no job named ${cmd.job}`);
    if (this.stopping) throw new HostError(409, 'tessera is stopping');
    if (cmd.type === 'status') return { ok: true, progress: progressOf(h) };
    if (cmd.type === 'start') {
      this.start(cmd.job);
      return { ok: true };
    }
    if (h.running && h.session) await h.session.command(cmd);
    else await this.idleRunner(h).command(cmd);
    if (!h.running && (cmd.type === 'retry' || cmd.type === 'retry-failed' || cmd.type === 'skip' || cmd.type === 'resume')) {
      if (Object.values(h.repo.state.tiles).some((t) => !FINAL_TILE_STATES.includes(t.state))) this.start(cmd.job);
    }
    if (!h.running) h.feed.progress(progressOf(h), true);
    return { ok: true };
  }

  /**
   * The stored sign-in changed (signed in again from a dashboard, signed out). Connections jobs hold take
   * the new refresh token — or lose theirs, and stop as signed out at their next request; idle connections
   * (a changed default project, the assets panel's) are forgotten and made afresh when next needed.
   * A new sign-in with another OAuth client reaches running jobs only after a restart.
   */
  async signInChanged(refreshToken: string | undefined): Promise<void> {
    await this.forgetIdleConnections();
    const used = new Set([...this.jobs.values()].map((h) => h.conn));
    for (const conn of used) conn.session.client.setCredentials(refreshToken ? { refresh_token: refreshToken } : {});
  }

  /** Forgets connections no job holds (the default project changed, the account changed). */
  async forgetIdleConnections(): Promise<void> {
    await this.pool.forgetIdle(new Set([...this.jobs.values()].map((h) => h.conn)));
  }

  /**
   * An Earth Engine client signed in as the jobs are (the assets panel): the jobs' own when one is open —
   * the client is one per process — else the default project's.
   */
  async earthEngine(): Promise<EarthEngine> {
    return ((await this.pool.any()) ?? (await this.pool.get(undefined))).ee;
  }

  /** Who the open jobs' connections are signed in as (the emulator's own sign-in included); null before any. */
  signedInAs(): Promise<string | null> {
    return this.pool.signedInAs();
  }

  /** An open job's definition (`tessera doctor`'s job checks in the dashboards); 404 for an unknown name. */
  jobOf(name: string): Job {
    return this.hosted(name).job;
  }

  /** Signs in as the jobs do, afresh (`tessera doctor` in the dashboards: it reports what fails instead of opening a job). */
  async signedInSession(project: string | undefined): Promise<Session> {
    return (await this.options.connect(project)).session;
  }

  /** Stream of messages (numbered); returns the unsubscribe function. */
  subscribe(listener: (m: StreamMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The stream position: the `seq` of the last message sent. */
  position(): number {
    return this.seq;
  }

  /**
   * Stops every run (as Ctrl-C stops `tessera run`: in-flight work is journaled, EE tasks keep running
   * and are found again next time), then closes the journals and releases the locks.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const h of this.jobs.values()) h.abort?.abort();
      await Promise.allSettled([...this.jobs.values()].map((h) => h.running));
      for (const h of this.jobs.values()) {
        await h.feed.close();
        await h.recipe?.close().catch(() => undefined);
        await h.repo.close().catch(() => undefined);
        await h.lock.release().catch(() => undefined);
      }
      this.listeners.clear();
    })();
    return this.stopping;
  }

  // ---- runs --------------------------------------------------------------------------------------------

  /** A runner for commands between runs (retry, skip, resume journal their change; nothing is sent). */
  private idleRunner(h: HostedJob): JobRunner {
    return new JobRunner(h.job, h.observed, h.conn.ee, h.conn.drive, {
      clock: h.conn.clock,
      signal: new AbortController().signal,
      onEvent: (e) => h.feed.event(e),
      recipe: h.recipe,
      bytesPerPixel: h.recipe?.bytesPerPixel ?? builtInBytesPerPixel(h.job.export.dataType),
    });
  }

  private ended(h: HostedJob, signal: AbortSignal, end: RunEnd): void {
    h.running = undefined;
    h.abort = undefined;
    h.end = end;
    h.feed.progress(progressOf(h), true);
    if (signal.aborted) return;
    const where = h.job.assetFolder ? `assets in ${h.job.assetFolder}${end.merged ? `; merged: ${end.merged}` : ''}` : `outputs in ${h.job.output}`;
    h.feed.line(end.exitCode === 0 ? 'info' : 'error', end.exitCode === 0 ? `finished: every tile done; ${where}` : `stopped (exit ${end.exitCode}): ${end.message ?? ''}`);
    h.feed.idle();
    this.options.onRunEnd?.(h.job.name, end);
  }

  // ---- state kept for the dashboard ----------------------------------------------------------------------

  /** Called with each batch of journal entries, after they are applied to the state. */
  private journaled(h: HostedJob, entries: NewEntry[]): void {
    for (const e of entries) {
      if (e.type === 'plan') {
        const added: TileView[] = addViews(h, e.tiles.map((t) => h.repo.state.tiles[t.id]!).filter(Boolean));
        if (added.length) {
          if (!h.bounds || added.length > 4) h.bounds = boundsOf(h);
          this.broadcast({ kind: 'tiles', seq: 0, job: h.job.name, tiles: added });
        }
      } else if (e.type === 'tile') {
        const v = h.views.get(e.id);
        const t = h.repo.state.tiles[e.id];
        if (v && t) {
          v.state = t.state;
          v.attempt = t.attempt;
        }
        if (e.patch.state === 'done') h.feed.tileDone();
      }
    }
  }

  private broadcast(m: StreamMessage): void {
    m.seq = ++this.seq;
    for (const l of this.listeners) {
      try {
        l(m);
      } catch {
        // one broken subscriber must not stop the others, nor the run
      }
    }
  }

  private hosted(name: string): HostedJob {
    const h = this.jobs.get(name);
    if (!h) throw new HostError(404, `no job named ${name}`);
    return h;
  }
}

function failedMessage(outcome: RunOutcome): string | null {
  if (!outcome.failed.length) return null;
  return `${outcome.failed.length} tile(s) failed: ${outcome.failed.slice(0, 3).map((f) => `${f.id}: ${f.error}`).join('; ')}`;
}

/** The repository as the runner sees it, telling the host about each batch of entries once applied. */
function observe(repo: JobRepository, onEntries: (entries: NewEntry[]) => void): JobRepository {
  return {
    get state() {
      return repo.state;
    },
    append(...entries: NewEntry[]) {
      const written = repo.append(...entries); // applied to the state synchronously, durable when resolved
      onEntries(entries);
      return written;
    },
    close: () => repo.close(),
  };
}
