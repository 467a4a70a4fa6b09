/**
 * Component-test page: the real renderer (App, map, legend, gauge, details) over the in-process
 * transport, fed by a scripted host. Tests drive it through `window.harness`.
 */
import 'leaflet/dist/leaflet.css';
import '../../../renderer/styles.css';
import { createRoot } from 'react-dom/client';
import { z } from 'zod';
import { TILE_STATES, type Command, type EngineEvent, type Quota, type TileState } from '../../../shared/contract';
import { encodeGrid, STATE_CODE, type CompactSnapshot } from '../../../shared/compact-view';
import type { DashboardSnapshot, JobSummary, LogEntry, StreamMessage, TileDetail, TileView } from '../../../shared/dashboard';
import { TesseraClient } from '../../../renderer/api';
import { App } from '../../../renderer/components/App';
import { DashboardStore } from '../../../renderer/store';
import { InProcessTransport, type InProcessHost } from '../../../renderer/transport/in-process';

z.config({ jitless: true });

const JOB = 'demo';
const GIB = 1024 ** 3;
const NOW = '2026-01-02T03:04:05.000Z';

/** 3 × 3 tiles of 0.1° at 10–10.3 °E, 50–50.3 °N; the centre one failed. */
const STATES: Record<string, TileState> = {
  x0_y0: 'done', x1_y0: 'done', x2_y0: 'done',
  x0_y1: 'running', x1_y1: 'failed', x2_y1: 'queued',
  x0_y2: 'pending', x1_y2: 'pending', x2_y2: 'retrying',
};

const tiles: TileView[] = Object.entries(STATES).map(([id, state]) => {
  const [i, j] = [Number(id[1]), Number(id[4])];
  const [w, s] = [10 + i * 0.1, 50 + j * 0.1];
  return { id, state, attempt: state === 'pending' ? 0 : 1, ring: [w, s, w + 0.1, s, w + 0.1, s + 0.1, w, s + 0.1] };
});
// `?grid=N`: N × N more tiles of 0.01° beside them (big jobs: the bench, the raster), tile `g{i}_{j}` at
// 11 + 0.01·i °E, 50 + 0.01·j °N. Held as a real host holds a planned grid: one state byte per unit, served
// by `compactSnapshot` as bytes (shared/compact-view.ts); the `snapshot` channel makes objects of them.
const extra = Number(new URLSearchParams(location.search).get('grid') ?? 0);
/**
 * The state the harness plans for grid tile (i, j): three solid blocks of 40 × 40 along the south edge (done
 * at i < 40, failed at 60 ≤ i < 100, pending at 120 ≤ i < 160: colours a test can find at any zoom); elsewhere
 * a failure every 11th, a third done, the rest pending.
 */
const plannedState = (i: number, j: number): TileState =>
  j < 40 && i < 40 ? 'done' : j < 40 && i >= 60 && i < 100 ? 'failed' : j < 40 && i >= 120 && i < 160 ? 'pending' : (i * 7 + j * 3) % 11 === 0 ? 'failed' : (i + j) % 3 === 0 ? 'done' : 'pending';
const gridStates = new Uint8Array(extra * extra);
const gridAttempts = new Uint8Array(extra * extra);
for (let j = 0; j < extra; j++) for (let i = 0; i < extra; i++) gridStates[j * extra + i] = STATE_CODE[plannedState(i, j)];
// A grid straight in degrees: its four outer corners say everything (`step` = the whole grid, shared/compact-view.ts).
const gridCorners = new Float32Array([0, 0, extra * 0.01, 0, 0, extra * 0.01, extra * 0.01, extra * 0.01]);
const gridCell = (id: string): number | undefined => {
  const m = /^g(\d+)_(\d+)$/.exec(id);
  if (!m || Number(m[1]) >= extra || Number(m[2]) >= extra) return undefined;
  return Number(m[2]) * extra + Number(m[1]);
};
const gridView = (k: number): TileView => {
  const [i, j] = [k % extra, Math.floor(k / extra)];
  const [w, s] = [11 + i * 0.01, 50 + j * 0.01];
  return { id: `g${i}_${j}`, state: TILE_STATES[gridStates[k]!]!, attempt: gridAttempts[k]!, ring: [w, s, w + 0.01, s, w + 0.01, s + 0.01, w, s + 0.01] };
};
const gridId = (k: number): string => `g${k % extra}_${Math.floor(k / extra)}`;
/** Unit `id`'s view, wherever the harness keeps it (null: no such unit). */
const viewOf = (id: string): TileView | null => {
  const t = byId.get(id);
  if (t) return t;
  const k = gridCell(id);
  return k === undefined ? null : gridView(k);
};

