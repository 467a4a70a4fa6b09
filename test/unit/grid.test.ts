import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { resolveCrs } from '../../main/core/geo/crs';
import { buildGrid, parseTileId, tileId, tileBounds, type Grid } from '../../main/core/grid';
import { coverCells } from '../../main/core/grid/cover';
import { loadRoi, projectRoi } from '../../main/core/roi';
import { bruteForceCells } from '../helpers/brute-force';
import { FIXTURES } from '../fixtures/make';

const fx = (name: string) => join(FIXTURES, name);
const ids = (g: Grid) => new Set(g.tiles.map((t) => `${t.i},${t.j}`));

async function grid(file: string, crs: string, scale: number, tilePixels: number, layer?: string): Promise<Grid> {
  return buildGrid(await loadRoi(fx(file), { layer }), { crs: resolveCrs(crs), scale, tilePixels });
}

/** The same ROI, projected the same way, covered by brute force. */
async function reference(file: string, crs: string, scale: number, tilePixels: number, layer?: string): Promise<Set<string>> {
  const roi = await loadRoi(fx(file), { layer });
  const projected = projectRoi(roi, resolveCrs(crs), scale / 4);
  return bruteForceCells(projected.polygons, scale * tilePixels);
}

describe('tile ids', () => {
  it('writes negative indices with m and parses them back', () => {
    expect(tileId(12, -3)).toBe('x12_ym3');
    expect(tileId(-1, 0)).toBe('xm1_y0');
    expect(parseTileId('xm12_y7')).toEqual({ i: -12, j: 7 });
    expect(parseTileId('x1_y2_q0')).toBeUndefined();
  });
});

describe('grid on hand-made shapes', () => {
  it('cuts a 250 × 100 km rectangle in EPSG:3035 into 4 × 2 tiles of 90 km anchored at the origin', async () => {
    const g = await grid('square3035.gpkg', 'EPSG:3035', 30, 3000);
    expect([...ids(g)].sort()).toEqual(['44,33', '44,34', '45,33', '45,34', '46,33', '46,34', '47,33', '47,34'].sort());
    const t = g.tiles.find((x) => x.id === 'x44_y33')!;
    expect(t.crs).toBe('EPSG:3035');
    expect(t.crsTransform).toEqual([30, 0, 3_960_000, 0, -30, 3_060_000]);
    expect(t.dimensions).toEqual([3000, 3000]);
    expect(g.estimate.pixelsPerTile).toBe(9e6);
    expect(g.estimate.totalBytes).toBe(8 * 9e6 * 4);
  });

  it('keeps tiles that merely touch the ROI out, and drops the tile filling a hole', async () => {
    // Outer square exactly on grid lines (columns 40…44, rows 30…34); the hole is exactly tile (42, 32).
    const g = await grid('hole3035.gpkg', 'EPSG:3035', 30, 3000);
    expect(g.tiles).toHaveLength(24);
    expect(ids(g).has('42,32')).toBe(false);
    expect(ids(g).has('39,32')).toBe(false); // shares only an edge with the ROI
    expect(ids(g).has('45,35')).toBe(false); // shares only a corner
    expect(ids(g).has('41,32')).toBe(true); // touches the hole, lies in the ROI
  });

  it('keeps a tile the hole only partly covers', async () => {
    // 45 km tiles: the 90 km hole covers four tiles whole; their neighbours stay.
    const g = await grid('hole3035.gpkg', 'EPSG:3035', 15, 3000);
    expect(g.tiles).toHaveLength(100 - 4);
    const ref = await reference('hole3035.gpkg', 'EPSG:3035', 30, 1000);
    const g3 = await grid('hole3035.gpkg', 'EPSG:3035', 30, 1000);
    expect(ids(g3)).toEqual(ref);
  });

  it('rejects the hole with a 30 km tile straddling it', async () => {
    const g = await grid('hole3035.gpkg', 'EPSG:3035', 30, 1000);
    expect(g.tiles).toHaveLength(15 * 15 - 9);
  });
});

