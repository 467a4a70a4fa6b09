import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FIXTURES } from '../fixtures/make';
import { REPO, tessera } from '../helpers/cli';

const fx = (name: string) => join(FIXTURES, name);

describe('tessera grid', () => {
  it('--json prints one object with the contract keys', () => {
    const r = tessera(['grid', fx('square3035.gpkg'), '--crs', 'EPSG:3035', '--scale', '30', '--tile-pixels', '3000', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ tiles: 8, crs: 'EPSG:3035', scale: 30, tilePixels: 3000 });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('prints a readable summary without --json', () => {
    const r = tessera(['grid', fx('square3035.gpkg'), '--crs', 'EPSG:3035', '--scale', '30', '--tile-pixels', '3000']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Tiles\s+8\b/);
    expect(r.stdout).toMatch(/34\.3 MiB per tile/);
  });

  it('warns when a tile exceeds the default maxPixels', () => {
    const r = tessera(['grid', fx('square3035.gpkg'), '--crs', 'EPSG:3035', '--scale', '10', '--tile-pixels', '12000', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/maxPixels/);
    expect(JSON.parse(r.stdout).estimate.exceedsDefaultMaxPixels).toBe(true);
  });

  it('--out writes EPSG:4326 GeoJSON that GDAL reads back onto the requested grid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-grid-'));
    const out = join(dir, 'tiles.geojson');
    const r = tessera(['grid', fx('utm33.gpkg'), '--crs', 'EPSG:32633', '--scale', '30', '--tile-pixels', '1000', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const n = JSON.parse(r.stdout).tiles as number;
    const fc = JSON.parse(readFileSync(out, 'utf8'));
    expect(fc.features).toHaveLength(n);
    const f0 = fc.features[0];
    expect(Object.keys(f0.properties).sort()).toEqual(['crs', 'crsTransform', 'dimensions', 'id']);
    expect(f0.geometry.coordinates[0].length).toBeGreaterThan(5); // edges densified
    // GDAL reprojects the tile outlines back into UTM: each must land on its transform's corners.
    const back = join(dir, 'back.geojson');
    execFileSync('ogr2ogr', ['-f', 'GeoJSON', back, out, '-t_srs', 'EPSG:32633', '-lco', 'COORDINATE_PRECISION=4']);
    const utm = JSON.parse(readFileSync(back, 'utf8'));
    for (const f of utm.features.slice(0, 50)) {
      const [s, , x0, , , y1] = f.properties.crsTransform as number[];
      const xs = f.geometry.coordinates[0].map((p: number[]) => p[0]);
      const ys = f.geometry.coordinates[0].map((p: number[]) => p[1]);
      expect(Math.min(...xs)).toBeCloseTo(x0!, 1);
      expect(Math.max(...ys)).toBeCloseTo(y1!, 1);
      expect(Math.max(...xs)).toBeCloseTo(x0! + 1000 * s!, 1);
    }
    const info = execFileSync('ogrinfo', ['-so', '-al', out], { encoding: 'utf8' });
    expect(info).toMatch(new RegExp(`Feature Count: ${n}\\b`));
  });

  it('picks a layer by name and refuses to guess between several polygon layers', () => {
    const both = tessera(['grid', fx('two_layers.gpkg'), '--crs', 'EPSG:32632', '--scale', '10', '--tile-pixels', '1000']);
    expect(both.code).toBe(1);
    expect(both.stderr.trim().split('\n')).toHaveLength(1);
    expect(both.stderr).toMatch(/2 polygon layers \(fields, forest\): choose one with --layer/);
    const forest = tessera(['grid', fx('two_layers.gpkg'), '--layer', 'forest', '--crs', 'EPSG:32632', '--scale', '10', '--tile-pixels', '1000', '--json']);
    const fields = tessera(['grid', fx('two_layers.gpkg'), '--layer', 'fields', '--crs', 'EPSG:32632', '--scale', '10', '--tile-pixels', '1000', '--json']);
    expect(forest.code).toBe(0);
    expect(JSON.parse(forest.stdout).tiles).toBeLessThan(JSON.parse(fields.stdout).tiles);
    const points = tessera(['grid', fx('two_layers.gpkg'), '--layer', 'plots', '--crs', 'EPSG:32632', '--scale', '10', '--tile-pixels', '1000']);
    expect(points.code).toBe(1);
    expect(points.stderr).toMatch(/plots.*POINT/);
  });

  it('reads legacy-crs GeoJSON in EPSG:3857', () => {
    const r = tessera(['grid', fx('legacy3857.geojson'), '--crs', 'EPSG:32633', '--scale', '30', '--tile-pixels', '1000', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).roi.crs).toBe('EPSG:3857');
  });

  it('repairs a self-crossing ring and says so', () => {
    const r = tessera(['grid', fx('bowtie.geojson'), '--crs', 'EPSG:32632', '--scale', '100', '--tile-pixels', '100', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/self-crossing rings/);
  });

  it('works from any folder, also through npx inside the checkout', () => {
    const sub = join(REPO, 'test');
    const rel = relative(sub, fx('square3035.gpkg'));
    const r = spawnSync('npx', ['--no-install', 'tessera', 'grid', rel, '--crs', 'EPSG:3035', '--scale', '30', '--tile-pixels', '3000', '--json'], {
      cwd: sub,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).tiles).toBe(8);
  });

  describe('bad input: one line, exit 1, no --out file', () => {
    const cases: [string, string[], RegExp][] = [
      ['file not found', ['grid', fx('nope.gpkg')], /ROI file not found/],
      ['not a GeoPackage', ['grid', fx('not_a_gpkg.gpkg')], /not a GeoPackage/],
      ['truncated GeoPackage', ['grid', fx('truncated.gpkg')], /truncated|malformed|cannot be read/],
      ['points only', ['grid', fx('points_only.gpkg')], /no polygon layer \(layers: plots \(POINT\)\)/],
      ['lines only', ['grid', fx('lines.geojson')], /no polygons/],
      ['empty collection', ['grid', fx('empty.geojson')], /no features/],
      ['invalid JSON', ['grid', fx('invalid.geojson')], /not valid JSON/],
      ['coordinates out of range', ['grid', fx('out_of_range.geojson')], /out of range for EPSG:4326/],
      ['unknown CRS in the file', ['grid', fx('unknown_crs.geojson')], /unknown CRS "EPSG:1"/],
      ['pole', ['grid', fx('pole.geojson')], /round a pole/],
      ['unknown export CRS', ['grid', fx('square3035.gpkg'), '--crs', 'EPSG:99999'], /unknown CRS "EPSG:99999"/],
      ['a vertical CRS', ['grid', fx('square3035.gpkg'), '--crs', 'EPSG:5703'], /vertcrs/],
      ['nonsense CRS', ['grid', fx('square3035.gpkg'), '--crs', 'UTM32'], /unknown CRS "UTM32"/],
      ['negative scale', ['grid', fx('square3035.gpkg'), '--scale', '-5'], /--scale/],
      ['fractional tile pixels', ['grid', fx('square3035.gpkg'), '--tile-pixels', '10.5'], /--tile-pixels/],
      ['absurd tile count', ['grid', fx('square3035.gpkg'), '--scale', '1', '--tile-pixels', '1'], /limit/],
      ['unknown layer', ['grid', fx('two_layers.gpkg'), '--layer', 'roads'], /no layer "roads" \(layers: fields \(MULTIPOLYGON|POLYGON\)/],
    ];
    for (const [what, args, message] of cases) {
      it(what, () => {
        const dir = mkdtempSync(join(tmpdir(), 'tessera-bad-'));
        const defaults = { '--crs': 'EPSG:3035', '--scale': '30', '--tile-pixels': '3000' } as Record<string, string>;
        const full = [...args];
        for (const [k, v] of Object.entries(defaults)) if (!full.includes(k)) full.push(k, v);
        full.push('--out', join(dir, 'tiles.geojson'));
        const r = tessera(full);
        expect(r.code).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toMatch(/\bat .*\.(ts|js|cjs):\d+/);
        expect(readdirSync(dir)).toEqual([]);
        expect(existsSync(join(dir, 'tiles.geojson'))).toBe(false);
      });
    }

    it('a missing required flag', () => {
      const r = tessera(['grid', fx('square3035.gpkg'), '--scale', '30', '--tile-pixels', '3000']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/--crs/);
    });
  });

  it('every command has --help', () => {
    expect(tessera(['--help']).stdout).toMatch(/grid/);
    const h = tessera(['grid', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/--tile-pixels/);
  });
});
