import type { StreamMessage, TileDetail } from '../../../shared/dashboard';
import type { Preview } from '../../../shared/previews';
import { previewSourceOf } from './hook';
import { PreviewMaker } from './previews';

/** What the quicklooks need of an engine host (main/core/engine/host.ts has all three). */
export interface PreviewHost {
  subscribe(listener: (m: StreamMessage) => void): () => void;
  tile(job: string, id: string): TileDetail;
  jobOf?(job: string): { readonly name: string; readonly stateDir: string; readonly output: string };
}

export interface HostPreviews {
  /** A unit's quicklook (base64 PNG), or `png: null` while it is not made (it is queued if the unit is done). */
  read(job: string, unit: string): Promise<Preview>;
  stop(): Promise<void>;
}

/**
 * Quicklooks for every job of a host, for `tessera serve` and the desktop app alike: a unit that reaches
 * `done` on the host's stream is queued (docs/previews.md); a unit asked for that is done but has no
 * quicklook yet (a job finished before, or one whose quicklook was lost) is queued when it is asked for.
 * Drawing runs in the background, one unit at a time, never in the download's path.
 */
export function attachPreviews(host: PreviewHost): HostPreviews {
  const makers = new Map<string, PreviewMaker>();
  const makerOf = (job: string): PreviewMaker | undefined => {
    if (!host.jobOf) return undefined;
    let m = makers.get(job);
    if (!m) {
      const j = host.jobOf(job);
      makers.set(job, (m = new PreviewMaker(j.stateDir)));
    }
    return m;
  };
  const queue = (job: string, detail: TileDetail): void => {
    if (detail.state !== 'done' || !host.jobOf) return;
    const source = previewSourceOf(host.jobOf(job).output, detail);
    if (source) makerOf(job)?.enqueue(source);
  };
  // A host without job folders (a test double) has nothing to draw: no subscription either.
  const off = !host.jobOf ? () => undefined : host.subscribe((m) => {
    if (m.kind !== 'event' || m.event.type !== 'tile-state' || m.event.state !== 'done') return;
    const { job, tile } = m.event;
    try {
      queue(job, host.tile(job, tile));
    } catch {
      // A job removed meanwhile: nothing to draw.
    }
  });
  return {
    async read(job, unit) {
      const maker = makerOf(job);
      const png = maker ? await maker.read(unit) : null;
      if (png) return { unit, png: Buffer.from(png).toString('base64') };
      try {
        queue(job, host.tile(job, unit));
      } catch {
        // Not a unit of the job: no quicklook, ever.
      }
      return { unit, png: null };
    },
    async stop() {
      off();
      await Promise.all([...makers.values()].map((m) => m.stop()));
    },
  };
}
