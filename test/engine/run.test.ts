import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { formatBytes } from '../../main/cli/output';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { rectangleJob } from '../helpers/job';
import { checkFinishedJob, runJob, runJobQuietly, useEmulator } from '../helpers/emulator';
import { tessera } from '../helpers/cli';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20, slots: 2 });

describe('tessera run against the emulator', () => {
  it('runs a 12-tile job to the end: one export per tile, verified GeoTIFFs, Drive left clean', async () => {
    const job = rectangleJob('small', 4, 3);
    const r = await runJobQuietly(job.file, emu.url);
    expect(r.stdout).toMatch(/all 12 tiles done/);
    // The final progress line counts every byte downloaded (concurrent downloads included).
    const bytes = readdirSync(job.output).filter((n) => n.endsWith('.tif')).reduce((sum, n) => sum + statSync(join(job.output, n)).size, 0);
    expect(r.stdout).toContain(`12/12 done · 0 queued · 0 running in EE · 0 syncing · ${formatBytes(bytes)}`);
    expect(r.stdout.match(/12\/12 done/g)).toHaveLength(1);
    await emu.sync();
    checkFinishedJob(emu.state(), 'small', job.output, 12);
    // GDAL reads an output back on the tile's exact grid.
    const first = readdirSync(job.output).find((n) => n.endsWith('.tif'))!;
    const info = JSON.parse(execFileSync('gdalinfo', ['-json', join(job.output, first)], { encoding: 'utf8' }));
    expect(info.size).toEqual([128, 128]);
    expect(info.geoTransform[1]).toBe(10);
    expect(info.geoTransform[5]).toBe(-10);
    expect(info.geoTransform[0] % 1280).toBe(0);
    // The job's mosaic covers the 4 × 3 tiles of the grid (the built-in image gets one too, like recipe jobs).
    const mosaic = JSON.parse(execFileSync('gdalinfo', ['-json', join(job.output, 'small.vrt')], { encoding: 'utf8' }));
    expect(mosaic.size).toEqual([4 * 128, 3 * 128]);
    expect(JSON.parse(readFileSync(join(job.output, 'small.summary.json'), 'utf8'))).toMatchObject({ job: 'small', files: 12, tiles: { done: 12 } });
    // Never more than two tasks ran at once; never more than maxInFlight were queued.
    const ops = emu.state().operations.filter((o) => o.description?.startsWith('small_'));
    expect(ops).toHaveLength(12);
    // The log and status agree.
    const status = tessera(['status', job.file, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).tiles.done).toBe(12);
    expect(readFileSync(join(job.stateDir, 'log'), 'utf8')).toMatch(/x\d+_y\d+ done/);
    // Re-running a finished job changes nothing.
    const again = await runJob(job.file, emu.url);
    expect(again.code).toBe(0);
    expect(emu.state().operations.filter((o) => o.description?.startsWith('small_'))).toHaveLength(12);
  });

  it('keeps at most maxInFlight tasks in Earth Engine', async () => {
    const job = rectangleJob('inflight', 4, 2, { maxInFlight: 3 });
    // Tasks of ~2 s real time, so several overlap despite the client's 350 ms between requests.
    emu.configure({ taskBaseSeconds: 2000 });
    const r = await runJob(job.file, emu.url).finally(() => emu.configure({ taskBaseSeconds: 20 }));
    expect(r.code).toBe(0);
    const ops = emu.state().operations.filter((o) => o.description?.startsWith('inflight_'));
    // At no moment were more than 3 of them created and not yet finished.
    const events = ops.flatMap((o) => [{ t: Date.parse(o.createTime), d: 1 }, { t: Date.parse(o.endTime!), d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
    let open = 0;
    let most = 0;
    for (const e of events) most = Math.max(most, (open += e.d));
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBe(3);
    // And EE itself never ran more than its two slots at once.
    const runs = ops.flatMap((o) => [{ t: Date.parse(o.startTime!), d: 1 }, { t: Date.parse(o.endTime!), d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
    let running = 0;
    let mostRunning = 0;
    for (const e of runs) mostRunning = Math.max(mostRunning, (running += e.d));
    expect(mostRunning).toBe(2);
  });

  it('a second run on the same job exits 3 naming the lock', async () => {
    const job = rectangleJob('locked', 6, 4);
    const first = runJob(job.file, emu.url);
    // Wait until the first holds the lock.
    for (let k = 0; k < 100; k++) {
      try {
        readFileSync(join(job.stateDir, 'lock'));
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const second = await runJob(job.file, emu.url);
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(/locked by tessera run .*\(pid \d+/);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect((await first).code).toBe(0);
  });

  it('bad job files exit 1 with one line and touch nothing', async () => {
    const job = rectangleJob('badjob', 2, 2, { maxInFlight: 0 });
    const r = await runJob(job.file, emu.url);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/"maxInFlight"/);
    expect(readdirSync(job.dir).sort()).toEqual(['area.geojson', 'job.json']);
  });
});
