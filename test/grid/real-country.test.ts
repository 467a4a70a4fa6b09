import { describe, expect, it } from 'vitest';
import { resolveCrs } from '../../main/core/geo/crs';
import { buildGrid, type Grid } from '../../main/core/grid';
import { projectRoi } from '../../main/core/roi';
import { bruteForceCells } from '../helpers/brute-force';

/**
 * The grid against a brute-force reference on a real country's outline: seconds of work (the outline
 * densified to a quarter pixel has hundreds of thousands of vertices), so it lives beside the unit tests
 * of test/unit/grid.test.ts rather than among them (`npm run test:unit` stays quick).
 */
const ids = (g: Grid) => new Set(g.tiles.map((t) => `${t.i},${t.j}`));

describe('a real outline', () => {
  it('a real country (Germany, Natural Earth 1:10m) matches the reference on a 30 km grid', async () => {
    const { feature } = await import('topojson-client');
    const topo = (await import('world-atlas/countries-10m.json')).default as unknown as Parameters<typeof feature>[0];
    const all = feature(topo, (topo as unknown as { objects: { countries: Parameters<typeof feature>[1] } }).objects.countries) as unknown as {
      features: { properties: { name: string }; geometry: { coordinates: [number, number][][][] } }[];
    };
    const de = all.features.find((f) => f.properties.name === 'Germany')!;
    const roi = { path: 'de', layer: 'de', crs: resolveCrs('EPSG:4326'), features: [de.geometry.coordinates], crossesAntimeridian: false, warnings: [] };
    const spec = { crs: resolveCrs('EPSG:3035'), scale: 30, tilePixels: 1000 };
    const g = buildGrid(roi, spec);
    const ref = bruteForceCells(projectRoi(roi, spec.crs, 7.5).polygons, 30_000);
    expect(g.tiles.length).toBeGreaterThan(300);
    expect(ids(g)).toEqual(ref);
  });
});
