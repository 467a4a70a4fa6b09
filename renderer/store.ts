import { type EngineEvent, type TileCounts, type TileState } from '../shared/contract';
import type { DashboardSnapshot, JobSummary, JobView, LogEntry, StreamMessage, TileView } from '../shared/dashboard';
import type { TesseraClient } from './api';
import type { ConnectionState } from './transport/types';
import { boundsOfFlatRings } from '../shared/flat-rings';
import { periodOf, zeroCounts } from './periods';

export interface JobModel {
  readonly name: string;
  summary: JobSummary;
  /** Tiles by id, in plan order; a TileView is updated in place when its state changes. */
  readonly tiles: Map<string, TileView>;
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
export type TileChange = { kind: 'reset' } | { kind: 'added'; tiles: TileView[] } | { kind: 'state'; tiles: TileView[] };

const LOG_KEEP = 200;


/**
 * The dashboard's state: jobs, tiles, counts, selection. React reads it through `subscribe`/`version`
 * (re-rendering at most once per frame); the map listens to tile changes and restyles in place.
 */
export class DashboardStore {
  private readonly jobs = new Map<string, JobModel>();
  private readonly listeners = new Set<() => void>();
  private readonly tileListeners = new Set<(job: string, change: TileChange) => void>();
  private readonly changedTiles = new Map<string, Map<string, TileView>>();
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
    this.changed();
  }

  selectPeriod(period: string | null): void {
    if (this.selectedPeriod === period) return;
    this.selectedPeriod = period;
    this.changed();
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
    this.changed();
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

  loadSnapshot(snapshot: DashboardSnapshot): void {
    const seen = new Set<string>();
    for (const view of snapshot.jobs) {
      seen.add(view.name);
      const existing = this.jobs.get(view.name);
      this.jobs.set(view.name, modelOf(view, existing));
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
        const old = job.tiles.get(t.id);
        if (old) {
          this.setState(m.job, job, old, t.state, t.attempt);
          continue;
        }
        job.tiles.set(t.id, t);
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
        const tile = job?.tiles.get(e.tile);
        if (job && tile) this.setState(e.job, job, tile, e.state, e.attempt);
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

  private setState(name: string, job: JobModel, tile: TileView, state: TileState, attempt: number): void {
    if (tile.state === state && tile.attempt === attempt) return;
    if (tile.state !== state) {
      job.counts[tile.state]--;
      job.counts[state]++;
      countPeriod(job, tile.id, tile.state, -1);
      countPeriod(job, tile.id, state, 1);
    }
    tile.state = state;
    tile.attempt = attempt;
    let changed = this.changedTiles.get(name);
    if (!changed) this.changedTiles.set(name, (changed = new Map()));
    changed.set(tile.id, tile);
  }

  /** Coalesces every change within a frame into one React render and one map restyle per job. */
  private changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      for (const [name, tiles] of this.changedTiles) {
        const list = [...tiles.values()];
        for (const l of this.tileListeners) l(name, { kind: 'state', tiles: list });
      }
      this.changedTiles.clear();
      this.versionNo++;
      for (const l of this.listeners) l();
    };
    if (typeof requestAnimationFrame === 'function' && typeof document !== 'undefined' && document.visibilityState === 'visible') requestAnimationFrame(run);
    else setTimeout(run, 50);
  }
}

function modelOf(view: JobView, existing: JobModel | undefined): JobModel {
  const counts = zeroCounts();
  const tiles = new Map<string, TileView>();
  const model = { periods: [] as string[], periodCounts: new Map<string, Record<TileState, number>>() };
  for (const t of view.tiles) {
    // Keep the objects the map already holds (it restyles them in place).
    const old = existing?.tiles.get(t.id);
    if (old) {
      old.state = t.state;
      old.attempt = t.attempt;
      tiles.set(t.id, old);
    } else tiles.set(t.id, t);
    counts[t.state]++;
    countPeriod(model, t.id, t.state, 1);
  }
  const { tiles: _t, roi, bounds, ...summary } = view;
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

function pushLog(job: JobModel, entry: LogEntry): void {
  job.log = [...job.log.slice(-(LOG_KEEP - 1)), entry];
}

function boundsOf(job: JobModel): [number, number, number, number] | null {
  return boundsOfFlatRings(job.roi, [...job.tiles.values()].map((t) => t.ring));
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
    client.snapshot().then(
      (snap) => {
        if (g !== generation || stopped) return;
        store.loadSnapshot(snap);
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
