import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rectangleJob } from '../helpers/job';
import { runJob, useEmulator } from '../helpers/emulator';
import { BIN, tesseraAsync } from '../helpers/cli';
import { stacErrors } from '../stac/validate';
import { parseCsv } from '../../main/core/recipes/results';

/**
 * Done-when of the time-series work (docs/periods.md): a 3-month job on the emulator writes one folder
 * and one mosaic per month, and the recipe saw each month (it names its band after the period).
 */
const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20 });

const cliAsync = (args: string[]) => tesseraAsync(args).then((r) => ({ ...r, status: r.code }));

const gdalinfo = (path: string) => JSON.parse(execFileSync('gdalinfo', ['-json', path], { encoding: 'utf8' })) as { size: number[]; bands: { description?: string }[] };

// A recipe that names its band after the period it receives, as tile.period and as its third argument.
const RECIPE = "module.exports = (tile, ee, period) => ee.Image.constant([1]).rename(['m_' + period.id.replace('-', '_') + '_' + tile.period.start.slice(8)]).toFloat();\n";

describe('a job over three months', () => {
  it('writes out/2021-01…03 with one VRT per period, band names from the recipe, and status per period', async () => {
    const job = rectangleJob('months', 2, 1, { recipe: { file: 'recipe.js' }, periods: { start: '2021-01-01', end: '2021-04-01', every: 'month' } });
    writeFileSync(join(job.dir, 'recipe.js'), RECIPE);
    const r = await runJob(job.file, emu.url);
    expect(r.code, r.stderr).toBe(0);
    for (const month of ['2021-01', '2021-02', '2021-03']) {
      const dir = join(job.output, month);
      const tifs = readdirSync(dir).filter((n) => n.endsWith('.tif')).sort();
      expect(tifs).toHaveLength(2);
      for (const t of tifs) expect(t).toMatch(new RegExp(`^months_x\\d+_y\\d+_${month}\\.tif$`));
      const vrt = join(dir, `months_${month}.vrt`);
      expect(existsSync(vrt)).toBe(true);
      const info = gdalinfo(vrt);
      expect(info.size).toEqual([256, 128]);
      expect(info.bands.map((b) => b.description)).toEqual([`m_${month.replace('-', '_')}_01`]);
    }
    // The STAC catalog: a valid Collection linking one valid Item per finished unit, each naming its GeoTIFF.
    const collection = JSON.parse(execFileSync('cat', [join(job.output, 'collection.json')], { encoding: 'utf8' })) as { stac_extensions: string[]; links: { rel: string; href: string }[] };
    expect(stacErrors(collection, 'collection')).toEqual([]);
    const items = collection.links.filter((l) => l.rel === 'item');
    expect(items).toHaveLength(6);
    for (const l of items) {
      const item = JSON.parse(execFileSync('cat', [join(job.output, l.href)], { encoding: 'utf8' })) as { stac_extensions: string[]; properties: { start_datetime: string }; assets: { data: { href: string } } };
      expect(stacErrors(item, 'item')).toEqual([]);
      expect(existsSync(join(job.output, l.href, '..', item.assets.data.href))).toBe(true);
      expect(l.href.slice(2, 9)).toBe(item.properties.start_datetime.slice(0, 7));
    }
    // Task descriptions carry the period (docs/names.md#task-descriptions).
    const descriptions = emu.state().operations.map((o) => o.description).filter((d) => d?.startsWith('months_'));
    expect(descriptions).toHaveLength(6);
    for (const d of descriptions) expect(d).toMatch(/^months_x\d+_y\d+_2021-0[123]_a1$/);
    // time-first (the default): every tile of January is sent before any of February.
    expect(descriptions.map((d) => d!.split('_')[3])).toEqual(['2021-01', '2021-01', '2021-02', '2021-02', '2021-03', '2021-03']);
    const status = spawnSync(process.execPath, [BIN, 'status', job.file, '--json'], { encoding: 'utf8' });
    expect(status.status, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as { tiles: Record<string, number>; periods: Record<string, Record<string, number>> };
    expect(s.tiles.done).toBe(6);
    expect(s.periods).toEqual({ '2021-01': { done: 2 }, '2021-02': { done: 2 }, '2021-03': { done: 2 } });
    // The summary has a per-period table.
    const summary = JSON.parse(readFileSync(join(job.output, 'months.summary.json'), 'utf8')) as { periods: Record<string, Record<string, number>> };
    expect(summary.periods['2021-03']).toEqual({ done: 2 });
    expect(readFileSync(join(job.output, 'months.summary.txt'), 'utf8')).toMatch(/^periods:\n  2021-01: 2 done\n  2021-02: 2 done\n  2021-03: 2 done$/m);
    // Adding a period extends the job: only the new month is exported.
    const raw = JSON.parse(execFileSync('cat', [job.file], { encoding: 'utf8' })) as Record<string, unknown>;
    writeFileSync(job.file, JSON.stringify({ ...raw, periods: { start: '2021-01-01', end: '2021-05-01', every: 'month' } }));
    const again = await runJob(job.file, emu.url);
    expect(again.code, again.stderr).toBe(0);
    expect(readdirSync(join(job.output, '2021-04')).filter((n) => n.endsWith('.tif'))).toHaveLength(2);
    expect(emu.state().operations.filter((o) => o.description?.startsWith('months_'))).toHaveLength(8);
    // Removing a month that has work is refused with one line, before anything is sent.
    writeFileSync(job.file, JSON.stringify({ ...raw, periods: { start: '2021-02-01', end: '2021-05-01', every: 'month' } }));
    const refused = await runJob(job.file, emu.url);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/period "2021-01" was removed, but it already has work/);
  }, 120_000);

  it('killed at the dangerous moments, it resumes and exports every (tile, period) exactly once', { timeout: 300_000 }, async () => {
    const job = rectangleJob('monthkill', 3, 1, { maxInFlight: 4, periods: { start: '2021-01-01', end: '2021-04-01', every: 'month' }, periodOrder: 'space-first' });
    let killed = 0;
    for (const at of ['after-export:2', 'mid-download:1', 'after-rename:3', 'after-cleanup:2', 'before-export:5']) {
      const r = await runJob(job.file, emu.url, { TESSERA_CRASH_AT: at });
      if (r.signal === 'SIGKILL') killed++;
      else expect(r.code, r.stderr).toBe(0);
    }
    expect(killed).toBeGreaterThanOrEqual(3);
    const last = await runJob(job.file, emu.url);
    expect(last.code, last.stderr).toBe(0);
    const ops = emu.state().operations.filter((o) => o.description?.startsWith('monthkill_') && o.state === 'SUCCEEDED');
    const units = ops.map((o) => o.description!.replace(/_a\d+$/, ''));
    expect(new Set(units).size).toBe(9);
    expect(units).toHaveLength(9); // no unit exported twice
    // space-first: every period of the first tile is sent before the second tile.
    const first = emu.state().operations.filter((o) => o.description?.startsWith('monthkill_')).slice(0, 3).map((o) => o.description!.split('_').slice(1, 4).join('_'));
    expect(first).toEqual(['x3125_y2344_2021-01', 'x3125_y2344_2021-02', 'x3125_y2344_2021-03']);
    for (const month of ['2021-01', '2021-02', '2021-03']) {
      expect(readdirSync(join(job.output, month)).filter((n) => n.endsWith('.tif'))).toHaveLength(3);
      expect(existsSync(join(job.output, month, `monthkill_${month}.vrt`))).toBe(true);
    }
  });

  it('a journal written before periods existed resumes unchanged: same names, same folder, no period keys', async () => {
    const job = rectangleJob('oldjournal', 2, 1);
    // The journal as Tessera wrote it before periods: plain tile ids, no meta.periods; the first tile already done.
    const tile = (i: number) => ({ id: `x${3125 + i}_y2344`, crs: 'EPSG:3035', crsTransform: [10, 0, (3125 + i) * 1280, 0, -10, 2345 * 1280], dimensions: [128, 128] });
    const at = '2026-01-01T00:00:00.000Z';
    mkdirSync(job.stateDir, { recursive: true });
    writeFileSync(join(job.stateDir, 'journal.jsonl'), [
      { seq: 1, at, type: 'plan', tiles: [tile(0), tile(1)] },
      { seq: 2, at, type: 'tile', id: 'x3125_y2344', patch: { state: 'done', attempt: 1 } },
    ].map((e) => JSON.stringify(e)).join('\n') + '\n');
    const r = await runJob(job.file, emu.url);
    expect(r.code, r.stderr).toBe(0);
    const ops = emu.state().operations.filter((o) => o.description?.startsWith('oldjournal_'));
    expect(ops.map((o) => o.description)).toEqual(['oldjournal_x3126_y2344_a1']);
    expect(readdirSync(job.output).filter((n) => n.endsWith('.tif'))).toEqual(['oldjournal_x3126_y2344.tif']);
    const status = spawnSync(process.execPath, [BIN, 'status', job.file, '--json'], { encoding: 'utf8' });
    const s = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(s.tiles).toMatchObject({ done: 2, pending: 0 });
    expect(s).not.toHaveProperty('periods');
    // The same job turned into a time series is refused: its names would all change.
    writeFileSync(job.file, JSON.stringify({ ...JSON.parse(readFileSync(job.file, 'utf8')), periods: { start: '2021-01-01', end: '2021-02-01', every: 'month' } }));
    const refused = await runJob(job.file, emu.url);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/started without "periods"/);
  });

  it('tessera recipes marks the period-aware presets; recipes check --period builds that period', async () => {
    const list = spawnSync(process.execPath, [BIN, 'recipes', '--json'], { encoding: 'utf8' });
    const presets = JSON.parse(list.stdout) as Record<string, { periodAware: boolean }>;
    expect(Object.fromEntries(Object.entries(presets).map(([k, v]) => [k, v.periodAware]))).toEqual({ 's2-median': true, 'landsat-stm': true, asset: false, points: true });
    expect(spawnSync(process.execPath, [BIN, 'recipes'], { encoding: 'utf8' }).stdout).toMatch(/^s2-median \(image, period-aware\)/m);
    const job = rectangleJob('checkperiod', 1, 1, { recipe: { file: 'recipe.js' }, periods: { start: '2021-01-01', end: '2021-04-01', every: 'month' } });
    writeFileSync(join(job.dir, 'recipe.js'), RECIPE);
    // In its own process, asynchronously: the emulator lives in this one and must answer while it runs.
    const check = await cliAsync(['recipes', 'check', '--job', job.file, '--period', '2021-02', '--emulator', emu.url]);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/\(period 2021-02\)/);
    expect(check.stdout).toMatch(/band m_2021_02_01: Float32/);
    const wrong = await cliAsync(['recipes', 'check', '--job', job.file, '--period', '2021-13', '--emulator', emu.url]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr.trim()).toBe('tessera: --period 2021-13: the job has no such period (periods: 2021-01, 2021-02, 2021-03)');
  });

  it('a table job with periods writes one merged table with a period column', async () => {
    const job = rectangleJob('monthtable', 2, 1, { recipe: { file: 'table.js' }, points: 'plots.geojson', periods: { start: '2021-01-01', end: '2021-03-01', every: 'month' } });
    const [x0, y0] = [3125 * 1280, 2344 * 1280];
    writeFileSync(join(job.dir, 'plots.geojson'), JSON.stringify({
      type: 'FeatureCollection', crs: { type: 'name', properties: { name: 'EPSG:3035' } },
      features: [[x0 + 10, y0 + 10], [x0 + 1290, y0 + 10]].map((c, k) => ({ type: 'Feature', properties: { plot: `P${k}` }, geometry: { type: 'Point', coordinates: c } })),
    }));
    writeFileSync(join(job.dir, 'table.js'), "module.exports = (tile, ee, period) => ee.FeatureCollection(tile.points.map((p) => ee.Feature(ee.Geometry.Point([p.x, p.y], tile.crs), { plot: p.properties.plot, month: period.id })));\n");
    const r = await runJob(job.file, emu.url);
    expect(r.code, r.stderr).toBe(0);
    const [header, ...rows] = parseCsv(readFileSync(join(job.output, 'monthtable.csv'), 'utf8'));
    expect(header!.slice(0, 2)).toEqual(['tile_id', 'period']);
    const col = (name: string) => header!.indexOf(name);
    expect(rows.map((row) => `${row[col('tile_id')]} ${row[col('period')]} ${row[col('plot')]} ${row[col('month')]}`).sort()).toEqual([
      'x3125_y2344 2021-01 P0 2021-01', 'x3125_y2344 2021-02 P0 2021-02', 'x3126_y2344 2021-01 P1 2021-01', 'x3126_y2344 2021-02 P1 2021-02',
    ]);
  });
});
