import { describe, expect, it } from 'vitest';
import { rectangleJob } from '../helpers/job';
import { runJob, useEmulator } from '../helpers/emulator';
import { tessera, tesseraAsync } from '../helpers/cli';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20 });

const s2 = { preset: 's2-median', params: { start: '2023-06-01', end: '2023-09-01' } };

describe('commands that take everything from the job file', () => {
  it('tessera grid JOB.json: the job’s ROI and grid, estimated from the recipe’s real bands (Float64 named, with the key that fixes it)', async () => {
    const job = rectangleJob('grid-job', 3, 2, { recipe: s2 });
    const r = await tesseraAsync(['grid', job.file, '--json', '--emulator', emu.url]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ tiles: 6, crs: 'EPSG:3035', scale: 10, tilePixels: 128 });
    // s2-median's four bands come back from Earth Engine as Float64: 32 bytes per pixel, not 4.
    expect(out.estimate).toMatchObject({ bands: 4, dataType: 'Float64', bytesPerTile: 128 * 128 * 32, source: 'recipe' });
    expect(r.stderr).toMatch(/Float64.*"export\.dataType"/);
    // With a cast, the estimate follows it and the warning goes.
    const cast = rectangleJob('grid-job-cast', 3, 2, { recipe: s2, export: { dataType: 'UInt16' } });
    const c = tessera(['grid', cast.file, '--json']);
    expect(c.code, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout).estimate).toMatchObject({ bands: 4, dataType: 'UInt16', bytesPerTile: 128 * 128 * 8 });
    expect(c.stderr).not.toMatch(/Float64/);
  });

  it('tessera grid JOB.json refuses grid options beside a job file', () => {
    const job = rectangleJob('grid-job-opts', 1, 1);
    const r = tessera(['grid', job.file, '--scale', '30']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('tessera recipes check --job JOB.json checks the job’s own recipe', async () => {
    const job = rectangleJob('check-job', 1, 1, { recipe: s2 });
    const r = await tesseraAsync(['recipes', 'check', '--job', job.file, '--emulator', emu.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/preset s2-median: tile x\d+_y\d+ builds an ee.Image/);
    expect(r.stdout).toMatch(/band B8: Float64/);
  });

  it('tessera run warns once about a Float64 recipe, naming export.dataType', async () => {
    const job = rectangleJob('run-f64', 1, 1, { recipe: s2 });
    const r = await runJob(job.file, emu.url);
    expect(r.code, r.stderr).toBe(0);
    expect((r.stdout + r.stderr).match(/Float64.*"export\.dataType"/g)).toHaveLength(1);
  });

  it('tessera run with an output folder under /proc stops at once with one line', async () => {
    const job = rectangleJob('proc-out', 1, 1, { output: '/proc/tessera-test-out' });
    const t0 = Date.now();
    const r = await runJob(job.file, emu.url, {}, 30_000);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/proc filesystem.*not a place for files/);
    expect(emu.state().operations.filter((o) => o.description?.startsWith('proc-out_'))).toHaveLength(0);
  });
});
