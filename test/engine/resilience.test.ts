import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../main/emulator';
import { rectangleJob, type TestJob } from '../helpers/job';
import { checkFinishedJob, jobFiles, md5File, runJob } from '../helpers/emulator';
import { tessera } from '../helpers/cli';
import { webhookReceiver } from '../helpers/webhook';

let emu: EmulatorHandle | undefined;
async function emulator(options: EmulatorOptions): Promise<EmulatorHandle> {
  emu = await startEmulator({ timeScale: 1000, taskBaseSeconds: 20, ...options });
  return emu;
}
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

/** `job` run to exit 0 against a fresh emulator with `options`; the emulator, synced, to look at afterwards. */
async function runToEnd(options: EmulatorOptions, job: TestJob): Promise<EmulatorHandle> {
  const e = await emulator(options);
  const r = await runJob(job.file, e.url);
  expect(r.code, r.stderr).toBe(0);
  await e.sync();
  return e;
}

const opsOf = (e: EmulatorHandle, job: string) => e.state().operations.filter((o) => o.description?.startsWith(`${job}_`));

describe('failures of tiles', () => {
  it('splits tiles that time out into children that abut exactly, and finishes', async () => {
    // 128 × 128 = 16384 px tiles time out; 64 × 64 children do not.
    const job = rectangleJob('split', 2, 2, { splitDepth: 1 });
    const e = await runToEnd({ timeoutPixels: 10_000 }, job);
    const ops = opsOf(e, 'split');
    expect(ops.filter((o) => o.state === 'FAILED').map((o) => o.error?.message)).toEqual(Array(4).fill('Computation timed out.'));
    const outputs = readdirSync(job.output).filter((n) => n.endsWith('.tif')).sort();
    expect(outputs).toHaveLength(16);
    expect(outputs.every((n) => /_q[0-3]\.tif$/.test(n))).toBe(true);
    // The four children of one parent tile its area exactly, on the parent's pixel lattice (GDAL's reading).
    const parent = outputs[0]!.replace(/_q\d\.tif$/, '');
    const gt = (q: number) => JSON.parse(execFileSync('gdalinfo', ['-json', join(job.output, `${parent}_q${q}.tif`)], { encoding: 'utf8' })) as { geoTransform: number[]; size: number[] };
    const [q0, q1, q2, q3] = [0, 1, 2, 3].map(gt);
    expect(q0!.size).toEqual([64, 64]);
    expect(q1!.geoTransform[0]).toBe(q0!.geoTransform[0]! + 64 * 10);
    expect(q1!.geoTransform[3]).toBe(q0!.geoTransform[3]);
    expect(q2!.geoTransform[3]).toBe(q0!.geoTransform[3]! - 64 * 10);
    expect(q3!.geoTransform.slice(0, 4)).toEqual([q1!.geoTransform[0], 10, 0, q2!.geoTransform[3]]);
    const status = JSON.parse(tessera(['status', job.file, '--json']).stdout);
    expect(status.tiles.split).toBe(4);
    expect(status.tiles.done).toBe(16);
  });

  it('retries EE internal errors with a new attempt and requestId each time', async () => {
    const job = rectangleJob('retry', 3, 2, { retries: 12 });
    const e = await runToEnd({ internalErrorRate: 0.5, internalMaxAttempts: 1, seed: 3 }, job);
    const ops = opsOf(e, 'retry');
    expect(ops.some((o) => o.state === 'FAILED' && o.error?.message === 'Internal error.')).toBe(true);
    expect(new Set(ops.map((o) => o.requestId)).size).toBe(ops.length);
    expect(new Set(ops.map((o) => o.description)).size).toBe(ops.length);
    expect(ops.filter((o) => o.description?.endsWith('_a2')).length).toBeGreaterThan(0);
    checkFinishedJob(e.state(), 'retry', job.output, 6);
  });

  it('fails a tile permanently with EE’s message and exits 2 listing it', async () => {
    const e = await emulator({ memoryPixels: 10_000 });
    const job = rectangleJob('permfail', 2, 1, { splitDepth: 0 });
    const r = await runJob(job.file, e.url);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/2 tile\(s\) failed/);
    expect(r.stderr).toMatch(/x\d+_y\d+: User memory limit exceeded\. \(split 0 times already; splitDepth is 0\)/);
  });
});

