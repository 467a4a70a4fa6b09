import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { parseCsv } from '../../main/core/recipes/results';
import { rectangleJob, type TestJob } from '../helpers/job';
import { runJob, runJobQuietly } from '../helpers/emulator';
import { tessera, tesseraAsync } from '../helpers/cli';
import { FULL_CATALOG, recordingProxy } from './helpers';

let emu: EmulatorHandle;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;

beforeAll(async () => {
  emu = await startEmulator({ catalogPath: FULL_CATALOG, timeScale: 1000, taskBaseSeconds: 20, slots: 4 });
  proxy = await recordingProxy(emu.url);
});
afterAll(async () => {
  await proxy?.close();
  await emu?.stop();
});

const TILE = 64;
const SCALE = 10;
const SIZE = TILE * SCALE;
/** The grid origin of rectangleJob with these settings. */
const X0 = Math.round(4_000_000 / SIZE) * SIZE;
const Y0 = Math.round(3_000_000 / SIZE) * SIZE;

function jobWith(name: string, cols: number, rows: number, extra: Record<string, unknown>): TestJob {
  return rectangleJob(name, cols, rows, { maxInFlight: 8, poll: { minSeconds: 1, maxSeconds: 2 }, ...extra }, TILE, SCALE);
}

function opsOf(job: string) {
  return emu.state().operations.filter((o) => o.description?.startsWith(`${job}_`));
}

function exportBodies(kind: 'image' | 'table', job: string): Record<string, unknown>[] {
  return proxy.requests
    .filter((r) => r.method === 'POST' && r.path.includes(`/${kind}:export`))
    .map((r) => JSON.parse(r.body) as Record<string, unknown>)
    .filter((b) => String(b.description).startsWith(`${job}_`));
}

/** Every function invocation in an expression: name → the argument names it was called with. */
function invocations(expr: unknown): { name: string; args: string[]; raw: Record<string, unknown> }[] {
  const out: { name: string; args: string[]; raw: Record<string, unknown> }[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const f = (v as { functionInvocationValue?: { functionName: string; arguments: Record<string, unknown> } }).functionInvocationValue;
      if (f) out.push({ name: f.functionName, args: Object.keys(f.arguments ?? {}), raw: f.arguments ?? {} });
      Object.values(v).forEach(walk);
    }
  };
  walk(expr);
  return out;
}

/** The CLI in its own process without blocking this one (the emulator runs in this process). */
const cli = (args: string[], env: Record<string, string> = {}) => tesseraAsync(args, { env });

function gdalinfo(path: string): { size: [number, number]; geoTransform: number[]; bands: { type: string }[] } {
  return JSON.parse(execFileSync('gdalinfo', ['-json', path], { encoding: 'utf8' }));
}

const PRESET_JOBS: [string, Record<string, unknown>, string[]][] = [
  ['s2', { preset: 's2-median', params: { start: '2023-05-01', end: '2023-09-01', bands: ['B4', 'B8'], maxCloudPercent: 40 } }, ['B4', 'B8']],
  ['landsat', { preset: 'landsat-stm', params: { start: '2022-01-01', end: '2023-01-01', indices: ['NDVI', 'NBR'], metrics: ['p10', 'p90', 'mean'] } }, ['NDVI_p10', 'NBR_p10', 'NDVI_p90', 'NBR_p90', 'NDVI_mean', 'NBR_mean']],
  ['dem', { preset: 'asset', params: { id: 'projects/tessera-test/assets/dem' } }, ['elevation']],
];

