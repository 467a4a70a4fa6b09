import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { TileRecord } from '../job/state';
import { periodOf, unitId } from '../periods/units';
import { hasPeriodUnits, unitNameSource } from './names';

/**
 * Locally, Tessera never overwrites a file its journal did not write (docs/ownership.md, "Local files").
 * Before a run sends anything, the output folder is searched for files that carry one of the job's
 * output names (any tile, split children and parts included) but that no tile of the journal lists.
 */

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `{job}_{tileId}[_{periodId}]` with a grid tile id (`x12_ym3`, split children `_q0`…), an optional part suffix. */
function jobOutputName(job: string, withPeriods: boolean): RegExp {
  return new RegExp(`^${escapeRe(job)}_${unitNameSource(withPeriods)}(?:-\\d+-\\d+)?\\.(?:tif|csv|geojson)$`);
}

/** The unit id an output name belongs to, or undefined when the name is not one of the job's outputs. */
export function tileOfOutputName(job: string, name: string, withPeriods = false): string | undefined {
  const m = jobOutputName(job, withPeriods).exec(name);
  return m ? unitId(m[1]!, m[2] || undefined) : undefined;
}

/**
 * Output-named files in `outputDir` that the journal does not know, in name order. `exempt` tiles (being
 * adopted with `--adopt`) may hold files of the lost journal: their grid is checked instead.
 */
export async function unknownLocalOutputs(outputDir: string, job: string, tiles: Readonly<Record<string, TileRecord>>, exempt: ReadonlySet<string> = new Set()): Promise<string[]> {
  const withPeriods = hasPeriodUnits(tiles);
  const known = new Set<string>();
  const periods = new Set<string>();
  for (const t of Object.values(tiles)) {
    for (const f of t.files) known.add(f.name);
    if (withPeriods) periods.add(periodOf(t.id)!);
  }
  // A job with periods keeps each period's outputs in its own subfolder (docs/periods.md#names).
  const folders = withPeriods ? [...periods].map((p) => ({ dir: join(outputDir, p), rel: `${p}/`, period: p })) : [{ dir: outputDir, rel: '', period: undefined }];
  const out: string[] = [];
  for (const { dir, rel, period } of folders) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    for (const n of names) {
      const unit = tileOfOutputName(job, n, withPeriods);
      if (unit === undefined || known.has(n) || exempt.has(unit) || (period !== undefined && periodOf(unit) !== period)) continue;
      out.push(`${rel}${n}`);
    }
  }
  return out.sort();
}

export function unknownLocalMessage(outputDir: string, unknown: readonly string[]): string {
  return `the output folder ${outputDir} already holds ${unknown.length} file${unknown.length === 1 ? '' : 's'} with this job's output names that Tessera did not write (first: ${unknown[0]}); nothing was sent — move ${unknown.length === 1 ? 'it' : 'them'} away, or run again with --overwrite to let Tessera replace ${unknown.length === 1 ? 'it' : 'them'}`;
}
