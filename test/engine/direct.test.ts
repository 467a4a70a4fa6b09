/**
 * Direct download end to end on the emulator (docs/direct-download.md): a `direct` job writes the same
 * pixel grids (size, transform, CRS, bands — and pixels) as the `export` job of the same tiles, without
 * a single Drive request; an `auto` job whose direct requests hit the interactive time limit still
 * finishes, through batch exports.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromFile } from 'geotiff';
import { describe, expect, it } from 'vitest';
import { rectangleJob, type TestJob } from '../helpers/job';
import { runJob, runJobQuietly, useEmulator } from '../helpers/emulator';
import { BIN } from '../helpers/cli';

const COMPUTE = 'POST /v1/projects/{project}/image:computePixels';
const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20, slots: 2 });

function tifs(job: TestJob): string[] {
  if (!existsSync(job.output)) return [];
  return readdirSync(job.output).filter((n) => n.endsWith('.tif')).sort();
}

interface Info {
  size: number[];
  geoTransform: number[];
  coordinateSystem: { wkt: string };
  bands: { type: string; description?: string }[];
}

function gdalinfo(path: string): Info {
  return JSON.parse(execFileSync('gdalinfo', ['-json', path], { encoding: 'utf8' })) as Info;
}

async function pixels(path: string): Promise<number[][]> {
  const tiff = await fromFile(path);
  try {
    const rasters = (await (await tiff.getImage()).readRasters()) as unknown as ArrayLike<number>[];
    return Array.from(rasters, (r) => Array.from(r));
  } finally {
    await tiff.close();
  }
}

/** The two jobs' outputs: the same names, and per file the same grid, bands and pixels. */
async function expectSameOutputs(a: TestJob, b: TestJob): Promise<void> {
  const names = tifs(a);
  expect(names.map((n) => n.replace(`${a.name}_`, ''))).toEqual(tifs(b).map((n) => n.replace(`${b.name}_`, '')));
  for (const n of names) {
    const other = n.replace(`${a.name}_`, `${b.name}_`);
    const [ia, ib] = [gdalinfo(join(a.output, n)), gdalinfo(join(b.output, other))];
    expect({ size: ia.size, geoTransform: ia.geoTransform, wkt: ia.coordinateSystem.wkt, bands: ia.bands.map((x) => x.type) })
      .toEqual({ size: ib.size, geoTransform: ib.geoTransform, wkt: ib.coordinateSystem.wkt, bands: ib.bands.map((x) => x.type) });
    expect(await pixels(join(a.output, n))).toEqual(await pixels(join(b.output, other)));
  }
}