describe('presets export end to end against the emulator with Google\'s full catalog', () => {
  it.each(PRESET_JOBS)('%s: one export per tile on the grid, a seamless VRT, a summary', async (name, recipe, bands) => {
    const job = jobWith(`p-${name}`, 3, 2, { recipe });
    const r = await runJobQuietly(job.file, proxy.url);
    const ops = opsOf(job.name);
    expect(ops).toHaveLength(6);
    expect(ops.every((o) => o.state === 'SUCCEEDED')).toBe(true);

    // Request bodies: the grid's crs + crsTransform + dimensions (docs/earth-engine-client.md#exports), never region/scale.
    const bodies = exportBodies('image', job.name);
    expect(bodies).toHaveLength(6);
    for (const body of bodies) {
      const calls = invocations(body.expression);
      // The export's bounds: a Rectangle in the tile's Projection (crs + transform), docs/earth-engine-client.md#exports.
      const rects = calls.filter((c) => c.name === 'GeometryConstructors.Rectangle' && c.args.includes('crs'));
      const inTileProjection = rects.filter((c) => invocations(c.raw.crs).some((p) => p.name === 'Projection' && p.args.includes('transform')));
      expect(inTileProjection.length, 'a Rectangle in the tile projection').toBeGreaterThan(0);
      const bounds = calls.find((c) => c.name === 'Image.clipToBoundsAndScale')!;
      expect(bounds.args).not.toContain('scale');
      expect(bounds.args).not.toContain('maxDimension');
      expect(calls.some((c) => c.name === 'Image.resample')).toBe(false);
      expect(calls.some((c) => c.name === 'Image.reproject')).toBe(true);
      expect(JSON.stringify(body)).not.toMatch(/"region"/);
    }

    // One seamless raster: the grid's origin and pixel size, tiles abutting without gaps or overlaps.
    const vrt = join(job.output, `${job.name}.vrt`);
    expect(r.stdout).toContain(`mosaic: ${vrt}`);
    const info = gdalinfo(vrt);
    expect(info.size).toEqual([3 * TILE, 2 * TILE]);
    expect(info.geoTransform).toEqual([X0, SCALE, 0, Y0 + 2 * SIZE, 0, -SCALE]);
    expect(info.bands).toHaveLength(bands.length);
    const xml = readFileSync(vrt, 'utf8');
    const rects = [...xml.matchAll(/<DstRect xOff="(\d+)" yOff="(\d+)" xSize="(\d+)" ySize="(\d+)"/g)].map((m) => m.slice(1).map(Number));
    const perBand = rects.slice(0, 6);
    const covered = new Set<string>();
    for (const [x, y, w, h] of perBand) for (let i = x!; i < x! + w!; i++) for (let j = y!; j < y! + h!; j++) covered.add(`${i},${j}`);
    expect(covered.size).toBe(3 * TILE * 2 * TILE); // every pixel exactly once: 6 tiles of 64×64, no overlap
    expect(perBand.reduce((s, [, , w, h]) => s + w! * h!, 0)).toBe(covered.size);
    // GDAL reads a pixel through the mosaic.
    execFileSync('gdal_translate', ['-q', '-of', 'GTiff', vrt, join(job.output, 'check.tif')]);

    const summary = JSON.parse(readFileSync(join(job.output, `${job.name}.summary.json`), 'utf8'));
    expect(summary.tiles.done).toBe(6);
    expect(summary.eecuSeconds).toBeGreaterThan(0);
    expect(summary.bytes).toBeGreaterThan(0);
    expect(readFileSync(join(job.output, `${job.name}.summary.txt`), 'utf8')).toMatch(/EECU-seconds/);
  }, 120_000);
});

