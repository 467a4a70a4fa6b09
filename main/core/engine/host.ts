import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { appendFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { CommandSchema, FINAL_TILE_STATES, type Command, type EngineEvent, type JobProgress, type Quota } from '../../../shared/contract';
import {
  GridPreviewRequestSchema, NewJobRequestSchema, RecipeCheckRequestSchema, UPLOAD_EXTENSIONS, UPLOAD_MAX_BYTES,
  type RecipeCheck, type UploadResult,
  type CommandResult, type DashboardSnapshot, type GridPreview, type JobSummary, type JobView, type LogEntry, type NewJobResult, type StreamMessage, type TileDetail, type TileView,
} from '../../../shared/dashboard';
import { UserError } from '../errors';
import { readBoundedFile, ROI_MAX_BYTES } from '../fs-bounded';
import { resolveCrs, transformer, WGS84, type PointTransform } from '../geo/crs';
import { Drive } from '../google/drive';
import { EarthEngine } from '../google/earthengine';
import type { Session } from '../google/session';
import { buildGrid, tileOutline } from '../grid';
import { loadJobFile, parseJob, type Job } from '../job/job-file';
import { acquireJobLock, type JobLock } from '../job/lock';
import { checkLocalInputs, freshStateFolder } from '../job/local-checks';
import { FileJobRepository, type JobRepository } from '../job/repository';
import type { NewEntry, TileRecord } from '../job/state';
import { loadRoi, type LayerInfo } from '../roi';
import { GeoPackage, looksLikeSqlite } from '../roi/geopackage';
import { notifyWebhook } from './notify';
import { summarizeTiles } from './progress';
import { builtInBytesPerPixel, builtInImage } from './recipe';
import { JobRunner, type DrivePort, type RunOutcome } from './runner';
import { mergeAssets, mergeOutputCount, mergeWanted } from './merge';
import { loadRecipe, type EeConnection, type Recipe } from '../recipes';
import { checkRecipe } from '../recipes/check';
import { updateResults, writeSummary } from '../recipes/results';
import { boundsOfFlatRings } from '../../../shared/flat-rings';
import { maxPixelsProblem, maxPixelsSent } from '../../../shared/estimate';

/** How the host signs in for a job's Earth Engine project (the CLI's stored sign-in, the app's vault…). */
export type HostConnect = (project: string | undefined) => Promise<{ session: Session; timeScale: number }>;

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

/** Why the wizard refuses a custom recipe when they are off. */
export const CUSTOM_RECIPES_OFF = 'custom recipe files are off in this tessera serve: restart it with --allow-custom-recipes to use them (README, "Security"); presets work without it';

/** How a run ended: the runner's outcome, or an error that stopped it (exit code 1 or the UserError's). */
export interface RunEnd {
  exitCode: number;
  message: string | null;
  outcome?: RunOutcome;
  /** Asset jobs: what the merge made (one line). */
  merged?: string;
}

/** A request the host refuses: `status` is the HTTP status a server answers with. */
export class HostError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413,
    message: string,
  ) {
    super(message);
    this.name = 'HostError';
  }
}

interface Connection {
  session: Session;
  ee: EarthEngine;
  /** What a recipe worker needs to build expressions with its own client. */
  eeConnection: EeConnection;
  drive: DrivePort;
  timeScale: number;
  project: string;
}

