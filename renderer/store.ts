import { type EngineEvent, type TileCounts, type TileState } from '../shared/contract';
import type { DashboardSnapshot, JobSummary, LogEntry, StreamMessage, TileView } from '../shared/dashboard';
import type { TesseraClient } from './api';
import type { ConnectionState } from './transport/types';
import { boundsOfFlatRings } from '../shared/flat-rings';
import { periodOf, zeroCounts } from './periods';
import { decodeGrid, stateOfCode, type CompactJob, type CompactSnapshot } from '../shared/compact-view';
import { UnitTable } from './units';

export interface JobModel {
  readonly name: string;
  summary: JobSummary;
  /** Units by id (the grid's as bytes, the others as objects, ./units.ts); a TileView read from it is kept in step. */
  readonly tiles: UnitTable;
  counts: Record<TileState, number>;
  roi: number[][];
  bounds: [number, number, number, number] | null;
  log: LogEntry[];
  /** A time series (docs/periods.md): its period ids in plan order; empty for a job without periods. */
  periods: string[];
  /** Units by period and state (the legend and progress of one period). */
  periodCounts: Map<string, Record<TileState, number>>;
}

/** What the map hears about: all tiles may have changed (a snapshot), tiles were added, or states changed. */
export type TileChange = { kind: 'reset' } | { kind: 'added'; tiles: TileView[] } | { kind: 'state'; ids: string[] };

const LOG_KEEP = 200;
/** Stream changes reach React at most this often (user choices at once). */
const RENDER_EVERY_MS = 250;


/**
 * The dashboard's state: jobs, tiles, counts, selection. React reads it through `subscribe`/`version`
 * (re-rendering at most once per frame); the map listens to tile changes and restyles in place.
 */
export class DashboardStore {
  private readonly jobs = new Map<string, JobModel>();
  private readonly listeners = new Set<() => void>();
  private readonly tileListeners = new Set<(job: string, change: TileChange) => void>();
  private readonly changedTiles = new Map<string, Set<string>>();
  private versionNo = 0;
  private scheduled = false;
  connection: ConnectionState = 'connecting';
  loaded = false;
  error: string | null = null;
  selectedJob: string | null = null;
  selectedTile: string | null = null;
  /** The period the map, legend and progress show (`period-select`); null: all periods. */
  selectedPeriod: string | null = null;

  // ---- reading -----------------------------------------------------------------------------------------

  version = (): number => this.versionNo;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  onTiles(listener: (job: string, change: TileChange) => void): () => void {
    this.tileListeners.add(listener);
    return () => this.tileListeners.delete(listener);
  }

  jobNames(): string[] {
    return [...this.jobs.keys()];
  }

  job(name: string | null): JobModel | undefined {
    return name === null ? undefined : this.jobs.get(name);
  }

  /** Tile counts in the shape of the contract's `tiles` (state → count). */
  counts(name: string): TileCounts {
    return { ...(this.jobs.get(name)?.counts ?? zeroCounts()) };
  }

  // ---- selection -----------------------------------------------------------------------------------------

  selectJob(name: string): void {
    if (this.selectedJob === name) return;
    this.selectedJob = name;
    this.selectedTile = null;
    this.selectedPeriod = null;
    this.changedByUser();
  }

  selectPeriod(period: string | null): void {
    if (this.selectedPeriod === period) return;
    this.selectedPeriod = period;
    this.changedByUser();
  }

  /** Unit counts by state of the selected period (all periods: the job's counts). */
  shownCounts(name: string | null): Record<TileState, number> {
    const job = this.job(name);
    if (!job) return zeroCounts();
    if (this.selectedPeriod === null) return job.counts;
    return job.periodCounts.get(this.selectedPeriod) ?? zeroCounts();
  }

  selectTile(id: string | null): void {
    if (this.selectedTile === id) return;
    this.selectedTile = id;
    this.changedByUser();
  }

  // ---- writing (the sync controller calls these) ------------------------------------------------------------