describe('point extraction', () => {
  it('exports one table per tile holding only its points (half-open rule), merged once with tile_id', async () => {
    const dir = jobWith('pts-probe', 1, 1, {}).dir; // a scratch folder
    // 3 × 2 tiles; points inside, on shared vertical and horizontal edges, on a corner; the tile (2, 0) gets none.
    const pts: [number, number][] = [
      [X0 + 100, Y0 + SIZE + 100],
      [X0 + SIZE, Y0 + SIZE + 300], // on the edge between columns 0 and 1 → column 1
      [X0 + 300, Y0 + SIZE], // on the edge between rows 0 and 1 → the lower tile (y0 < y ≤ y1)
      [X0 + SIZE, Y0 + SIZE], // a corner shared by four tiles → exactly one
      [X0 + 2 * SIZE + 10, Y0 + 2 * SIZE - 5],
      [X0 + 5, Y0 + 5],
    ];
    writeFileSync(
      join(dir, 'points.geojson'),
      JSON.stringify({
        type: 'FeatureCollection',
        crs: { type: 'name', properties: { name: 'EPSG:3035' } },
        features: pts.map((c, k) => ({ type: 'Feature', properties: { plot: `P${k}` }, geometry: { type: 'Point', coordinates: c } })),
      }),
    );
    const job = jobWith('pts', 3, 2, {
      points: join(dir, 'points.geojson'),
      recipe: { preset: 'points', params: { image: { preset: 'asset', params: { id: 'projects/tessera-test/assets/dem' } } } },
    });
    const r = await runJobQuietly(job.file, proxy.url);
    const bodies = exportBodies('table', job.name);
    const tileOf = ([x, y]: [number, number]) => {
      const i = Math.floor((x - X0) / SIZE);
      const j = Math.ceil((y - Y0) / SIZE) - 1; // y0 < y ≤ y1
      return `x${i + Math.round(X0 / SIZE)}_y${j + Math.round(Y0 / SIZE)}`;
    };
    const expectedTiles = new Set(pts.map(tileOf));
    expect(bodies.map((b) => String(b.description).replace(/^pts_/, '').replace(/_a\d+$/, '')).sort()).toEqual([...expectedTiles].sort());
    // Tiles without points were skipped without an export.
    const status = JSON.parse(tessera(['status', job.file, '--json']).stdout);
    expect(status.tiles.skipped).toBe(6 - expectedTiles.size);
    expect(opsOf(job.name)).toHaveLength(expectedTiles.size);

    const merged = parseCsv(readFileSync(join(job.output, `${job.name}.csv`), 'utf8'));
    const [header, ...rows] = merged;
    expect(header![0]).toBe('tile_id');
    expect(header).toContain('elevation');
    const idCol = header!.indexOf('point_id');
    expect(rows.map((r) => Number(r[idCol])).sort()).toEqual(pts.map((_, k) => k));
    for (const row of rows) expect(row[0]).toBe(tileOf(pts[Number(row[idCol])]!));
    expect(r.stdout).toContain(`(${pts.length} rows)`);
    // The same table as a GeoPackage layer, points in EPSG:4326.
    const ogr = execFileSync('ogrinfo', ['-ro', '-so', '-al', join(job.output, `${job.name}.gpkg`)], { encoding: 'utf8' });
    expect(ogr).toMatch(new RegExp(`Feature Count: ${pts.length}\\b`));
    expect(ogr).toMatch(/Geometry: Point/);
    expect(ogr).toMatch(/tile_id: String/);
  }, 120_000);
});

describe('custom recipes', () => {
  const cases: [string, string, RegExp][] = [
    ['syntax', 'module.exports = (tile, ee) => {\n  const x = ;\n};\n', /bad\.js:2.*syntax error/],
    ['throws', "const helper = () => {\n  throw new Error('no imagery here');\n};\nmodule.exports = (tile, ee) => helper();\n", /bad\.js:2.*no imagery here/],
    ['wrong-type', 'module.exports = (tile, ee) => ee.Number(3);\n', /returned an ee\.Number.*must return an ee\.Image or an ee\.FeatureCollection/],
    ['never', 'module.exports = (tile, ee) => new Promise(() => {});\n', /did not return within 2 s/],
    ['busy', 'module.exports = (tile, ee) => { for (;;) {} };\n', /did not return within 2 s/],
    ['users', "var palettes = require('users/gena/packages:palettes');\nmodule.exports = (tile, ee) => ee.Image(1);\n", /Code Editor modules.*paste/],
  ];
  it.each(cases)('%s: a clear message, exit 1, no EE task', async (name, source, message) => {
    const job = jobWith(`bad-${name}`, 2, 1, { recipe: { file: 'bad.js', timeoutSeconds: 2 } });
    writeFileSync(join(job.dir, 'bad.js'), source);
    const r = await runJob(job.file, emu.url, {}, 60_000);
    if (process.env.SHOW_MESSAGES) console.log(r.stderr);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.code).toBe(1);
    expect(opsOf(job.name)).toHaveLength(0);
  }, 60_000);

  it('a Code-Editor style recipe exports; print and Map.addLayer log instead of failing', async () => {
    const job = jobWith('custom-ok', 2, 1, { recipe: { file: 'recipe.js' } });
    writeFileSync(
      join(job.dir, 'recipe.js'),
      [
        'module.exports = async (tile, ee) => {',
        "  var s2 = ee.ImageCollection('COPERNICUS/S2_SR_HARMONIZED').filterBounds(tile.geometry).filterDate('2023-06-01', '2023-07-01');",
        "  var ndvi = s2.median().normalizedDifference(['B8', 'B4']).rename('NDVI');",
        "  print('tile', tile.id);",
        "  Map.addLayer(ndvi, {min: 0, max: 1}, 'NDVI');",
        "  Map.centerObject(tile.geometry);",
        '  Export.image.toDrive({image: ndvi, description: "x"});',
        '  return ndvi.clip(tile.geometry);',
        '};',
      ].join('\n'),
    );
    await runJobQuietly(job.file, emu.url);
    expect(opsOf(job.name)).toHaveLength(2);
    const log = readFileSync(join(job.stateDir, 'log'), 'utf8');
    expect(log).toMatch(/print: tile x\d+_y\d+/);
    expect(log).toMatch(/Map\.addLayer\(.*\) ignored/);
    expect(log).toMatch(/Export\.image\.toDrive\(.*\) ignored: Tessera exports each tile itself/);
    expect(gdalinfo(join(job.output, `${job.name}.vrt`)).size).toEqual([2 * TILE, TILE]);
    expect(readdirSync(job.output).filter((n) => n.endsWith('.tif'))).toHaveLength(2);
  }, 120_000);
});