describe('grid against a brute-force reference', () => {
  const cases: [string, string, number, number, string?][] = [
    ['utm33.gpkg', 'EPSG:32633', 30, 500],
    ['utm33.gpkg', 'EPSG:3035', 10, 1000],
    ['utm33.gpkg', 'EPSG:4326', 0.001, 100],
    ['legacy3857.geojson', 'EPSG:32633', 20, 512],
    ['two_layers.gpkg', 'EPSG:32632', 10, 256, 'forest'],
    ['antimeridian.geojson', 'EPSG:3832', 100, 100],
  ];
  for (const [file, crs, scale, t, layer] of cases) {
    it(`${file}${layer ? `:${layer}` : ''} in ${crs} at ${scale} × ${t} px`, async () => {
      const g = await grid(file, crs, scale, t, layer);
      expect(g.tiles.length).toBeGreaterThan(20);
      expect(ids(g)).toEqual(await reference(file, crs, scale, t, layer));
    });
  }

  it('neighbouring tiles abut exactly and every pixel edge lies on the CRS-anchored lattice', async () => {
    const g = await grid('utm33.gpkg', 'EPSG:32633', 30, 500);
    const byId = new Map(g.tiles.map((t) => [`${t.i},${t.j}`, t]));
    let pairs = 0;
    for (const t of g.tiles) {
      const [s, , x0, , sy, y1] = t.crsTransform;
      expect(s).toBe(30);
      expect(sy).toBe(-30);
      expect(x0 / (30 * 500)).toBe(t.i);
      expect(y1 / (30 * 500)).toBe(t.j + 1);
      const right = byId.get(`${t.i + 1},${t.j}`);
      if (right) {
        expect(tileBounds(t)[2]).toBe(tileBounds(right)[0]);
        pairs++;
      }
      const below = byId.get(`${t.i},${t.j - 1}`);
      if (below) expect(tileBounds(t)[1]).toBe(tileBounds(below)[3]);
    }
    expect(pairs).toBeGreaterThan(10);
  });

});

describe('reprojection agrees with GDAL', () => {
  it('the UTM outline reprojected by ogr2ogr gives the same EPSG:3035 tiles', async () => {
    const out = join(FIXTURES, 'utm33_in_3035.gpkg');
    execFileSync('ogr2ogr', ['-overwrite', '-f', 'GPKG', out, fx('utm33.gpkg'), '-t_srs', 'EPSG:3035', '-segmentize', '100']);
    const ours = await grid('utm33.gpkg', 'EPSG:3035', 10, 1000);
    const viaGdal = await grid('utm33_in_3035.gpkg', 'EPSG:3035', 10, 1000);
    expect(ids(ours)).toEqual(ids(viaGdal));
  });
});

describe('antimeridian', () => {
  it('an outline jumping from +179 to −179 becomes tiles on both sides in EPSG:4326, not a band round the globe', async () => {
    const g = await grid('antimeridian.geojson', 'EPSG:4326', 0.001, 100);
    const xs = g.tiles.map((t) => t.crsTransform[2]);
    expect(Math.max(...xs)).toBeGreaterThan(179.8);
    expect(Math.min(...xs)).toBeLessThan(-179.8);
    expect(xs.every((x) => x > 178 || x < -178)).toBe(true);
    // The reference: the same outline, split by hand at ±180.
    const roi = await loadRoi(fx('antimeridian.geojson'));
    const east = bruteForceCells(projectRoi(roi, resolveCrs('EPSG:4326'), 0.00025).polygons, 0.1);
    expect(ids(g)).toEqual(east);
    expect(g.tiles.length).toBeLessThan(700); // 2.2° × 2.1° of 0.1° tiles at most
  });

  it('refuses a ring that goes round a pole, saying so', async () => {
    await expect(loadRoi(fx('pole.geojson'))).rejects.toThrow(/round a pole/);
  });
});

describe('cover internals', () => {
  it('counts a diagonal edge through cell corners correctly', () => {
    const rows = coverCells([[[[0, 0], [3, 3], [0, 3], [0, 0]]]]);
    const cells = rows.flatMap((r) => [...r.cols].map((i) => `${i},${r.j}`)).sort();
    // Upper-left triangle of a 3×3 block: the diagonal cells have half their area inside.
    expect(cells).toEqual(['0,0', '0,1', '0,2', '1,1', '1,2', '2,2'].sort());
  });
});