  setConnection(state: ConnectionState): void {
    this.connection = state;
    this.changed();
  }

  setError(message: string | null): void {
    this.error = message;
    this.changed();
  }

  /** A snapshot of objects (the `snapshot` channel): every unit an object. */
  loadSnapshot(snapshot: DashboardSnapshot): void {
    this.loadCompact({ seq: snapshot.seq, jobs: snapshot.jobs.map((j) => ({ ...j, grid: null })) });
  }

  /** The compact snapshot (shared/compact-view.ts): grids stay bytes. */
  loadCompact(snapshot: CompactSnapshot): void {
    const seen = new Set<string>();
    for (const view of snapshot.jobs) {
      seen.add(view.name);
      this.jobs.set(view.name, modelOf(view));
      this.changedTiles.delete(view.name);
      for (const l of this.tileListeners) l(view.name, { kind: 'reset' });
    }
    for (const name of [...this.jobs.keys()]) if (!seen.has(name)) this.jobs.delete(name);
    if (this.selectedJob === null || !this.jobs.has(this.selectedJob)) {
      this.selectedJob = snapshot.jobs[0]?.name ?? null;
      this.selectedTile = null;
    }
    this.loaded = true;
    this.error = null;
    this.changed();
  }

  setSummary(summary: JobSummary): void {
    const job = this.jobs.get(summary.name);
    if (!job) return;
    job.summary = summary;
    job.log = summary.log.slice(-LOG_KEEP);
    this.changed();
  }

  apply(m: StreamMessage): void {
    if (m.kind === 'tiles') {
      const job = this.jobs.get(m.job);
      if (!job) return;
      const added: TileView[] = [];
      for (const t of m.tiles) {
        if (job.tiles.has(t.id)) {
          this.setState(m.job, job, t.id, t.state, t.attempt);
          continue;
        }
        job.tiles.add(t);
        job.counts[t.state]++;
        countPeriod(job, t.id, t.state, 1);
        added.push(t);
      }
      if (added.length) {
        if (!job.bounds || added.length > 4) job.bounds = boundsOf(job);
        for (const l of this.tileListeners) l(m.job, { kind: 'added', tiles: added });
      }
      this.changed();
    } else if (m.kind === 'event') {
      this.event(m.event);
    }
  }

  private event(e: EngineEvent): void {
    switch (e.type) {
      case 'tile-state': {
        const job = this.jobs.get(e.job);
        if (job) this.setState(e.job, job, e.tile, e.state, e.attempt);
        // Every transition reaches the log panel (a bounded buffer, LOG_KEEP lines): failures as errors, retries as warnings.
        if (job) pushLog(job, { level: e.state === 'failed' ? 'error' : e.state === 'retrying' ? 'warn' : 'info', message: transitionText(e.tile, e.state, e.attempt, e.message), at: e.at });
        break;
      }
      case 'job-progress': {
        const job = this.jobs.get(e.progress.job);
        if (job) job.summary = { ...job.summary, progress: e.progress };
        break;
      }
      case 'quota': {
        const job = this.jobs.get(e.job);
        if (job) job.summary = { ...job.summary, quota: e.quota };
        break;
      }
      case 'log': {
        const job = this.jobs.get(e.job);
        if (job) pushLog(job, { level: e.level, message: e.message, at: e.at });
        break;
      }
    }
    this.changed();
  }

  private setState(name: string, job: JobModel, id: string, state: TileState, attempt: number): void {
    const changed = job.tiles.update(id, state, attempt);
    if (!changed) return;
    if (changed.before !== state) {
      job.counts[changed.before]--;
      job.counts[state]++;
      countPeriod(job, id, changed.before, -1);
      countPeriod(job, id, state, 1);
    }
    let ids = this.changedTiles.get(name);
    if (!ids) this.changedTiles.set(name, (ids = new Set()));
    ids.add(id);
  }