// `?periods=N`: a finished time series instead — every tile in N periods (`2021@x0_y0`, docs/periods.md), all
// done; its quicklooks are set by the test (`harness.setPreviews`) and served through the `preview` channel.
const PERIODS = Number(new URLSearchParams(location.search).get('periods') ?? 0);
if (PERIODS > 0) {
  const base = tiles.splice(0, tiles.length);
  for (let k = 0; k < PERIODS; k++) for (const t of base) tiles.push({ ...t, id: `${2021 + k}@${t.id}`, state: 'done', attempt: 1 });
}
let previews: Record<string, string> = {};
const ROI = [[10, 50, 10.3, 50, 10.3, 50.3, 10, 50.3]];
/** How often the page asked for each kind of snapshot. */
const snapshotCalls: Record<string, number> = {};
const counted1 = <T,>(kind: string, answer: T): T => {
  snapshotCalls[kind] = (snapshotCalls[kind] ?? 0) + 1;
  return answer;
};
const previewCalls: string[] = [];

// `&fit=grid`: the job's bounds take in the extra tiles, so the map opens on all of them (the 1M bench: the raster).
const FIT_GRID = new URLSearchParams(location.search).get('fit') === 'grid';

/** Tiles by id (the bench changes thousands of states a second: no linear search per event). */
const byId = new Map(tiles.map((t) => [t.id, t]));
const bounds = (): [number, number, number, number] => (FIT_GRID ? [10, 50, 11 + extra * 0.01, 50 + Math.max(0.3, extra * 0.01)] : [10, 50, 10.3, 50.3]);

let quota: Quota = { limit: 15 * GIB, usage: Math.round(9.8 * GIB), usageInDrive: Math.round(9.8 * GIB), usageInDriveTrash: GIB, at: NOW };

/** Counted once, then kept by `emit` (a summary every second over a million tiles would be the bench's longest task). */
let counted: Record<TileState, number> | null = null;

function counts(): Record<TileState, number> {
  if (!counted) {
    counted = { pending: 0, submitting: 0, queued: 0, running: 0, exported: 0, downloading: 0, verified: 0, done: 0, retrying: 0, split: 0, failed: 0, cancelled: 0, skipped: 0 };
    for (const t of tiles) counted[t.state]++;
    const byCode = new Uint32Array(256);
    for (let k = 0; k < gridStates.length; k++) byCode[gridStates[k]!]!++;
    TILE_STATES.forEach((s, code) => (counted![s] += byCode[code]!));
  }
  return { ...counted };
}

/** The job's log as a host keeps it: what `emit` logged is in every later summary too (a summary replaces the page's log). */
const logLines: LogEntry[] = [{ level: 'info', message: 'planned 9 tiles', at: NOW }];

/** Fields a test sets on the job's summary (e.g. a finished run's outcome and results): `harness.setSummary`. */
let summaryPatch: Partial<JobSummary> = {};

function summary(): JobSummary {
  const c = counts();
  return {
    ...baseSummary(c),
    ...summaryPatch,
  };
}

function baseSummary(c: Record<TileState, number>): JobSummary {
  return {
    name: JOB,
    file: '/tmp/demo/job.json',
    progress: { job: JOB, total: tiles.length + gridStates.length, tiles: c, queued: c.queued, running: c.running, waiting: null, throughputPerHour: 3, etaSeconds: 3600, bytesDownloaded: 0, finished: false },
    quota,
    drive: { pendingBytes: 500 * 1024 ** 2, pendingFiles: 2, unlistedTiles: 0, unlistedBytes: 0, reserveBytes: GIB, downloadedBytes: 384 * 1024, cleanup: 'delete' },
    eecu: { usedSeconds: 3600, projectedSeconds: 10800, budgetSeconds: null },
    running: true,
    outcome: null,
    log: logLines.slice(-200),
  };
}


const listeners = new Set<(m: StreamMessage) => void>();
let seq = 0;
const commands: Command[] = [];
const wizardCalls: { kind: string; input: unknown }[] = [];

type Unnumbered<T> = T extends unknown ? Omit<T, 'seq'> : never;

function send(m: Unnumbered<StreamMessage>): void {
  const message = { ...m, seq: ++seq } as StreamMessage;
  for (const l of listeners) l(message);
}

function emit(e: EngineEvent): void {
  if (e.type === 'tile-state') {
    const t = byId.get(e.tile);
    const k = t ? undefined : gridCell(e.tile);
    const before = t ? t.state : k !== undefined ? TILE_STATES[gridStates[k]!]! : undefined;
    if (before !== undefined && counted) {
      counted[before]--;
      counted[e.state]++;
    }
    if (t) {
      t.state = e.state;
      t.attempt = e.attempt;
    } else if (k !== undefined) {
      gridStates[k] = STATE_CODE[e.state];
      gridAttempts[k] = Math.min(255, e.attempt);
    }
  }
  if (e.type === 'quota') quota = e.quota;
  if (e.type === 'log') logLines.push({ level: e.level, message: e.message, at: e.at });
  send({ kind: 'event', event: e });
}

