import type { EngineEvent } from '../../../shared/contract';
import { safeOutputPath, unitOutputDir } from '../sync/names';
import type { PreviewMaker, PreviewSource } from './previews';
import type { UnitGrid } from './quicklook';

/** What a quicklook needs of a unit: the journal's record and the dashboard's tile detail both have it. */
export interface FinishedUnit {
  readonly id: string;
  readonly files: readonly { readonly name: string; readonly verified: boolean }[];
  readonly crsTransform: readonly number[];
  readonly dimensions: readonly number[];
}

/** The GeoTIFFs a finished unit left in the output folder, as a quicklook's source; undefined when it has none (asset or table jobs). */
export function previewSourceOf(output: string, unit: FinishedUnit): PreviewSource | undefined {
  const files: string[] = [];
  for (const f of unit.files) {
    if (!f.verified || !/\.tif$/i.test(f.name)) continue;
    try {
      files.push(safeOutputPath(unitOutputDir(output, unit.id), f.name));
    } catch {
      // A name that is not a plain file name was never downloaded either.
    }
  }
  if (!files.length) return undefined;
  const t = unit.crsTransform;
  const d = unit.dimensions;
  const grid: UnitGrid | undefined = t.length === 6 && d.length === 2 ? { crsTransform: [t[0]!, t[1]!, t[2]!, t[3]!, t[4]!, t[5]!], dimensions: [d[0]!, d[1]!] } : undefined;
  return { unit: unit.id, files, ...(grid ? { grid } : {}) };
}

/**
 * For an engine that runs without a host (`tessera run`): the one line its event handler adds. A unit of
 * `job` that reaches `done` is queued for its quicklook; `unitOf` reads it from the journal's state. The
 * maker runs on its own; the handler returns at once.
 */
export function previewHook(job: { name: string; output: string }, maker: PreviewMaker, unitOf: (id: string) => FinishedUnit | undefined): (e: EngineEvent) => void {
  return (e) => {
    if (e.type !== 'tile-state' || e.job !== job.name || e.state !== 'done') return;
    const unit = unitOf(e.tile);
    const source = unit && previewSourceOf(job.output, unit);
    if (source) maker.enqueue(source);
  };
}