  /**
   * Coalesces every change within a frame into one map restyle per job, and stream changes into at most one
   * React render per RENDER_EVERY_MS: at 1,000 state changes a second, re-rendering the side panel (legend,
   * progress, log) every frame is what made long tasks; counts moving four times a second read the same.
   */
  private changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      if (!this.scheduled) return;
      this.flushTiles();
      this.renderSoon();
    };
    if (typeof requestAnimationFrame === 'function' && typeof document !== 'undefined' && document.visibilityState === 'visible') requestAnimationFrame(run);
    else setTimeout(run, 50);
  }

  /**
   * A user's choice (job, period, tile) is shown at once, not at the next frame: React puts a controlled
   * `<select>` back to the value it rendered when its change handler returns, so a second key pressed before
   * the frame would start from the old choice and the user's keystroke would be lost.
   */
  private changedByUser(): void {
    this.flushTiles();
    this.render();
  }

  private flushTiles(): void {
    this.scheduled = false;
    for (const [name, set] of this.changedTiles) {
      const ids = [...set];
      for (const l of this.tileListeners) l(name, { kind: 'state', ids });
    }
    this.changedTiles.clear();
  }

  private lastRender = 0;
  private renderTimer: ReturnType<typeof setTimeout> | null = null;

  /**
   * Always in a task of its own, never inside the frame callback that restyled the map: the first render of a
   * burst (the side panel's counts, log and charts all changing) and the map's first repaint were one long
   * task together (docs/dashboard.md, "A million units").
   */
  private renderSoon(): void {
    if (this.renderTimer) return;
    const wait = Math.max(0, this.lastRender + RENDER_EVERY_MS - Date.now());
    this.renderTimer = setTimeout(() => this.render(), wait);
  }

  private render(): void {
    if (this.renderTimer) clearTimeout(this.renderTimer);
    this.renderTimer = null;
    this.lastRender = Date.now();
    this.versionNo++;
    for (const l of this.listeners) l();
  }
}

function modelOf(view: CompactJob): JobModel {
  const counts = zeroCounts();
  const grid = view.grid ? decodeGrid(view.grid) : null;
  const tiles = new UnitTable(grid);
  const model = { periods: [] as string[], periodCounts: new Map<string, Record<TileState, number>>() };
  if (grid) {
    // Counted from the bytes: one pass, no object per unit.
    const layers = tiles.gridCounts();
    layers.forEach((byCode, layer) => {
      const period = grid.periods[layer];
      let perPeriod: Record<TileState, number> | undefined;
      if (period !== undefined) {
        model.periods.push(period);
        model.periodCounts.set(period, (perPeriod = zeroCounts()));
      }
      for (let code = 0; code < byCode.length; code++) {
        const state = stateOfCode(code);
        if (!state || !byCode[code]) continue;
        counts[state] += byCode[code]!;
        if (perPeriod) perPeriod[state] += byCode[code]!;
      }
    });
  }
  for (const t of view.tiles) {
    tiles.add(t);
    counts[t.state]++;
    countPeriod(model, t.id, t.state, 1);
  }
  const { tiles: _t, grid: _g, roi, bounds, ...summary } = view;
  return { name: view.name, summary, tiles, counts, roi, bounds, log: summary.log.slice(-LOG_KEEP), ...model };
}

/** Keeps a job's per-period counts (and its list of periods, in the order units arrive) up to date. */
function countPeriod(job: Pick<JobModel, 'periods' | 'periodCounts'>, id: string, state: TileState, delta: number): void {
  const p = periodOf(id);
  if (p === undefined) return;
  let c = job.periodCounts.get(p);
  if (!c) {
    job.periodCounts.set(p, (c = zeroCounts()));
    job.periods.push(p);
  }
  c[state] += delta;
}

/**
 * In place (the store owns `job.log`; the panel reads it on each render): two copies of LOG_KEEP lines per
 * event were, at 1,000 state changes a second, a steady share of every stream task.
 */
