import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestJob {
  dir: string;
  file: string;
  name: string;
  output: string;
  stateDir: string;
}

/**
 * A job whose ROI is a rectangle of exactly `cols × rows` tiles in EPSG:3035 (edges on grid lines, so
 * the count is known without running the grid).
 */
export function rectangleJob(name: string, cols: number, rows: number, extra: Record<string, unknown> = {}, tilePixels = 128, scale = 10): TestJob {
  const dir = mkdtempSync(join(tmpdir(), `tessera-${name}-`));
  const size = tilePixels * scale;
  const i0 = Math.round(4_000_000 / size);
  const j0 = Math.round(3_000_000 / size);
  const [x0, y0, x1, y1] = [i0 * size, j0 * size, (i0 + cols) * size, (j0 + rows) * size];
  writeFileSync(
    join(dir, 'area.geojson'),
    JSON.stringify({
      type: 'FeatureCollection',
      crs: { type: 'name', properties: { name: 'EPSG:3035' } },
      features: [{ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] } }],
    }),
  );
  const job = {
    name,
    roi: { path: 'area.geojson' },
    grid: { crs: 'EPSG:3035', scale, tilePixels },
    drive: { folder: `tessera-${name}` },
    output: 'out',
    maxInFlight: 4,
    ...extra,
  };
  const file = join(dir, 'job.json');
  writeFileSync(file, JSON.stringify(job, null, 2));
  return { dir, file, name, output: join(dir, 'out'), stateDir: join(dir, '.tessera', name) };
}