describe('waiting without burning attempts', () => {
  it('finishes against a Drive smaller than three tiles’ output by waiting and draining', async () => {
    // Each output is ~132 kB; the Drive holds 300 kB.
    const job = rectangleJob('tinydrive', 4, 2, { maxInFlight: 4 });
    const e = await runToEnd({ driveQuotaBytes: 300_000 }, job);
    checkFinishedJob(e.state(), 'tinydrive', job.output, 8);
    expect(e.state().quota.usage).toBe(0);
    expect(readFileSync(join(job.stateDir, 'log'), 'utf8')).toMatch(/waiting: quota/);
  });

  it('stops at the tile the EECU budget predicts, exit 3, and goes on when the budget is raised', async () => {
    const e = await emulator({});
    // Each tile costs ~20.8 EECU-seconds; 5.5 tiles' worth allows exactly 5 with one task at a time.
    const hours = (5.5 * 20.82) / 3600;
    const job = rectangleJob('budget', 4, 2, { maxInFlight: 1, eecuBudgetHours: hours });
    const r = await runJob(job.file, e.url);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/EECU budget/);
    await e.sync();
    expect(opsOf(e, 'budget').filter((o) => o.state === 'SUCCEEDED')).toHaveLength(5);
    expect(JSON.parse(tessera(['status', job.file, '--json']).stdout).waiting).toBe('budget');
    const raised = JSON.parse(readFileSync(job.file, 'utf8'));
    raised.eecuBudgetHours = 1;
    writeFileSync(job.file, JSON.stringify(raised));
    expect((await runJob(job.file, e.url)).code).toBe(0);
    checkFinishedJob(e.state(), 'budget', job.output, 8);
  });

  it('pauses when the output folder disappears, deleting nothing from Drive that is not on disk', async () => {
    const e = await emulator({});
    e.configure({ taskBaseSeconds: 500 }); // ~0.5 s tasks: time to pull the folder away mid-run
    const job = rectangleJob('nodisk', 4, 3, { maxInFlight: 4 });
    const run = runJob(job.file, e.url);
    for (let k = 0; k < 200 && !(existsSync(job.output) && readdirSync(job.output).some((n) => n.endsWith('.tif'))); k++) await new Promise((res) => setTimeout(res, 50));
    const moved = `${job.output}-moved`;
    renameSync(job.output, moved);
    writeFileSync(job.output, 'not a folder any more');
    const r = await run;
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/output folder cannot be written|disk/);
    await e.sync();
    const files = jobFiles(e.state(), 'nodisk');
    for (const f of files.all.filter((x) => x.deletedAt !== null)) {
      expect(existsSync(join(moved, f.name)), `${f.name} deleted without a local copy`).toBe(true);
      expect(md5File(join(moved, f.name))).toBe(f.md5Checksum);
    }
    expect(files.remaining.length).toBeGreaterThan(0);
  });
});

describe('change', () => {
  it('refuses a job whose grid changed, naming the key; safe keys may change', async () => {
    const e = await emulator({});
    const job = rectangleJob('changed', 2, 1);
    expect((await runJob(job.file, e.url)).code).toBe(0);
    const raw = JSON.parse(readFileSync(job.file, 'utf8'));
    writeFileSync(job.file, JSON.stringify({ ...raw, maxInFlight: 7, downloads: 1 }));
    expect((await runJob(job.file, e.url)).code).toBe(0);
    writeFileSync(job.file, JSON.stringify({ ...raw, grid: { ...raw.grid, scale: 20 } }));
    const r = await runJob(job.file, e.url);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^tessera: the job changed since it started: "grid" differs/);
    writeFileSync(join(job.dir, 'area.geojson'), readFileSync(join(job.dir, 'area.geojson'), 'utf8').replace(/\]\]\]/, ']]] '));
    writeFileSync(job.file, JSON.stringify(raw));
    expect((await runJob(job.file, e.url)).stderr).toMatch(/the ROI file differs/);
  });

  it('refuses a job whose custom recipe file changed', async () => {
    const e = await emulator({});
    const job = rectangleJob('recipechg', 1, 1, { recipe: { file: 'recipe.js' } });
    writeFileSync(join(job.dir, 'recipe.js'), "module.exports = (tile, ee) => ee.Image.constant(1).rename('a');\n");
    const first = await runJob(job.file, e.url);
    expect(first.code, first.stderr).toBe(0);
    writeFileSync(join(job.dir, 'recipe.js'), "module.exports = (tile, ee) => ee.Image.constant(2).rename('a');\n");
    const r = await runJob(job.file, e.url);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the recipe file differs/);
  });

  it('tells a webhook how the run ended', async () => {
    const e = await emulator({});
    const hook = await webhookReceiver();
    try {
      const job = rectangleJob('hook', 2, 1, { notify: { webhook: hook.url } });
      expect((await runJob(job.file, e.url)).code).toBe(0);
      expect(hook.heard).toEqual([expect.objectContaining({ job: 'hook', status: 'done', exitCode: 0, total: 2 })]);
    } finally {
      await hook.close();
    }
  });
});
