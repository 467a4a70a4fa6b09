/**
 * grid-100k: Germany at 1:10m (Natural Earth via world-atlas) cut into > 100,000 tiles of 0.02°
 * (EPSG:4326, 0.0002° pixels × 100), against the notebook way — turf `squareGrid` over the bounding box,
 * then `booleanIntersects` per cell — measured in this run. The baseline would take minutes, so it runs on
 * a random sample of the candidate cells and is scaled to all of them.
 */
import { squareGrid, booleanIntersects, bbox as turfBbox } from '@turf/turf';
import { feature } from 'topojson-client';
import { resolveCrs } from '../main/core/geo/crs';
import { buildGrid } from '../main/core/grid';
import type { Roi } from '../main/core/roi';
import { report } from './result';

type Geo = { type: 'Feature'; properties: { name: string }; geometry: { type: 'MultiPolygon' | 'Polygon'; coordinates: number[][][][] | number[][][] } };

function germany(): Geo {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const topo = require('world-atlas/countries-10m.json');
  const fc = feature(topo, topo.objects.countries) as unknown as { features: Geo[] };
  return fc.features.find((f) => f.properties.name === 'Germany')!;
}

function main(): void {
  const de = germany();
  const coords = (de.geometry.type === 'Polygon' ? [de.geometry.coordinates] : de.geometry.coordinates) as [number, number][][][];
  const roi: Roi = { path: 'germany', layer: 'countries', crs: resolveCrs('EPSG:4326'), features: [coords], crossesAntimeridian: false, warnings: [] };
  const spec = { crs: resolveCrs('EPSG:4326'), scale: 0.0002, tilePixels: 100 };

  const runs: number[] = [];
  let tiles = 0;
  for (let k = 0; k < 5; k++) {
    const t0 = process.hrtime.bigint();
    tiles = buildGrid(roi, spec).tiles.length;
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const first = runs[0]!;
  const ours = [...runs.slice(1)].sort((a, b) => a - b)[Math.floor((runs.length - 1) / 2)]!;
  const rssMb = process.resourceUsage().maxRSS / 1024;

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
    `grid-100k: ${tiles} tiles of ${candidates} candidate cells; ours ${ours.toFixed(0)} ms (median of 4 warm runs; first run ${first.toFixed(0)} ms), ` +
      `peak RSS ${rssMb.toFixed(0)} MB; turf baseline ${sampleMs.toFixed(0)} ms for a sample of ${sampleSize} cells (${hits} hit), ` +
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
    notes: `${tiles} tiles; peak RSS ${rssMb.toFixed(0)} MB; baseline sampled on ${sampleSize} of ${candidates} cells and scaled`,
  });
}

main();
