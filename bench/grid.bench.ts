/**
 * grid-100k, grid-100k-rss: Germany at 1:10m (Natural Earth via world-atlas) cut into > 100,000 tiles of
 * 0.02° (EPSG:4326, 0.0002° pixels × 100), against the notebook way — turf `squareGrid` over the bounding
 * box, then `booleanIntersects` per cell — measured in this run. Tessera's grid runs in a child process that
 * does nothing else (bundled by esbuild and run by plain node, as the CLI ships; it reads the region from a
 * GeoJSON file as `tessera grid` does), so its peak RSS is the grid's and not this process's (turf, the
 * world atlas, tsx). The baseline would take minutes, so it runs on a random sample of the candidate
 * cells and is scaled to all of them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { squareGrid, booleanIntersects, bbox as turfBbox } from '@turf/turf';
import { build } from 'esbuild';
import { feature } from 'topojson-client';
import { REPO } from './lib/emulator';
import { report } from './result';

const RUNS = 5;
const RSS_TARGET_MB = 200;

type Geo = { type: 'Feature'; properties: { name: string }; geometry: { type: 'MultiPolygon' | 'Polygon'; coordinates: number[][][][] | number[][][] } };

function germany(): Geo {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const topo = require('world-atlas/countries-10m.json');
  const fc = feature(topo, topo.objects.countries) as unknown as { features: Geo[] };
  return fc.features.find((f) => f.properties.name === 'Germany')!;
}

async function main(): Promise<void> {
  const de = germany();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-grid-'));
  const roiPath = join(dir, 'germany.geojson');
  writeFileSync(roiPath, JSON.stringify({ type: 'FeatureCollection', features: [de] }));
  const child = join(REPO, 'out', 'bench', 'grid-child.cjs');
  await build({ entryPoints: [join(__dirname, 'lib', 'grid-child.ts')], outfile: child, bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', logLevel: 'warning' });
  const r = spawnSync(process.execPath, [child, roiPath, 'EPSG:4326', '0.0002', '100', String(RUNS)], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`the grid child failed (exit ${r.status ?? r.signal})`);
  const c = JSON.parse(r.stdout.trim().split('\n').pop()!) as { runsMs: number[]; walkMs: number; tiles: number; rssBeforeKb: number; maxRssKb: number };
  const runs = c.runsMs;
  const tiles = c.tiles;
  const first = runs[0]!;
  const ours = [...runs.slice(1)].sort((a, b) => a - b)[Math.floor((runs.length - 1) / 2)]!;
  const rssMb = c.maxRssKb / 1024;

  // Baseline on a seeded random sample of the candidate cells.
  const cells = squareGrid(turfBbox(de as never) as [number, number, number, number], 0.02, { units: 'degrees' });
  const candidates = cells.features.length;
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const sampleSize = Math.min(1500, candidates);
  const sample = Array.from({ length: sampleSize }, () => cells.features[Math.floor(rand() * candidates)]!);
  const b0 = process.hrtime.bigint();
  let hits = 0;
  for (const cell of sample) if (booleanIntersects(cell, de as never)) hits++;
  const sampleMs = Number(process.hrtime.bigint() - b0) / 1e6;
  const baseline = (sampleMs / sampleSize) * candidates;
  const ratio = baseline / ours;

  process.stderr.write(
    `grid-100k: ${tiles} tiles of ${candidates} candidate cells; ours ${ours.toFixed(0)} ms (median of 4 warm runs; first run ${first.toFixed(0)} ms; ` +
      `making every tile's export parameters once ${c.walkMs.toFixed(0)} ms), peak RSS of the grid process ${rssMb.toFixed(0)} MB ` +
      `(${(c.rssBeforeKb / 1024).toFixed(0)} MB before reading the region); turf baseline ${sampleMs.toFixed(0)} ms for a sample of ${sampleSize} cells (${hits} hit), ` +
      `scaled to all candidates: ${(baseline / 1000).toFixed(1)} s → ${ratio.toFixed(0)}× faster\n`,
  );
  report({
    name: 'grid-100k',
    value: Math.round(ours),
    unit: 'ms',
    baseline: Math.round(baseline),
    ratio: Math.round(ratio),
    target: '< 1000 ms for ≥ 100,000 tiles and ≥ 100× the turf baseline',
    pass: tiles >= 100_000 && ours < 1000 && ratio >= 100,
    notes: `${tiles} tiles; ${RUNS} runs in a child process (first ${first.toFixed(0)} ms); making every tile's export parameters once: ${c.walkMs.toFixed(0)} ms; baseline sampled on ${sampleSize} of ${candidates} cells and scaled`,
  });
  report({
    name: 'grid-100k-rss',
    value: Math.round(rssMb),
    unit: 'MB',
    baseline: null,
    ratio: null,
    target: `< ${RSS_TARGET_MB} MB peak RSS of the process cutting the grid`,
    pass: rssMb < RSS_TARGET_MB,
    notes: `peak RSS of a process that only reads the region and cuts the ${tiles}-tile grid ${RUNS} times (plain node, bundled like the CLI); ${(c.rssBeforeKb / 1024).toFixed(0)} MB before it read the region`,
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`grid bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