const host: InProcessHost = {
  snapshot: (): DashboardSnapshot => counted1('snapshot', { seq, jobs: [{ ...summary(), tiles: [...tiles.map((t) => ({ ...t })), ...Array.from(gridStates, (_, k) => gridView(k))], roi: ROI, bounds: bounds() }] }),
  compactSnapshot: (): CompactSnapshot => counted1('compactSnapshot', {
    seq,
    jobs: [{
      ...summary(),
      grid: extra > 0 ? encodeGrid({ template: 'g{i}_{j}', i0: 0, j0: 0, cols: extra, rows: extra, periods: [], origin: [11, 50], step: Math.max(1, extra), corners: gridCorners, states: gridStates, attempts: gridAttempts }) : null,
      tiles: tiles.map((t) => ({ ...t })),
      roi: ROI,
      bounds: bounds(),
    }],
  }),
  summary: () => summary(),
  tile: (job: string, id: string): TileDetail => {
    const t = viewOf(id);
    if (job !== JOB || !t) throw new Error(`no tile ${id}`);
    const done = t.state === 'done';
    return {
      job, id, crs: 'EPSG:3035', crsTransform: [10, 0, 0, 0, -10, 0], dimensions: [128, 128], state: t.state, attempt: t.attempt,
      retriesUsed: 0, description: t.attempt ? `${JOB}_${id}_a${t.attempt}` : null,
      operation: t.attempt ? `projects/demo/operations/OP_${id.toUpperCase()}` : null,
      error: t.state === 'failed' ? 'User memory limit exceeded.' : null,
      eecuSeconds: done ? 1200 : null, notBefore: null,
      history: [{ state: 'pending', at: NOW }, ...(t.state === 'pending' ? [] : [{ state: t.state, at: NOW }])],
      files: done ? [{ id: `f_${id}`, name: `${JOB}_${id}.tif`, size: 131_072, md5: `0123456789abcdef0123456789ab${id.replace('_', '')}`.slice(0, 32), verified: true, cleaned: true }] : [],
      ring: t.ring,
    };
  },
  command: async (cmd: unknown) => {
    const c = cmd as Command;
    commands.push(c);
    if (c.type === 'retry') for (const id of c.tiles) emit({ type: 'tile-state', job: JOB, tile: id, state: 'pending', attempt: 1, at: NOW });
    if (c.type === 'skip') for (const id of c.tiles) emit({ type: 'tile-state', job: JOB, tile: id, state: 'skipped', attempt: 0, at: NOW });
    return { ok: true };
  },
  subscribe: (l) => {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  position: () => seq,
  // The wizard: a fixed preview, and created jobs recorded (not added).
  previewGrid: async (input: unknown) => {
    wizardCalls.push({ kind: 'preview', input });
    return {
      layers: [{ name: 'fields', geometryType: 'POLYGON', featureCount: 3 }, { name: 'forest', geometryType: 'MULTIPOLYGON', featureCount: 1 }],
      layer: 'fields', tiles: 12, pixelsPerTile: 1_000_000, bytesPerTile: 4_000_000, totalPixels: 12_000_000, totalBytes: 48_000_000,
      maxPixels: 1e8, overMaxPixels: false, warnings: [], preview: [],
    };
  },
  createJob: async (input: unknown) => {
    wizardCalls.push({ kind: 'create', input });
    return { ok: true, name: 'made', file: '/tmp/made.json' };
  },
  // The time series' host answers the `preview` channel (its other services are absent: refused).
  ...(PERIODS > 0
    ? {
        service: async (name: string, body?: unknown) => {
          if (name !== 'preview') throw new Error(`this harness has no ${name}`);
          const { unit } = body as { unit: string };
          previewCalls.push(unit);
          return { unit, png: previews[unit] ?? null };
        },
      }
    : {}),
};

declare global {
  interface Window {
    harness: {
      emit: typeof emit;
      commands: Command[];
      summary: typeof summary;
      ids: () => string[];
      /** Unit k of `ids()` without making the list (the bench picks among a million). */
      idAt: (k: number) => string;
      unitCount: () => number;
      wizardCalls: typeof wizardCalls;
      setSummary: (patch: Partial<JobSummary>) => void;
      /** Base64 PNGs by unit id, answered by the `preview` channel; and the units it was asked for. */
      setPreviews: (byUnit: Record<string, string>) => void;
      previewCalls: string[];
      snapshotCalls: Record<string, number>;
    };
  }
}
window.harness = { emit, commands, summary, ids: () => [...tiles.map((t) => t.id), ...Array.from(gridStates, (_, k) => gridId(k))],
  idAt: (k) => (k < tiles.length ? tiles[k]!.id : gridId(k - tiles.length)),
  unitCount: () => tiles.length + gridStates.length, wizardCalls, setSummary: (patch) => (summaryPatch = patch), setPreviews: (byUnit) => (previews = byUnit), previewCalls, snapshotCalls };

const store = new DashboardStore();
createRoot(document.getElementById('root')!).render(<App client={new TesseraClient(new InProcessTransport(host))} store={store} />);
