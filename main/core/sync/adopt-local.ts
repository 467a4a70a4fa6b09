import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileRecord, TileRecord } from '../job/state';
import { checkGrids, readRasterGrid } from './grid-check';
import { tolerantOutputPattern } from './ownership';

/**
 * `--adopt` of a succeeded operation whose outputs are gone from Drive (docs/ownership.md, "Adopting"):
 * the lost journal had downloaded them. The local files at the tile's output names are taken as the
 * tile's outputs only when their grids are the tile's; they are then journaled as written by Tessera.
 */
export async function adoptLocalOutputs(outputDir: string, job: string, tile: TileRecord, partial: boolean): Promise<{ files: FileRecord[] } | { problem: string } | undefined> {
  const pattern = tolerantOutputPattern(job, tile.id);
  let names: string[];
  try {
    names = (await readdir(outputDir)).filter((n) => pattern.test(n)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (names.length === 0) return undefined;
  const tifs = names.filter((n) => n.endsWith('.tif'));
  if (tifs.length) {
    const grids = await Promise.all(tifs.map(async (name) => ({ name, grid: await readRasterGrid(join(outputDir, name)) })));
    const problem = checkGrids(tile, grids, partial);
    if (problem) return { problem };
  }
  const files: FileRecord[] = [];
  for (const name of names) {
    const path = join(outputDir, name);
    const size = (await stat(path)).size;
    const hash = createHash('md5');
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) hash.update(chunk);
    // No Drive file: the id says where it came from; nothing is left in Drive to clean.
    files.push({ id: `local:${name}`, name, size, md5: hash.digest('hex'), verified: true, cleaned: true });
  }
  return { files };
}
