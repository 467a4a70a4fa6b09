import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPoints, pointsInTile } from '../../main/core/recipes';
import { parsePresetParams } from '../../shared/recipes';

const name = (n: number) => (n < 0 ? `m${-n}` : String(n));
const tile = (i: number, j: number) => ({ id: `x${name(i)}_y${name(j)}`, crs: 'EPSG:3035', crsTransform: [10, 0, i * 100, 0, -10, (j + 1) * 100], dimensions: [10, 10] as [number, number] });

describe('points layer', () => {
  it('assigns every point to exactly one tile by the half-open rule (edges and corners included)', () => {
    const points = [
      [0, 0], [100, 100], [50, 100], [100, 50], [99.999, 0.001], [0, 200], [150, 150], [200, 200],
    ].map(([x, y], k) => ({ x: x!, y: y!, properties: { point_id: k } }));
    const tiles: ReturnType<typeof tile>[] = [];
    for (let i = -1; i <= 2; i++) for (let j = -1; j <= 2; j++) tiles.push(tile(i, j));
    const owners = points.map((p) => tiles.filter((t) => pointsInTile([p], t).length === 1).map((t) => t.id));
    for (const o of owners) expect(o).toHaveLength(1);
    // x0 ≤ x < x1 and y0 < y ≤ y1: (100, 100) is in the tile to the right (x) and the same row (y = y1).
    expect(owners[1]).toEqual(['x1_y0']);
    expect(owners[0]).toEqual(['x0_ym1']);
  });

  it('reads GeoJSON and GeoPackage point layers into the export CRS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-points-'));
    const geojson = join(dir, 'plots.geojson');
    writeFileSync(
      geojson,
      JSON.stringify({
        type: 'FeatureCollection',
        features: [
          { type: 'Feature', properties: { plot: 'A', n: 1 }, geometry: { type: 'Point', coordinates: [11.5, 48.1] } },
          { type: 'Feature', properties: { plot: 'B', n: 2 }, geometry: { type: 'Point', coordinates: [11.6, 48.2] } },
        ],
      }),
    );
    const gpkg = join(dir, 'plots.gpkg');
    execFileSync('ogr2ogr', ['-f', 'GPKG', gpkg, geojson, '-nln', 'RandomPoints']);
    const a = await loadPoints(geojson, 'EPSG:3035');
    const b = await loadPoints(gpkg, 'EPSG:3035');
    expect(a).toHaveLength(2);
    expect(b).toHaveLength(2);
    for (let k = 0; k < 2; k++) {
      expect(b[k]!.x).toBeCloseTo(a[k]!.x, 3);
      expect(b[k]!.y).toBeCloseTo(a[k]!.y, 3);
      expect(b[k]!.properties.plot).toBe(a[k]!.properties.plot);
      expect(a[k]!.properties.point_id).toBe(k);
    }
    expect(a[0]!.x).toBeGreaterThan(4_000_000); // LAEA Europe metres
  });

  it('validates preset parameters naming the key', () => {
    const r = parsePresetParams('s2-median', { start: '2023-01-01', end: '2022-01-01' });
    expect(r.ok).toBe(false);
    const bad = parsePresetParams('landsat-stm', { start: '2023-01-01', end: '2023-02-01', indices: ['EVI9'] });
    expect(!bad.ok && bad.message).toMatch(/params\.indices\.0/);
  });
});
