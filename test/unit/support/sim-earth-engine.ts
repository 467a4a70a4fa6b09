import { EarthEngineError, type AssetQuota, type EeAsset, type ImageExport, type Operation } from '../../../main/core/google/earthengine';
import type { EarthEnginePort } from '../../../main/core/ports/earth-engine';
import type { Clock } from '../../../main/core/ports/clock';

/** How one attempt of a unit ends: its run time and, unless it succeeds, EE's failure message. */
export interface AttemptScript {
  runMs: number;
  fails?: string;
}

interface Task {
  name: string;
  description: string;
  assetId: string | undefined;
  sentAt: number;
  script: AttemptScript;
  cancelled: boolean;
}

/**
 * Earth Engine over simulated time, for scheduler tests (asset exports: nothing reaches the disk). Each
 * export becomes a task that runs `runMs` after it is sent and then ends as its script says; the asset
 * appears when it succeeds. `script(description)` decides per attempt (descriptions end in `_a<attempt>`).
 */
export class SimEarthEngine implements EarthEnginePort {
  readonly tasks: Task[] = [];
  readonly assets = new Map<string, EeAsset>();
  /** Requests, by kind (what a test of the pace counts). */
  readonly calls = { exportImage: 0, getOperations: 0, listOperations: 0 };
  maxAssets = 0;
  otherAssets = 0;
  /** While set, every request fails as if the network were gone. */
  offline = false;

  constructor(
    private readonly clock: Clock,
    private readonly script: (description: string) => AttemptScript = () => ({ runMs: 600_000 }),
  ) {}

  async exportImage(x: ImageExport): Promise<string> {
    this.network();
    this.calls.exportImage++;
    const known = this.tasks.find((t) => t.description === x.description);
    if (known) return known.name;
    const name = `projects/p/operations/T${this.tasks.length + 1}`;
    this.tasks.push({ name, description: x.description, assetId: x.assetId, sentAt: this.clock.now(), script: this.script(x.description), cancelled: false });
    return name;
  }

  async getOperations(names: string[]): Promise<Map<string, Operation>> {
    this.network();
    this.calls.getOperations++;
    const out = new Map<string, Operation>();
    for (const t of this.tasks) if (names.includes(t.name)) out.set(t.name, this.operation(t));
    return out;
  }

  async listOperations(): Promise<Operation[]> {
    this.network();
    this.calls.listOperations++;
    return this.tasks.map((t) => this.operation(t));
  }

  async cancelOperations(names: string[]): Promise<void> {
    for (const t of this.tasks) if (names.includes(t.name)) t.cancelled = true;
  }

  async getAsset(name: string): Promise<EeAsset | null> {
    this.network();
    for (const t of this.tasks) this.operation(t); // tasks that ended meanwhile have made their asset
    return this.assets.get(name) ?? (name.split('/').length <= 4 ? { name, type: 'FOLDER' } : null);
  }

  async createAsset(name: string, type: 'FOLDER' | 'IMAGE_COLLECTION'): Promise<void> {
    this.assets.set(name, { name, type });
  }

  async assetQuota(): Promise<AssetQuota> {
    this.network();
    for (const t of this.tasks) this.operation(t);
    const made = [...this.assets.values()].filter((a) => a.type === 'IMAGE').length;
    return { assetCount: this.otherAssets + made, maxAssets: this.maxAssets, sizeBytes: 0, maxSizeBytes: 0 };
  }

  /** Tasks sent and not yet ended at `at` (simulated ms). */
  runningAt(at: number): number {
    return this.tasks.filter((t) => t.sentAt <= at && at < t.sentAt + t.script.runMs).length;
  }

  private operation(t: Task): Operation {
    const now = this.clock.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const ended = now >= t.sentAt + t.script.runMs;
    const state = t.cancelled ? 'CANCELLED' : !ended ? 'RUNNING' : t.script.fails ? 'FAILED' : 'SUCCEEDED';
    if (state === 'SUCCEEDED' && t.assetId && !this.assets.has(t.assetId)) this.assets.set(t.assetId, { name: t.assetId, type: 'IMAGE' });
    return {
      name: t.name,
      done: ended || t.cancelled,
      ...(state === 'FAILED' ? { error: { message: t.script.fails! } } : {}),
      metadata: {
        state,
        description: t.description,
        createTime: iso(t.sentAt),
        startTime: iso(t.sentAt),
        updateTime: iso(Math.min(now, t.sentAt + t.script.runMs)),
        ...(ended ? { endTime: iso(t.sentAt + t.script.runMs), batchEecuUsageSeconds: t.script.runMs / 1000 } : {}),
      },
    };
  }

  private network(): void {
    if (this.offline) throw new EarthEngineError('Invalid JSON: Error: connect ECONNREFUSED 127.0.0.1:9', true);
  }
}
