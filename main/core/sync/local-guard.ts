import { readdir } from 'node:fs/promises';
import type { TileRecord } from '../job/state';

/**
 * Locally, Tessera never overwrites a file its journal did not write (docs/ownership.md, "Local files").
 * Before a run sends anything, the output folder is searched for files that carry one of the job's
 * output names (any tile, split children and parts included) but that no tile of the journal lists.
 */

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `{job}_{tileId}` with a grid tile id (`x12_ym3`, split children `_q0`…), an optional part suffix. */
function jobOutputName(job: string): RegExp {
  return new RegExp(`^${escapeRe(job)}_(x(?:m?\\d+)_y(?:m?\\d+)(?:_q[0-3])*)(?:-\\d+-\\d+)?\\.(?:tif|csv|geojson)$`);
}

/** The tile id an output name belongs to, or undefined when the name is not one of the job's outputs. */
export function tileOfOutputName(job: string, name: string): string | undefined {
  return jobOutputName(job).exec(name)?.[1];
}

/**
 * Output-named files in `outputDir` that the journal does not know, in name order. `exempt` tiles (being
 * adopted with `--adopt`) may hold files of the lost journal: their grid is checked instead.
 */
export async function unknownLocalOutputs(outputDir: string, job: string, tiles: Readonly<Record<string, TileRecord>>, exempt: ReadonlySet<string> = new Set()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(outputDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const known = new Set<string>();
  for (const t of Object.values(tiles)) for (const f of t.files) known.add(f.name);
  return names
    .filter((n) => {
      const tile = tileOfOutputName(job, n);
      return tile !== undefined && !known.has(n) && !exempt.has(tile);
    })
    .sort();
}

export function unknownLocalMessage(outputDir: string, unknown: readonly string[]): string {
  return `the output folder ${outputDir} already holds ${unknown.length} file${unknown.length === 1 ? '' : 's'} with this job's output names that Tessera did not write (first: ${unknown[0]}); nothing was sent — move ${unknown.length === 1 ? 'it' : 'them'} away, or run again with --overwrite to let Tessera replace ${unknown.length === 1 ? 'it' : 'them'}`;
}