function pushLog(job: JobModel, entry: LogEntry): void {
  job.log.push(entry);
  if (job.log.length > LOG_KEEP) job.log.splice(0, job.log.length - LOG_KEEP);
}

function boundsOf(job: JobModel): [number, number, number, number] | null {
  const g = job.tiles.grid;
  const gridBox: number[][] = [];
  if (g) {
    // The grid's extent from its corners (no object per unit).
    const flat: number[] = [];
    const [w, h] = [g.cols + 1, g.rows + 1];
    const push = (c: number, r: number) => flat.push(g.origin[0] + g.corners[2 * (r * w + c)]!, g.origin[1] + g.corners[2 * (r * w + c) + 1]!);
    for (let c = 0; c < w; c++) {
      push(c, 0);
      push(c, h - 1);
    }
    for (let r = 0; r < h; r++) {
      push(0, r);
      push(w - 1, r);
    }
    gridBox.push(flat);
  }
  return boundsOfFlatRings(job.roi, gridBox, [...job.tiles.objectUnits()].map((t) => t.ring));
}

/**
 * Keeps the store in step with a host: subscribes, and on every `hello` fetches a snapshot and applies
 * the messages that came after it (so nothing is missed or applied twice); fetches a job's summary
 * (Drive outputs pending, EECU, run state) at most every `summaryEveryMs` while its tiles move.
 */
export function syncStore(client: TesseraClient, store: DashboardStore, summaryEveryMs = 1000): () => void {
  let phase: 'waiting' | 'syncing' | 'live' = 'waiting';
  let buffer: StreamMessage[] = [];
  let generation = 0;
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const requested = new Map<string, number>();
  const applied = new Map<string, number>();
  let stopped = false;

  const resync = () => {
    phase = 'syncing';
    buffer = [];
    const g = ++generation;
    client.compactSnapshot().then(
      (snap) => {
        if (g !== generation || stopped) return;
        store.loadCompact(snap);
        for (const m of buffer) if (m.seq > snap.seq) store.apply(m);
        buffer = [];
        phase = 'live';
      },
      (e: unknown) => {
        if (g !== generation || stopped) return;
        store.setError(`could not load the jobs: ${(e as Error).message}`);
        phase = 'waiting';
      },
    );
  };

  const summarySoon = (job: string) => {
    if (timers.has(job) || stopped) return;
    timers.set(
      job,
      setTimeout(() => {
        // Free the slot before asking: what happens during the request schedules another one.
        timers.delete(job);
        const asked = (requested.get(job) ?? 0) + 1;
        requested.set(job, asked);
        client.summary(job).then(
          (s) => {
            // Answers may cross: never let an older one replace a newer.
            if (stopped || asked < (applied.get(job) ?? 0)) return;
            applied.set(job, asked);
            store.setSummary(s);
          },
          () => undefined,
        );
      }, summaryEveryMs),
    );
  };

  const unsubscribe = client.subscribe(
    (m) => {
      if (m.kind === 'hello' || (m.kind === 'jobs' && phase === 'live')) return resync();
      if (phase === 'syncing') {
        buffer.push(m);
        return;
      }
      if (phase !== 'live') return;
      store.apply(m);
      if (m.kind === 'event' && m.event.type !== 'quota') summarySoon(m.event.type === 'job-progress' ? m.event.progress.job : m.event.job);
      if (m.kind === 'tiles') summarySoon(m.job);
    },
    (state) => store.setConnection(state),
  );
  return () => {
    stopped = true;
    unsubscribe();
    for (const t of timers.values()) clearTimeout(t);
  };
}

/** One log line per tile transition: "x3_y1 running (attempt 2)", "x1_y1 failed: User memory limit exceeded." */
export function transitionText(tile: string, state: TileState, attempt: number, message?: string): string {
  return `${tile} ${state}${attempt > 1 && (state === 'submitting' || state === 'queued' || state === 'running') ? ` (attempt ${attempt})` : ''}${message ? `: ${message}` : ''}`;
}
