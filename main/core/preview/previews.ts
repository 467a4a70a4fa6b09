import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write';
import { unitParts } from '../periods/units';
import { bandSetOf, renderQuicklook, type UnitGrid } from './quicklook';
import { parseStretch, type Stretch } from './stretch';

/**
 * The job's quicklooks, cached beside its journal (docs/previews.md): `.tessera/<job>/previews/<tileId>.png`,
 * or `previews/<periodId>/<tileId>.png` in a job with periods, and the job's stretches in
 * `previews/stretch.json` (one per band set, the first finished unit's). Units are queued after they are
 * verified and drawn one at a time in the background: a download never waits for a quicklook, and a
 * quicklook that fails is logged and skipped — it is a picture, not an output.
 */
export interface PreviewSource {
  /** The journal's unit id: a tile id, or `{periodId}@{tileId}`. */
  readonly unit: string;
  /** The unit's verified GeoTIFFs (absolute paths). */
  readonly files: readonly string[];
  readonly grid?: UnitGrid;
}

export interface PreviewMakerOptions {
  /** Told about a quicklook that could not be made (the job's log). */
  warn?(message: string): void;
  /** A quicklook is ready (the dashboards may fetch it). */
  ready?(unit: string): void;
  /** Units waiting beyond this are dropped (oldest first are kept: they are made in order). */
  maxQueued?: number;
}

/** Tile and period ids as the journal has them; anything else never becomes a path. */
const TILE_ID = /^[A-Za-z0-9_-]{1,120}$/;
const PERIOD_ID = /^[A-Za-z0-9-]{1,20}$/;

/** The quicklook's path inside `dir` for a unit id, or undefined for a name that is not a unit id (never leaves `dir`). */
export function previewPath(dir: string, unit: string): string | undefined {
  const { tileId, periodId } = unitParts(unit);
  if (!TILE_ID.test(tileId) || (periodId !== undefined && !PERIOD_ID.test(periodId))) return undefined;
  return periodId === undefined ? join(dir, `${tileId}.png`) : join(dir, periodId, `${tileId}.png`);
}

export class PreviewMaker {
  readonly dir: string;
  private readonly queue: PreviewSource[] = [];
  private readonly queued = new Set<string>();
  private stretches: Record<string, Stretch> | undefined;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(stateDir: string, private readonly o: PreviewMakerOptions = {}) {
    this.dir = join(stateDir, 'previews');
  }

  /** Queues a verified unit; returns at once (the work runs on later turns of the event loop). */
  enqueue(source: PreviewSource): void {
    if (this.stopped || this.queued.has(source.unit) || !previewPath(this.dir, source.unit) || source.files.length === 0) return;
    if (this.queue.length >= (this.o.maxQueued ?? 100_000)) return;
    this.queue.push(source);
    this.queued.add(source.unit);
    this.running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  /** Resolves when the queue is empty (tests; a host stopping). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No more quicklooks are started; the one being drawn finishes. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    await this.idle();
  }

  /** The PNG of a unit, or null when there is none (yet) or the name is not a unit id. */
  async read(unit: string): Promise<Uint8Array | null> {
    const path = previewPath(this.dir, unit);
    if (!path) return null;
    try {
      return new Uint8Array(await readFile(path));
    } catch {
      return null;
    }
  }

  private async drain(): Promise<void> {
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        try {
          await this.make(next);
          this.o.ready?.(next.unit);
        } catch (e) {
          this.o.warn?.(`no quicklook for ${next.unit}: ${(e as Error).message}`);
        } finally {
          this.queued.delete(next.unit);
        }
        // Let downloads and the dashboard run between two quicklooks.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.running = null;
    }
  }

  private async make(source: PreviewSource): Promise<void> {
    const path = previewPath(this.dir, source.unit)!;
    const stretches = await this.loadStretches();
    const look = await renderQuicklook(source.files, source.grid, stretches[await bandSetOf(source.files[0]!)]);
    if (!stretches[look.stretch.bandSet]) {
      stretches[look.stretch.bandSet] = look.stretch;
      await mkdir(this.dir, { recursive: true });
      await writeFileAtomic(join(this.dir, 'stretch.json'), `${JSON.stringify({ stretches }, null, 2)}\n`);
    }
    await mkdir(join(path, '..'), { recursive: true });
    await writeFileAtomic(path, look.png);
  }

  private async loadStretches(): Promise<Record<string, Stretch>> {
    if (this.stretches) return this.stretches;
    const out: Record<string, Stretch> = {};
    try {
      const raw = JSON.parse(await readFile(join(this.dir, 'stretch.json'), 'utf8')) as { stretches?: Record<string, unknown> };
      for (const [key, value] of Object.entries(raw.stretches ?? {})) {
        const s = parseStretch(value);
        if (s && s.bandSet === key) out[key] = s;
      }
    } catch {
      // None yet (or unreadable): the next finished unit sets it.
    }
    return (this.stretches = out);
  }
}
