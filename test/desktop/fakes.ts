/**
 * Plain-Node stand-ins for Electron's IPC: an `ipcMain` that records handlers, and per window an
 * `ipcRenderer` and a webContents-like sink, joined in process with structured clones and asynchronous
 * delivery, as a real process boundary would. No `electron` import anywhere.
 */
import { TILE_STATES, type TileState } from '../../shared/contract';
import type { IpcInvokeEventLike, IpcMainLike, IpcRendererLike } from '../../shared/ipc';
import type { StreamSink } from '../../main/electron/ipc-host';
import type { DashboardHost } from '../../main/server/server';
import type { CommandResult, GridPreview, NewJobResult, RecipeCheck, DashboardSnapshot, JobSummary, JobView, StreamMessage, TileDetail } from '../../shared/dashboard';

type Listener = (event: IpcInvokeEventLike, payload: unknown) => unknown;

export class FakeIpcBus {
  readonly handlers = new Map<string, Listener>();
  readonly ipcMain: IpcMainLike = {
    handle: (channel, listener) => {
      if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      this.handlers.set(channel, listener);
    },
    removeHandler: (channel) => {
      this.handlers.delete(channel);
    },
  };

  /** A window whose top frame shows `url`. */
  window(url: string | null): FakeWindow {
    return new FakeWindow(this, url);
  }

  /** Sends a raw message, bypassing the preload (what a compromised page could do). */
  async raw(channel: string, payload: unknown, from: FakeWindow): Promise<unknown> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`No handler registered for '${channel}'`);
    return structuredClone(await h(from.event(), structuredClone(payload)));
  }
}

export class FakeWindow implements StreamSink {
  private readonly listeners = new Map<string, Set<(event: unknown, payload: unknown) => void>>();
  private destroyed = false;
  private readonly onDestroyed: (() => void)[] = [];
  readonly sent: { channel: string; payload: unknown }[] = [];

  constructor(
    private readonly bus: FakeIpcBus,
    public url: string | null,
  ) {}

  event(): IpcInvokeEventLike {
    return { senderFrame: this.url === null ? null : { url: this.url }, sender: this };
  }

  readonly ipcRenderer: IpcRendererLike = {
    invoke: async (channel, payload) => {
      await Promise.resolve();
      return this.bus.raw(channel, payload, this);
    },
    on: (channel, listener) => {
      let set = this.listeners.get(channel);
      if (!set) this.listeners.set(channel, (set = new Set()));
      set.add(listener);
    },
    removeListener: (channel, listener) => {
      this.listeners.get(channel)?.delete(listener);
    },
  };

  // webContents side
  send(channel: string, payload: unknown): void {
    const copy = structuredClone(payload);
    this.sent.push({ channel, payload: copy });
    queueMicrotask(() => {
      for (const l of this.listeners.get(channel) ?? []) l({ sender: 'the IpcRendererEvent' }, copy);
    });
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  once(_event: 'destroyed', listener: () => void): void {
    this.onDestroyed.push(listener);
  }
  destroy(): void {
    this.destroyed = true;
    for (const l of this.onDestroyed.splice(0)) l();
  }
  listenerCount(channel: string): number {
    return this.listeners.get(channel)?.size ?? 0;
  }
}

const progress = (job: string) => ({
  job, total: 2, tiles: { ...Object.fromEntries(TILE_STATES.map((t) => [t, 0])), done: 1, queued: 1 } as Record<TileState, number>, queued: 1, running: 0, waiting: null,
  throughputPerHour: null, etaSeconds: null, bytesDownloaded: 10, finished: false,
});

export function jobView(job = 'demo'): JobView {
  return {
    name: job, file: `/jobs/${job}.json`, progress: progress(job), quota: null,
    drive: { pendingBytes: 0, pendingFiles: 0, unlistedTiles: 0, unlistedBytes: 0, reserveBytes: 0, downloadedBytes: 10, cleanup: 'delete' },
    eecu: { usedSeconds: 1, projectedSeconds: null, budgetSeconds: null },
    running: true, outcome: null, log: [],
    tiles: [{ id: 'r0c0', state: 'done', attempt: 1, ring: [0, 0, 1, 0, 1, 1, 0, 1] }, { id: 'r0c1', state: 'queued', attempt: 0, ring: [1, 0, 2, 0, 2, 1, 1, 1] }],
    roi: [[0, 0, 2, 0, 2, 1, 0, 1]], bounds: [0, 0, 2, 1],
  };
}

class Status extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** A DashboardHost with one job, recording commands; `emit` numbers and broadcasts a stream message. */
export class FakeHost implements DashboardHost {
  seq = 0;
  readonly commands: unknown[] = [];
  private readonly listeners = new Set<(m: StreamMessage) => void>();
  snapshot(): DashboardSnapshot {
    return { seq: this.seq, jobs: [jobView()] };
  }
  summary(job: string): JobSummary {
    if (job !== 'demo') throw new Status(404, `no job named ${job}`);
    const { tiles: _t, roi: _r, bounds: _b, ...summary } = jobView();
    return summary;
  }
  tile(job: string, id: string): TileDetail {
    if (job !== 'demo' || !['r0c0', 'r0c1'].includes(id)) throw new Status(404, `job ${job} has no tile ${id}`);
    return {
      job, id, crs: 'EPSG:4326', crsTransform: [1, 0, 0, 0, -1, 1], dimensions: [10, 10], state: 'done', attempt: 1, retriesUsed: 0,
      description: null, operation: null, error: null, eecuSeconds: null, notBefore: null, history: [], files: [], ring: [],
    };
  }
  async previewGrid(input: unknown): Promise<GridPreview> {
    this.commands.push(input);
    return { layers: [{ name: 'area', geometryType: 'POLYGON', featureCount: 1 }], layer: 'area', tiles: 2, pixelsPerTile: 100, bytesPerTile: 400, totalPixels: 200, totalBytes: 800, maxPixels: 1e8, overMaxPixels: false, warnings: [], preview: [] };
  }
  async checkRecipe(input: unknown): Promise<RecipeCheck> {
    this.commands.push(input);
    return { ok: true, label: 'recipe.js', tile: 'x0_y0', kind: 'image', logs: [], bands: [{ id: 'NDVI', type: 'Float32' }] };
  }
  async createJob(input: unknown): Promise<NewJobResult> {
    this.commands.push(input);
    return { ok: true, name: 'made', file: '/tmp/made.json' };
  }
  async command(input: unknown): Promise<CommandResult> {
    this.commands.push(input);
    const cmd = input as { type: string; job: string };
    if (cmd.job !== 'demo') throw new Status(404, `no job named ${cmd.job}`);
    if (cmd.type === 'cancel') throw new Error('the disk is on fire');
    return cmd.type === 'status' ? { ok: true, progress: progress('demo') } : { ok: true };
  }
  subscribe(listener: (m: StreamMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  position(): number {
    return this.seq;
  }
  listenerCount(): number {
    return this.listeners.size;
  }
  emit(): StreamMessage {
    const m: StreamMessage = { kind: 'event', seq: ++this.seq, event: { type: 'log', job: 'demo', level: 'info', message: `m${this.seq}`, at: new Date(0).toISOString() } };
    for (const l of this.listeners) l(m);
    return m;
  }
}