describe('tessera recipes', () => {
  it('lists the presets with their parameters', () => {
    const r = tessera(['recipes']);
    expect(r.code).toBe(0);
    for (const p of ['s2-median', 'landsat-stm', 'asset', 'points', 'maxCloudPercent', 'indices']) expect(r.stdout).toContain(p);
  });

  it('check builds the first tile without exporting and reports bands and type', async () => {
    const job = jobWith('check', 2, 1, {});
    const r = await cli(['recipes', 'check', 'asset', '--job', job.file, '--emulator', emu.url]);
    // The asset preset needs its id: a clear message naming the parameter.
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/params\.id/);
    writeFileSync(job.file, JSON.stringify({ ...JSON.parse(readFileSync(job.file, 'utf8')), recipe: { preset: 'asset', params: { id: 'projects/tessera-test/assets/dem' } } }));
    const ok = await cli(['recipes', 'check', 'asset', '--job', job.file, '--emulator', emu.url]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/band elevation: Int16/);
    expect(opsOf('check')).toHaveLength(0);
    expect(existsSync(job.output)).toBe(false);
  }, 60_000);
});

describe('export options from the job', () => {
  it('sends bands, cast, noData, cloudOptimized, priority and skipEmptyTiles; a tile with no file ends done', async () => {
    const job = jobWith('opts', 3, 1, {
      recipe: { file: 'small.js' },
      export: { bands: ['elevation'], dataType: 'Int32', noData: -9999, cloudOptimized: true, skipEmptyTiles: true, priority: 50 },
    });
    // Only the first tile holds unmasked pixels: the other two are empty and EE writes no file for them.
    writeFileSync(
      join(job.dir, 'small.js'),
      `module.exports = (tile, ee) => ee.Image('projects/tessera-test/assets/dem').clip(ee.Geometry.Rectangle([${X0}, ${Y0}, ${X0 + 100}, ${Y0 + 100}], 'EPSG:3035', false));\n`,
    );
    await runJobQuietly(job.file, proxy.url);
    const bodies = exportBodies('image', job.name);
    expect(bodies).toHaveLength(3);
    const body = bodies[0] as { priority?: number; fileExportOptions: { geoTiffOptions: { cloudOptimized?: boolean; skipEmptyFiles?: boolean; noData?: unknown } }; expression: unknown };
    expect(body.priority).toBe(50);
    expect(body.fileExportOptions.geoTiffOptions.cloudOptimized).toBe(true);
    expect(body.fileExportOptions.geoTiffOptions.skipEmptyFiles).toBe(true);
    expect(JSON.stringify(body.fileExportOptions.geoTiffOptions.noData)).toMatch(/-9999/);
    const calls = invocations(body.expression).map((c) => c.name);
    expect(calls).toContain('Image.select');
    expect(calls.some((n) => /^Image\.(toInt32|int32)$/.test(n))).toBe(true);
    const status = JSON.parse(tessera(['status', job.file, '--json']).stdout);
    expect(status.tiles.done).toBe(3);
    const tifs = readdirSync(job.output).filter((n) => n.endsWith('.tif') && n !== 'check.tif');
    expect(tifs).toHaveLength(1);
    const info = gdalinfo(join(job.output, `${job.name}.vrt`));
    expect(info.size).toEqual([TILE, TILE]);
    expect(info.bands[0]!.type).toBe('Int32');
  }, 120_000);
});