interface HostedJob {
  readonly job: Job;
  readonly lock: JobLock;
  readonly repo: FileJobRepository;
  readonly observed: JobRepository;
  readonly conn: Connection;
  /** What each tile exports (undefined: the built-in image). */
  readonly recipe: Recipe | undefined;
  /** Tiles as drawn: outline computed once, state kept current from the journal. */
  readonly views: Map<string, TileView>;
  roi: number[][];
  bounds: [number, number, number, number] | null;
  runner: JobRunner | undefined;
  abort: AbortController | undefined;
  running: Promise<void> | undefined;
  end: RunEnd | null;
  quota: Quota | null;
  log: LogEntry[];
  logLines: string[];
  logFlush: Promise<void> | undefined;
  lastProgressAt: number;
  progressTimer: NodeJS.Timeout | undefined;
  pendingProgress: JobProgress | undefined;
  quotaTimer: NodeJS.Timeout | undefined;
  quotaAt: number;
  quotaReading: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

/** Straight-edge tolerance of tile outlines, in degrees (~0.1 m). */
const SIMPLIFY_DEGREES = 1e-6;

/**
 * Runs several jobs as `tessera run` would (lock, journal, sign-in, the same JobRunner), and keeps what a
 * dashboard shows: every tile with its outline in EPSG:4326 (computed once) and current state, each job's
 * progress, Drive quota and recent log. Commands of the contract come in (validated), its events go out,
 * numbered so a client can join a snapshot and the stream without a gap. Plain Node: `tessera serve`
 * uses it, and so will the desktop shell.
 */
export class JobHost {
  private readonly jobs = new Map<string, HostedJob>();
  private readonly listeners = new Set<(m: StreamMessage) => void>();
  private readonly connections = new Map<string, Promise<Connection>>();
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
      const conn = await this.connection(job.project);
      const recipe = await loadRecipe(job, conn.eeConnection);
      repo = await FileJobRepository.open(job.stateDir);
      const views = new Map<string, TileView>();
      const h: HostedJob = {
        job, lock, repo, conn, recipe, views,
        observed: observe(repo, (entries) => this.journaled(h, entries)),
        roi: [], bounds: null,
        runner: undefined, abort: undefined, running: undefined, end: null,
        quota: null, log: [], logLines: [], logFlush: undefined,
        lastProgressAt: 0, progressTimer: undefined, pendingProgress: undefined,
        quotaTimer: undefined, quotaAt: 0, quotaReading: false, idleTimer: undefined,
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

  /**
   * The job wizard's live preview: the layers of the ROI file, the grid's tile count, pixel and byte
   * estimates and the first tiles' outlines, computed by the same grid code as `tessera grid`.
   * Bad input is a HostError 400 with one line.
   */
  async previewGrid(input: unknown): Promise<GridPreview> {
    const parsed = GridPreviewRequestSchema.safeParse(input);
    if (!parsed.success) throw new HostError(400, `invalid grid preview: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
    const req = parsed.data;
    if (!isAbsolute(req.roi.path)) throw new HostError(400, 'give the ROI file as an absolute path');
    try {
      const layers = await roiLayers(req.roi.path);
      // Several layers and none chosen yet: preview the first polygon layer (the form offers the others).
      const layer = req.roi.layer ?? (layers.length > 1 ? (layers.find((l) => /POLYGON/i.test(l.geometryType)) ?? layers[0])?.name : undefined);
      const roi = await loadRoi(req.roi.path, { layer });
      const grid = buildGrid(roi, { crs: resolveCrs(req.grid.crs), scale: req.grid.scale, tilePixels: req.grid.tilePixels }, { bands: req.bands, dataType: req.dataType });
      // What the runner sends: export.maxPixels when set, else each tile's own pixel count (shared/estimate.ts).
      const maxPixels = maxPixelsSent(grid.estimate.pixelsPerTile, req.maxPixels);
      const e = grid.estimate;
      return {
        layers,
        layer: roi.layer,
        tiles: grid.tiles.length,
        pixelsPerTile: e.pixelsPerTile,
        bytesPerTile: e.bytesPerTile,
        totalPixels: e.totalPixels,
        totalBytes: e.totalBytes,
        maxPixels,
        overMaxPixels: maxPixelsProblem(e.pixelsPerTile, req.maxPixels) !== undefined,
        warnings: [...roi.warnings, ...grid.warnings],
        preview: grid.tiles.slice(0, 5000).map((t) => outline(t)).filter((r) => r.length >= 6),
      };
    } catch (e) {
      if (e instanceof UserError) throw new HostError(400, e.message);
      throw e;
    }
  }

  /**
   * The job wizard's result: validates the request (the same schema as the form), checks the job as
   * `tessera run` would, writes the job file (never over an existing one), adds the job and starts it.
   */
  async createJob(input: unknown): Promise<NewJobResult> {
    const parsed = NewJobRequestSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new HostError(400, `${issue.path.join('.')}: ${issue.message}`);
    }
    const { file, job, start } = parsed.data;
    if (job.recipe && 'file' in job.recipe && !this.options.allowCustomRecipes) throw new HostError(403, CUSTOM_RECIPES_OFF);
    if (!isAbsolute(file)) throw new HostError(400, 'file: give where to save the job file as an absolute path');
    if (this.jobs.has(job.name)) throw new HostError(409, `a job named "${job.name}" is already open here`);
    try {
      parseJob(JSON.parse(JSON.stringify(job)), file);
    } catch (e) {
      if (e instanceof UserError) throw new HostError(400, e.message);
      throw e;
    }
    await mkdir(dirname(file), { recursive: true });
    try {
      await writeFile(file, JSON.stringify(job, null, 2) + '\n', { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new HostError(409, `${file} exists already; choose another file`);
      throw e;
    }
    let name: string;
    try {
      name = await this.add(file);
    } catch (e) {
      if (e instanceof UserError) throw new HostError(e.exitCode === 3 ? 409 : 400, e.message);
      throw e;
    }
    if (start) this.start(name);
    return { ok: true, name, file };
  }

  /**
   * The wizard's recipe field: builds the recipe for the first tile of the ROI and grid without exporting,
   * with the logic of `tessera recipes check` (checkRecipe). A recipe that does not build answers
   * `{ ok: false, message }` (the file's line included); a malformed request is a HostError 400.
   */
  async checkRecipe(input: unknown): Promise<RecipeCheck> {
    const parsed = RecipeCheckRequestSchema.safeParse(input);
    if (!parsed.success) throw new HostError(400, `invalid recipe check: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
    const req = parsed.data;
    if (!isAbsolute(req.roi.path)) throw new HostError(400, 'give the ROI file as an absolute path');
    if ('file' in req.recipe && !this.options.allowCustomRecipes) return { ok: false, message: CUSTOM_RECIPES_OFF };
    if ('file' in req.recipe && !isAbsolute(req.recipe.file)) return { ok: false, message: 'give the recipe file as an absolute path' };
    try {
      const base = this.options.uploadsDir ?? dirname(req.roi.path);
      const job = parseJob({ name: 'recipe-check', roi: req.roi, grid: req.grid, drive: { folder: 'tessera-recipe-check' }, output: join(base, '.recipe-check'), recipe: req.recipe }, join(base, 'recipe-check.json'));
      if ('file' in req.recipe) await stat(req.recipe.file).catch(() => {
        throw new UserError(`no recipe file at ${req.recipe && 'file' in req.recipe ? req.recipe.file : ''}`);
      });
      const c = await this.connection(job.project);
      const r = await checkRecipe(job, { connection: () => c.eeConnection, compute: (make) => c.ee.compute(make) });
      return { ok: true, ...r };
    } catch (e) {
      if (e instanceof UserError) return { ok: false, message: e.message };
      throw e;
    }
  }

  /**
   * A file sent from a browser for the wizard (tessera serve cannot learn a path from a page): kept as
   * `<uploadsDir>/<sha-256 prefix>/<sanitised name>` — the name reduced to letters, digits, `.`, `-` and
   * `_` (never a folder), the content-addressed folder so an upload never replaces another one (a job's
   * fingerprint covers its ROI file). At most UPLOAD_MAX_BYTES (413 beyond). Answers the stored path.
   */
  async saveUpload(name: string, body: AsyncIterable<Uint8Array>): Promise<UploadResult> {
    const dir = this.options.uploadsDir;
    if (!dir) throw new HostError(404, 'this host keeps no uploads: give the file as a path');
    const safe = uploadName(name);
    if (/\.js$/i.test(safe) && !this.options.allowCustomRecipes) throw new HostError(403, CUSTOM_RECIPES_OFF);
    // Private: what a user sends may be unpublished data (files 0600, folders 0700; docs/security.md).
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = join(dir, `.incoming-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const out = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
    // A write error (disk full, permissions) at any moment is kept and thrown here, never left unhandled.
    let failed: Error | undefined;
    out.on('error', (e) => (failed ??= e));
    try {
      for await (const chunk of body) {
        if (failed) throw failed;
        size += chunk.length;
        if (size > UPLOAD_MAX_BYTES) throw new HostError(413, `${safe} is larger than ${UPLOAD_MAX_BYTES / 1024 ** 2} MB`);
        hash.update(chunk);
        // events.once takes its listeners off again (a listener per wait would pile up on a big upload).
        if (!out.write(chunk)) await once(out, 'drain');
      }
      if (failed) throw failed;
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      const folder = join(dir, hash.digest('hex').slice(0, 16));
      const path = join(folder, safe);
      await mkdir(folder, { recursive: true, mode: 0o700 });
      const existing = await stat(path).catch(() => undefined);
      if (existing) await rm(temp, { force: true });
      else await rename(temp, path);
      return { ok: true, path, name: safe, size };
    } catch (e) {
      out.destroy();
      await rm(temp, { force: true }).catch(() => undefined);
      throw e;
    }
  }

  /** Starts (or restarts) the job's run; a job already running is left alone. */
  start(name: string): void {
    const h = this.hosted(name);
    if (h.running || this.stopping) return;
    const abort = new AbortController();
    const runner = this.newRunner(h, abort.signal);
    h.runner = runner;
    h.abort = abort;
    h.end = null;
    if (h.idleTimer) clearInterval(h.idleTimer);
    h.idleTimer = undefined;
    h.running = runner.run().then(
      async (outcome) => {
        const end: RunEnd = { exitCode: outcome.exitCode, message: outcome.needsUser?.message ?? failedMessage(outcome), outcome };
        // Asset jobs, as `tessera run` does: the merge (and the clean-up of the tile assets) once every tile is done.
        if (outcome.exitCode === 0 && !outcome.cancelled && h.job.assetFolder && mergeWanted(h.job, h.recipe?.kind === 'table')) {
          try {
            const merged = await mergeAssets(h.job, Object.values(h.repo.state.tiles), h.conn.ee, {
              timeScale: h.conn.timeScale,
              signal: abort.signal,
              log: (level, message) => this.runnerEvent(h, { type: 'log', job: h.job.name, level, message, at: new Date().toISOString() }),
            });
            if (merged.exitCode !== 0) Object.assign(end, { exitCode: merged.exitCode, message: merged.message });
            else end.merged = merged.message;
          } catch (e) {
            // Signed out mid-merge, a journal that cannot be written…: the job stops saying so (the merge resumes next run).
            Object.assign(end, { exitCode: e instanceof UserError ? e.exitCode : 1, message: `the merge stopped: ${(e as Error)?.message ?? String(e)}` });
          }
        }
        return this.ended(h, abort.signal, end);
      },
      (e: unknown) => this.ended(h, abort.signal, { exitCode: e instanceof UserError ? e.exitCode : 1, message: (e as Error)?.message ?? String(e) }),
    );
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
    return { seq: this.seq, jobs: [...this.jobs.values()].map((h) => this.view(h)) };
  }

  summary(name: string): JobSummary {
    return this.summaryOf(this.hosted(name));
  }

  tile(name: string, id: string): TileDetail {
    const h = this.hosted(name);
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
      eecuSeconds: t.eecuSeconds ?? null,
      notBefore: t.notBefore ?? null,
      history: t.history.map((x) => ({ state: x.state, at: x.at })),
      files: t.files.map((f) => ({ id: f.id, name: f.name, size: f.size, md5: f.md5, verified: f.verified, cleaned: f.cleaned })),
      ring: h.views.get(id)?.ring ?? [],
    };
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
    if (cmd.type === 'status') return { ok: true, progress: this.progressOf(h) };
    if (cmd.type === 'start') {
      this.start(cmd.job);
      return { ok: true };
    }
    const runner = h.running && h.runner ? h.runner : this.newRunner(h, new AbortController().signal);
    await runner.command(cmd);
    if (!h.running && (cmd.type === 'retry' || cmd.type === 'retry-failed' || cmd.type === 'skip' || cmd.type === 'resume')) {
      if (Object.values(h.repo.state.tiles).some((t) => !FINAL_TILE_STATES.includes(t.state))) this.start(cmd.job);
    }
    if (!h.running) this.queueProgress(h, this.progressOf(h), true);
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
    const used = new Set([...this.jobs.values()].map((h) => h.conn));
    for (const [key, c] of [...this.connections]) {
      const conn = await c.catch(() => undefined);
      if (!conn || !used.has(conn)) this.connections.delete(key);
    }
  }

  /**
   * An Earth Engine client signed in as the jobs are (the assets panel): the jobs' own when one is open —
   * the client is one per process — else the default project's.
   */
  async earthEngine(): Promise<EarthEngine> {
    for (const c of this.connections.values()) {
      const conn = await c.catch(() => undefined);
      if (conn) return conn.ee;
    }
    return (await this.connection(undefined)).ee;
  }

  /** Who the open jobs' connections are signed in as (the emulator's own sign-in included); null before any. */
  async signedInAs(): Promise<string | null> {
    for (const c of this.connections.values()) {
      const conn = await c.catch(() => undefined);
      if (conn?.session.email) return conn.session.email;
    }
    return null;
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
        for (const t of [h.progressTimer, h.quotaTimer]) if (t) clearTimeout(t);
        if (h.idleTimer) clearInterval(h.idleTimer);
        await this.flushLog(h);
        await h.recipe?.close().catch(() => undefined);
        await h.repo.close().catch(() => undefined);
        await h.lock.release().catch(() => undefined);
      }
      this.listeners.clear();
    })();
    return this.stopping;
  }

  // ---- runs --------------------------------------------------------------------------------------------

  private newRunner(h: HostedJob, signal: AbortSignal): JobRunner {
    return new JobRunner(h.job, h.observed, h.conn.ee, h.conn.drive, {
      timeScale: h.conn.timeScale,
      signal,
      onEvent: (e) => this.runnerEvent(h, e),
      image: (eeModule) => builtInImage(eeModule, h.job.export.dataType),
      recipe: h.recipe,
      bytesPerPixel: h.recipe?.bytesPerPixel ?? builtInBytesPerPixel(h.job.export.dataType),
      // The asset gate counts the merge's own assets too.
      ...(h.job.assetFolder && mergeWanted(h.job, h.recipe?.kind === 'table') ? { mergeAssets: (tiles: number) => mergeOutputCount(h.recipe?.kind === 'table' ? 'table' : 'mosaic', tiles) } : {}),
    });
  }

  private async ended(h: HostedJob, signal: AbortSignal, end: RunEnd): Promise<void> {
    h.running = undefined;
    h.abort = undefined;
    h.end = end;
    this.queueProgress(h, this.progressOf(h), true);
    if (signal.aborted) return;
    const level = end.exitCode === 0 ? 'info' : 'error';
    const where = h.job.assetFolder ? `assets in ${h.job.assetFolder}${end.merged ? `; merged: ${end.merged}` : ''}` : `outputs in ${h.job.output}`;
    const text = end.exitCode === 0 ? `finished: every tile done; ${where}` : `stopped (exit ${end.exitCode}): ${end.message ?? ''}`;
    this.runnerEvent(h, { type: 'log', job: h.job.name, level, message: text, at: new Date().toISOString() });
    this.refreshQuota(h, 0);
    h.idleTimer = setInterval(() => this.refreshQuota(h, this.options.quotaIdleIntervalMs), this.options.quotaIdleIntervalMs);
    h.idleTimer.unref();
    if (h.recipe || !h.job.assetFolder) {
      // As `tessera run` does: the mosaic or merged table, and the job summary.
      try {
        await writeSummary(h.job, h.repo.state, await updateResults(h.job, h.repo.state, undefined, (message) => this.runnerEvent(h, { type: 'log', job: h.job.name, level: 'warn', message, at: new Date().toISOString() })));
      } catch (e) {
        this.runnerEvent(h, { type: 'log', job: h.job.name, level: 'warn', message: `results could not be written (${(e as Error).message})`, at: new Date().toISOString() });
      }
    }
    this.options.onRunEnd?.(h.job.name, end);
    if (h.job.webhook && end.outcome) {
      const problem = await notifyWebhook(h.job.webhook, h.job.name, end.outcome);
      if (problem) this.runnerEvent(h, { type: 'log', job: h.job.name, level: 'warn', message: problem, at: new Date().toISOString() });
    }
  }

  private async connection(project: string | undefined): Promise<Connection> {
    const key = project ?? '';
    let c = this.connections.get(key);
    if (!c) {
      c = (async () => {
        const { session, timeScale } = await this.options.connect(project);
        // The Earth Engine client is one per process: every job here must use the same project.
        for (const [k, other] of this.connections) {
          const conn = k === key ? undefined : await other.catch(() => undefined);
          if (conn && conn.project !== session.project) {
            throw new UserError(`these jobs use different Earth Engine projects (${conn.project}, ${session.project}); serve one project's jobs at a time`);
          }
        }
        const ee = await EarthEngine.connect(session);
        return { session, ee, eeConnection: ee.connection(), drive: new Drive(session), timeScale, project: session.project };
      })();
      this.connections.set(key, c);
      c.catch(() => this.connections.delete(key));
    }
    return c;
  }

  // ---- state kept for the dashboard ----------------------------------------------------------------------

  /** Called with each batch of journal entries, after they are applied to the state. */
  private journaled(h: HostedJob, entries: NewEntry[]): void {
    for (const e of entries) {
      if (e.type === 'plan') {
        const added = addViews(h, e.tiles.map((t) => h.repo.state.tiles[t.id]!).filter(Boolean));
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
        if (e.patch.state === 'done') this.refreshQuota(h, this.options.quotaMinIntervalMs);
      }
    }
  }

  private runnerEvent(h: HostedJob, e: EngineEvent): void {
    switch (e.type) {
      case 'job-progress':
        this.queueProgress(h, e.progress, e.progress.finished);
        return;
      case 'quota':
        h.quota = e.quota;
        h.quotaAt = Date.now();
        break;
      case 'log':
        this.remember(h, { level: e.level, message: e.message, at: e.at });
        this.writeLog(h, `${e.level === 'info' ? '' : `${e.level}: `}${e.message}`, e.at);
        break;
      case 'tile-state':
        // Every transition is kept for the log panel (bounded by recentLog), as the job's log file has it.
        this.remember(h, { level: e.state === 'failed' ? 'error' : e.state === 'retrying' ? 'warn' : 'info', message: `${e.tile} ${e.state}${e.message ? `: ${e.message}` : ''}`, at: e.at });
        this.writeLog(h, `${e.tile} ${e.state}${e.message ? `: ${e.message}` : ''}`, e.at);
        break;
    }
    this.broadcast({ kind: 'event', seq: 0, event: e });
  }

  /** Passes job-progress on at most every progressIntervalMs per job, the latest always arriving. */
  private queueProgress(h: HostedJob, progress: JobProgress, now = false): void {
    h.pendingProgress = progress;
    const wait = this.options.progressIntervalMs - (Date.now() - h.lastProgressAt);
    if (now || wait <= 0) {
      if (h.progressTimer) clearTimeout(h.progressTimer);
      h.progressTimer = undefined;
      this.flushProgress(h);
    } else {
      h.progressTimer ??= setTimeout(() => {
        h.progressTimer = undefined;
        this.flushProgress(h);
      }, wait);
    }
  }

  private flushProgress(h: HostedJob): void {
    const progress = h.pendingProgress;
    if (!progress) return;
    h.pendingProgress = undefined;
    h.lastProgressAt = Date.now();
    this.broadcast({ kind: 'event', seq: 0, event: { type: 'job-progress', progress } });
  }

  /** Reads Drive's quota again unless it was read within `maxAgeMs` (then once that age is reached). */
  private refreshQuota(h: HostedJob, maxAgeMs: number): void {
    if (this.stopping) return;
    const wait = Math.max(0, h.quotaAt + maxAgeMs - Date.now());
    if (h.quotaTimer) {
      if (wait > 0 || h.quotaReading) return; // one already planned (or under way)
      clearTimeout(h.quotaTimer);
    }
    h.quotaTimer = setTimeout(() => {
      h.quotaReading = true;
      h.quotaAt = Date.now();
      h.conn.drive.quota().then(
        (q) => {
          h.quotaTimer = undefined;
          h.quotaReading = false;
          if (this.stopping) return;
          const quota: Quota = { ...q, at: new Date().toISOString() };
          h.quota = quota;
          this.broadcast({ kind: 'event', seq: 0, event: { type: 'quota', job: h.job.name, quota } });
        },
        () => {
          h.quotaReading = false;
          h.quotaTimer = undefined; // offline or signed out: the run reports that; try again later
        },
      );
    }, wait);
    h.quotaTimer.unref();
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

  private remember(h: HostedJob, entry: LogEntry): void {
    h.log.push(entry);
    if (h.log.length > this.options.recentLog) h.log.splice(0, h.log.length - this.options.recentLog);
  }

  /** Appends to `<stateDir>/log` in batches (one write per burst of lines), in order. */
  private writeLog(h: HostedJob, line: string, at: string): void {
    if (!this.options.writeLog) return;
    h.logLines.push(`${at} ${line}\n`);
    h.logFlush ??= new Promise<void>((resolve) => setTimeout(resolve, 200)).then(() => this.flushLog(h));
  }

  private async flushLog(h: HostedJob): Promise<void> {
    while (h.logLines.length) {
      const text = h.logLines.join('');
      h.logLines = [];
      try {
        await mkdir(h.job.stateDir, { recursive: true });
        await appendFile(join(h.job.stateDir, 'log'), text);
      } catch {
        // the log is a convenience: a full disk is reported by the run itself
      }
    }
    h.logFlush = undefined;
  }

  private hosted(name: string): HostedJob {
    const h = this.jobs.get(name);
    if (!h) throw new HostError(404, `no job named ${name}`);
    return h;
  }

  private progressOf(h: HostedJob): JobProgress {
    if (h.runner && h.running) return h.runner.progress();
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

  private summaryOf(h: HostedJob): JobSummary {
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
      progress: this.progressOf(h),
      quota: h.quota,
      drive: { pendingBytes, pendingFiles, unlistedTiles, unlistedBytes: listedTiles ? Math.round((listedBytes / listedTiles) * unlistedTiles) : 0, reserveBytes: h.job.driveReserveBytes, downloadedBytes, cleanup: h.job.cleanup },
      eecu: { usedSeconds: used, projectedSeconds: projected, budgetSeconds: h.job.eecuBudgetHours !== undefined ? h.job.eecuBudgetHours * 3600 : null },
      running: Boolean(h.running),
      outcome: h.end ? { exitCode: h.end.exitCode, message: h.end.message } : null,
      log: [...h.log],
      results: h.end && !h.job.assetFolder ? finishedResults(h.job) : null,
    };
  }

  private view(h: HostedJob): JobView {
    return { ...this.summaryOf(h), tiles: [...h.views.values()].map((v) => ({ ...v })), roi: h.roi, bounds: h.bounds };
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

// ---- geometry for the map ------------------------------------------------------------------------------

const transforms = new Map<string, PointTransform>();

function toWgs84(crs: string): PointTransform {
  let t = transforms.get(crs);
  if (!t) transforms.set(crs, (t = transformer(resolveCrs(crs), WGS84)));
  return t;
}

function addViews(h: HostedJob, records: TileRecord[]): TileView[] {
  const added: TileView[] = [];
  for (const t of records) {
    if (h.views.has(t.id)) continue;
    const v: TileView = { id: t.id, state: t.state, attempt: t.attempt, ring: outline(t) };
    h.views.set(t.id, v);
    added.push(v);
  }
  return added;
}

/**
 * A tile's outline in EPSG:4326 as a flat ring: the densified edges of `tessera grid --out`, each edge
 * simplified back to its corners where it is straight (most tiles: 4 points instead of 32).
 */
export function outline(t: Pick<TileRecord, 'id' | 'crs' | 'crsTransform' | 'dimensions'>): number[] {
  let ring: [number, number][];
  try {
    ring = tileOutline({ id: t.id, i: 0, j: 0, crs: t.crs, crsTransform: t.crsTransform, dimensions: t.dimensions }, toWgs84(t.crs));
  } catch {
    return [];
  }
  ring.pop(); // closed → open
  const side = ring.length / 4;
  const out: number[] = [];
  for (let e = 0; e < 4; e++) {
    const edge = ring.slice(e * side, (e + 1) * side + 1);
    if (e === 3) edge.push(ring[0]!);
    const kept = simplify(edge, SIMPLIFY_DEGREES);
    for (let k = 0; k < kept.length - 1; k++) {
      const [x, y] = kept[k]!;
      if (Number.isFinite(x) && Number.isFinite(y)) out.push(round6(x), round6(y));
    }
  }
  return out.length >= 6 ? out : [];
}

/** Douglas–Peucker on one polyline (keeps both ends). */
function simplify(points: [number, number][], tolerance: number): [number, number][] {
  if (points.length <= 2) return points;
  const keep = new Uint8Array(points.length);
  keep[0] = 1;
  keep[points.length - 1] = 1;
  const stack: [number, number][] = [[0, points.length - 1]];
  while (stack.length) {
    const [a, b] = stack.pop()!;
    const [ax, ay] = points[a]!;
    const [bx, by] = points[b]!;
    const dx = bx - ax;
    const dy = by - ay;
    const len = Math.hypot(dx, dy) || 1;
    let worst = -1;
    let at = -1;
    for (let k = a + 1; k < b; k++) {
      const [px, py] = points[k]!;
      const d = Math.abs(dy * (px - ax) - dx * (py - ay)) / len;
      if (!(d <= worst)) {
        worst = d;
        at = k;
      }
    }
    if (at > 0 && !(worst <= tolerance)) {
      keep[at] = 1;
      stack.push([a, at], [at, b]);
    }
  }
  return points.filter((_, k) => keep[k]);
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/**
 * An uploaded file's name as stored: its last path part, reduced to letters, digits, `.`, `-` and `_`, no
 * leading dot, at most 100 characters, with one of the wizard's extensions (else a HostError 400).
 */
export function uploadName(raw: string): string {
  const last = raw.split(/[\\/]/).pop() ?? '';
  const ext = extname(last).toLowerCase();
  if (!(UPLOAD_EXTENSIONS as readonly string[]).includes(ext)) throw new HostError(400, `send a ${UPLOAD_EXTENSIONS.join(', ')} file, not "${last.slice(0, 80)}"`);
  let stem = last.slice(0, last.length - ext.length).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 100 - ext.length);
  if (!stem) stem = 'upload';
  return `${stem}${ext}`;
}

/** The ROI's rings in EPSG:4326 (flat [lon, lat, …]), for drawing its outline over the tiles. */
/** The layers of an ROI file: a GeoPackage's tables, or the one layer of a GeoJSON file. */
async function roiLayers(path: string): Promise<LayerInfo[]> {
  const bytes = await readBoundedFile(path, { label: path, maxBytes: ROI_MAX_BYTES, hint: 'give a .gpkg or .geojson file', missing: `ROI file not found: ${path}` });
  if (!looksLikeSqlite(bytes)) return [{ name: basename(path, extname(path)), geometryType: 'GEOJSON', featureCount: 0 }];
  const gpkg = await GeoPackage.open(bytes, basename(path));
  try {
    return gpkg.layers();
  } finally {
    gpkg.close();
  }
}

async function roiOutline(job: Job): Promise<number[][]> {
  const roi = await loadRoi(job.roi.path, { layer: job.roi.layer });
  const fwd = transformer(roi.crs, WGS84);
  const rings: number[][] = [];
  for (const mp of roi.features) {
    for (const poly of mp) {
      for (const ring of poly) {
        const flat: number[] = [];
        for (const [x, y] of ring) {
          const [lon, lat] = fwd(x, y);
          if (Number.isFinite(lon) && Number.isFinite(lat)) flat.push(round6(lon), round6(lat));
        }
        if (flat.length >= 6) rings.push(flat);
      }
    }
  }
  return rings;
}

function boundsOf(h: HostedJob): [number, number, number, number] | null {
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
