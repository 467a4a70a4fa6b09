/**
 * A process that does only what `tessera grid` does with a region: read the ROI file and cut the grid,
 * five times. It prints one JSON line: the time of each `buildGrid`, of one walk that makes every tile's
 * export parameters (what the planner and the GeoJSON writer do), the tile count and the process's peak
 * RSS.
 *
 * Usage (bundled by bench/grid.bench.ts into out/bench/): node grid-child.cjs ROI.geojson CRS SCALE TILE_PIXELS RUNS
 */
import { resolveCrs } from '../../main/core/geo/crs';
import { buildGrid } from '../../main/core/grid';
import { loadRoi } from '../../main/core/roi';

async function main(): Promise<void> {
  const [roiPath, crs, scale, tilePixels, runs] = process.argv.slice(2);
  if (!roiPath || !crs || !scale || !tilePixels || !runs) throw new Error('usage: grid-child ROI CRS SCALE TILE_PIXELS RUNS');
  const rssBeforeKb = process.resourceUsage().maxRSS;
  const roi = await loadRoi(roiPath);
  const spec = { crs: resolveCrs(crs), scale: Number(scale), tilePixels: Number(tilePixels) };
  const runsMs: number[] = [];
  let tiles = 0;
  let walkMs = 0;
  for (let k = 0; k < Number(runs); k++) {
    const t0 = process.hrtime.bigint();
    const grid = buildGrid(roi, spec);
    runsMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    tiles = grid.tiles.length;
    if (k === 0) {
      // Every tile's export parameters once, as the planner makes them for the journal.
      const w0 = process.hrtime.bigint();
      let check = 0;
      for (const t of grid.tiles) check += t.crsTransform[2] + t.id.length;
      walkMs = Number(process.hrtime.bigint() - w0) / 1e6;
      if (!Number.isFinite(check)) throw new Error('a tile without a position');
    }
  }
  process.stdout.write(JSON.stringify({ runsMs, walkMs, tiles, rssBeforeKb, maxRssKb: process.resourceUsage().maxRSS }) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`grid-child: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