function driveRequests(): number {
  return Object.entries(emu.state().requests).filter(([k]) => /\/drive\/|\/upload\//.test(k)).reduce((s, [, n]) => s + n, 0);
}

describe('mode direct and auto', () => {
  it('a direct job writes the export job\'s pixel grids, with no Drive request and one computePixels request per tile', async () => {
    const exported = rectangleJob('viaexport', 3, 2);
    expect((await runJob(exported.file, emu.url)).code).toBe(0);
    await emu.sync();
    const drive0 = driveRequests();
    const compute0 = emu.state().requests[COMPUTE] ?? 0;
    const ops0 = emu.state().operations.length;

    const direct = rectangleJob('viadirect', 3, 2, { mode: 'direct', direct: { concurrency: 4 } });
    await runJobQuietly(direct.file, emu.url);
    await emu.sync();
    expect(driveRequests()).toBe(drive0);
    expect(emu.state().requests[COMPUTE]).toBe(compute0 + 6);
    expect(emu.state().operations).toHaveLength(ops0); // no export task either
    expect(tifs(direct)).toHaveLength(6);
    await expectSameOutputs(direct, exported);
    // No temporary file is left beside the outputs.
    expect(readdirSync(direct.output).filter((n) => n.endsWith('.part'))).toEqual([]);

    // Run again: nothing is fetched twice.
    expect((await runJob(direct.file, emu.url)).code).toBe(0);
    expect(emu.state().requests[COMPUTE]).toBe(compute0 + 6);
  }, 120_000);

  it('a direct job with periods writes each month into its own folder under the export names, one VRT per month, the recipe seeing the month', async () => {
    // docs/periods.md#names: `{output}/{periodId}/{job}_{tileId}_{periodId}.tif` and `{job}_{periodId}.vrt`.
    const job = rectangleJob('directmonths', 2, 1, { mode: 'direct', recipe: { file: 'recipe.js' }, periods: { start: '2021-01-01', end: '2021-03-01', every: 'month' } });
    writeFileSync(join(job.dir, 'recipe.js'), "module.exports = (tile, ee, period) => ee.Image.constant([1]).rename(['m_' + period.id.replace('-', '_')]).toFloat();\n");
    await emu.sync();
    const drive0 = driveRequests();
    const compute0 = emu.state().requests[COMPUTE] ?? 0;
    const ops0 = emu.state().operations.length;
    await runJobQuietly(job.file, emu.url);
    await emu.sync();
    expect(driveRequests()).toBe(drive0);
    expect(emu.state().operations).toHaveLength(ops0);
    expect(emu.state().requests[COMPUTE]! - compute0).toBe(4);
    expect(tifs(job)).toEqual([]); // nothing at the top level
    for (const month of ['2021-01', '2021-02']) {
      const dir = join(job.output, month);
      const names = readdirSync(dir).filter((n) => n.endsWith('.tif')).sort();
      expect(names).toHaveLength(2);
      for (const n of names) {
        expect(n).toMatch(new RegExp(`^directmonths_x\\d+_y\\d+_${month}\\.tif$`));
        expect(gdalinfo(join(dir, n)).bands.map((b) => b.description)).toEqual([`m_${month.replace('-', '_')}`]);
      }
      const vrt = gdalinfo(join(dir, `directmonths_${month}.vrt`));
      expect(vrt.size).toEqual([256, 128]);
      expect(vrt.bands.map((b) => b.description)).toEqual([`m_${month.replace('-', '_')}`]);
    }
  }, 120_000);

  it('a direct tile over the request size limit is split before sending until each part fits, whatever splitDepth says', async () => {
    // One 4096 × 4096 tile of the built-in image (2 Float32 bands, about 160 MiB) is over computePixels'
    // 48 MiB per request: it is split before any request, into four 2048² parts of about 40 MiB.
    const job = rectangleJob('directsplit', 1, 1, { mode: 'direct', splitDepth: 0 }, 4096, 10);
    const compute0 = emu.state().requests[COMPUTE] ?? 0;
    await runJobQuietly(job.file, emu.url);
    await emu.sync();
    expect(emu.state().requests[COMPUTE]! - compute0).toBe(4); // no request was refused first
    expect(tifs(job).map((n) => n.slice(n.lastIndexOf('_') + 1))).toEqual(['q0.tif', 'q1.tif', 'q2.tif', 'q3.tif']);
    for (const n of tifs(job)) expect(gdalinfo(join(job.output, n)).size).toEqual([2048, 2048]);
  }, 120_000);

  it('a direct job rides out lost answers and 429s: every tile done, none failed', async () => {
    emu.configure({ lostAnswerRate: 0.3, rateLimitRate: 0.2 });
    try {
      const job = rectangleJob('directfaults', 3, 2, { mode: 'direct' });
      const compute0 = emu.state().requests[COMPUTE] ?? 0;
      const r = await runJob(job.file, emu.url);
      expect(r.code).toBe(0);
      await emu.sync();
      // Some requests were lost or refused and sent again (the faults are seeded).
      expect(emu.state().requests[COMPUTE]! - compute0).toBeGreaterThan(6);
      expect(tifs(job)).toHaveLength(6);
      const log = readFileSync(join(job.stateDir, 'log'), 'utf8');
      expect(log).not.toMatch(/ failed/);
    } finally {
      emu.configure({ lostAnswerRate: 0, rateLimitRate: 0 });
    }
  }, 120_000);

  it('a direct run killed mid-fetch resumes: every tile done once, no stray file', async () => {
    // Each request computes 1 s; the run is killed while some are out.
    emu.configure({ computePixelsPerSecond: 128 * 128 });
    try {
      const job = rectangleJob('directkill', 3, 2, { mode: 'direct', direct: { concurrency: 2 }, maxInFlight: 2 });
      const compute0 = emu.state().requests[COMPUTE] ?? 0;
      // Killed once its first requests are being computed.
      const child = spawn(process.execPath, [BIN, 'run', job.file, '--emulator', emu.url], { stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
      for (let i = 0; i < 6000 && (emu.state().requests[COMPUTE] ?? 0) < compute0 + 2; i++) await new Promise((r) => setTimeout(r, 10));
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(tifs(job).length).toBeLessThan(6);
      expect(emu.state().requests[COMPUTE]).toBeGreaterThan(compute0);
      await runJobQuietly(job.file, emu.url);
      expect(tifs(job)).toHaveLength(6);
      expect(readdirSync(job.output).filter((n) => n.startsWith('.'))).toEqual([]);
      // Only the requests the kill interrupted (at most the concurrency) were made twice.
      expect(emu.state().requests[COMPUTE]! - compute0).toBeLessThanOrEqual(6 + 2);
      const exported = rectangleJob('directkillx', 3, 2);
      expect((await runJob(exported.file, emu.url)).code).toBe(0);
      await expectSameOutputs(job, exported);
    } finally {
      emu.configure({ computePixelsPerSecond: 2_000_000 });
    }
  }, 120_000);

  it('an auto job finishes when some direct requests time out: those tiles come through batch exports, saying why', async () => {
    // One request at a time; while the interactive limit is below a tile (128 × 128 px) a request runs
    // 1 s to its deadline and fails. The limit is lifted once two requests have arrived: the first tiles
    // went to batch exports, the last ones come directly.
    emu.configure({ computeTimeoutPixels: 128 * 128 - 1, computePixelsPerSecond: 128 * 128 - 1 });
    try {
      const auto = rectangleJob('viaauto', 2, 2, { mode: 'auto', direct: { concurrency: 1 }, maxInFlight: 1 });
      const compute0 = emu.state().requests[COMPUTE] ?? 0;
      const run = runJob(auto.file, emu.url);
      for (let i = 0; i < 3000 && (emu.state().requests[COMPUTE] ?? 0) < compute0 + 2; i++) await new Promise((r) => setTimeout(r, 10));
      emu.configure({ computeTimeoutPixels: null, computePixelsPerSecond: 2_000_000 });
      const r = await run;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      await emu.sync();
      expect(emu.state().requests[COMPUTE]).toBe(compute0 + 4);
      const ops = emu.state().operations.filter((o) => o.description?.startsWith('viaauto_'));
      expect(ops.length).toBeGreaterThanOrEqual(2);
      expect(ops.length).toBeLessThan(4);
      expect(ops.every((o) => o.state === 'SUCCEEDED')).toBe(true);
      expect(tifs(auto)).toHaveLength(4);
      const log = readFileSync(join(auto.stateDir, 'log'), 'utf8');
      expect(log.match(/Computation timed out\. \(direct request\); sent as a batch export instead/g)).toHaveLength(ops.length);
      const exported = rectangleJob('viaautox', 2, 2);
      expect((await runJob(exported.file, emu.url)).code).toBe(0);
      await expectSameOutputs(auto, exported);
    } finally {
      emu.configure({ computeTimeoutPixels: null, computePixelsPerSecond: 2_000_000 });
    }
  }, 120_000);
});