describe('results of harder runs', () => {
  it('the VRT covers split children exactly (tiles that timed out and were split in four)', async () => {
    emu.configure({ timeoutPixels: 3000 }); // a 64×64 tile (4096 px) times out; its 32×32 children do not
    const job = jobWith('split', 2, 1, { recipe: { preset: 'asset', params: { id: 'projects/tessera-test/assets/dem' } } });
    const r = await runJob(job.file, proxy.url).finally(() => emu.configure({ timeoutPixels: null }));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const tifs = readdirSync(job.output).filter((n) => n.endsWith('.tif'));
    expect(tifs.filter((n) => /_q\d\.tif$/.test(n))).toHaveLength(8);
    const info = gdalinfo(join(job.output, `${job.name}.vrt`));
    expect(info.size).toEqual([2 * TILE, TILE]);
    expect(info.geoTransform).toEqual([X0, SCALE, 0, Y0 + SIZE, 0, -SCALE]);
    const xml = readFileSync(join(job.output, `${job.name}.vrt`), 'utf8');
    const rects = [...xml.matchAll(/<DstRect xOff="(\d+)" yOff="(\d+)" xSize="(\d+)" ySize="(\d+)"/g)].map((m) => m.slice(1).map(Number));
    const covered = new Set<string>();
    for (const [x, y, w, h] of rects) for (let i = x!; i < x! + w!; i++) for (let j = y!; j < y! + h!; j++) covered.add(`${i},${j}`);
    expect(covered.size).toBe(2 * TILE * TILE);
    expect(rects.reduce((s, [, , w, h]) => s + w! * h!, 0)).toBe(covered.size);
  }, 120_000);

  it('a custom recipe returning a FeatureCollection makes one table per tile from tile.points', async () => {
    const job = jobWith('custom-table', 3, 1, { recipe: { file: 'table.js' }, points: 'plots.geojson' });
    const pts = [[X0 + 10, Y0 + 10], [X0 + 20, Y0 + 600], [X0 + 2 * SIZE + 1, Y0 + 1]];
    writeFileSync(
      join(job.dir, 'plots.geojson'),
      JSON.stringify({
        type: 'FeatureCollection',
        crs: { type: 'name', properties: { name: 'EPSG:3035' } },
        features: pts.map((c, k) => ({ type: 'Feature', properties: { plot: `P${k}` }, geometry: { type: 'Point', coordinates: c } })),
      }),
    );
    writeFileSync(
      join(job.dir, 'table.js'),
      'module.exports = (tile, ee) => ee.FeatureCollection(tile.points.map((p) => ee.Feature(ee.Geometry.Point([p.x, p.y], tile.crs), p.properties)));\n',
    );
    await runJobQuietly(job.file, proxy.url);
    expect(exportBodies('table', job.name)).toHaveLength(2); // the middle tile has no points: skipped
    const [header, ...rows] = parseCsv(readFileSync(join(job.output, `${job.name}.csv`), 'utf8'));
    expect(rows).toHaveLength(3);
    expect(rows.map((row) => row[header!.indexOf('plot')]).sort()).toEqual(['P0', 'P1', 'P2']);
  }, 120_000);
});

describe('run --cog', () => {
  it('builds one Cloud-Optimized GeoTIFF with GDAL, and says clearly when GDAL is missing', async () => {
    const recipe = { preset: 'asset', params: { id: 'projects/tessera-test/assets/dem' } };
    const job = jobWith('cog', 2, 2, { recipe });
    const r = await cli(['run', job.file, '--emulator', emu.url, '--cog']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const cog = join(job.output, 'cog.tif');
    expect(r.stdout).toContain(`single GeoTIFF (COG): ${cog}`);
    const info = JSON.parse(execFileSync('gdalinfo', ['-json', cog], { encoding: 'utf8' })) as { size: number[]; metadata?: Record<string, Record<string, string>> };
    expect(info.size).toEqual([2 * TILE, 2 * TILE]);
    expect(JSON.stringify(info.metadata)).toMatch(/COG|LAYOUT/);

    const job2 = jobWith('nogdal', 1, 1, { recipe });
    const r2 = await cli(['run', job2.file, '--emulator', emu.url, '--cog'], { PATH: '/nonexistent' });
    expect(r2.code).toBe(0);
    expect(r2.stderr).toMatch(/GDAL is not installed/);
    expect(existsSync(join(job2.output, 'nogdal.vrt'))).toBe(true);
  }, 120_000);
});
