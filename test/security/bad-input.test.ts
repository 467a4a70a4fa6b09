// Bad input gives one clear line, exit 1, and leaves nothing behind (issue: hostile input and local security).
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadJobFile } from '../../main/core/job/job-file';
import { ROI_MAX_BYTES } from '../../main/core/fs-bounded';
import { BIN } from '../helpers/cli';
import { rectangleJob } from '../helpers/job';
import { useEmulator } from '../helpers/emulator';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20 });

/** The CLI as a user runs it; as `nobody` when the tests run as root (root ignores file modes). */
function cli(args: string[], options: { asUser?: boolean; timeoutMs?: number } = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }> {
  const asNobody = options.asUser && process.getuid?.() === 0;
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: '/tmp',
      env: { ...process.env, HOME: '/tmp', TESSERA_CREDENTIALS: '/tmp/tessera-no-credentials.json' },
      ...(asNobody ? { uid: 65534, gid: 65534 } : {}),
    });
    let stdout = '';
    let stderr = '';
    const kill = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

const GRID = ['--crs', 'EPSG:3035', '--scale', '10', '--tile-pixels', '100'];

describe('an ROI that is not a regular file, or too large', () => {
  it('/dev/zero is refused at once with one line', async () => {
    const r = await cli(['grid', '/dev/zero', ...GRID], { timeoutMs: 20_000 });
    expect(r.stderr.trim()).toMatch(/^tessera: \/dev\/zero is not a regular file/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.code).toBe(1);
  });

  it('a FIFO is refused without waiting for a writer', async () => {
    const dir = rectangleJob('fifo', 1, 1).dir;
    const fifo = join(dir, 'area.gpkg');
    spawnSync('mkfifo', [fifo]);
    const r = await cli(['grid', fifo, ...GRID], { timeoutMs: 20_000 });
    expect(r.signal).toBeNull(); // not killed by the timeout
    expect(r.stderr.trim()).toBe(`tessera: ${fifo} is not a regular file; give a .gpkg or .geojson file`);
    expect(r.code).toBe(1);
  });

  it('a file above the documented limit is refused before it is read', async () => {
    const dir = rectangleJob('huge', 1, 1).dir;
    const big = join(dir, 'big.geojson');
    writeFileSync(big, '');
    truncateSync(big, ROI_MAX_BYTES + 1); // sparse: nothing is written to disk
    const r = await cli(['grid', big, ...GRID], { timeoutMs: 20_000 });
    expect(r.stderr.trim()).toMatch(/big\.geojson is larger than 512 MB/);
    expect(r.code).toBe(1);
  });

  it('a job file that is a FIFO is refused too (SIGTERM never waits on a blocked read)', async () => {
    const dir = rectangleJob('fifo-job', 1, 1).dir;
    const fifo = join(dir, 'fifo.json');
    spawnSync('mkfifo', [fifo]);
    const r = await cli(['run', fifo, '--emulator', emu.url], { timeoutMs: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.stderr.trim()).toMatch(/fifo\.json is not a regular file/);
    expect(r.code).toBe(1);
  });
});

describe('job files', () => {
  it('a UTF-8 BOM (Windows editors write one) is accepted', async () => {
    const job = rectangleJob('bom', 1, 1);
    writeFileSync(job.file, '\uFEFF' + readFileSync(job.file, 'utf8'));
    const loaded = await loadJobFile(job.file);
    expect(loaded.name).toBe('bom');
  });
});

describe('a run refused for bad input leaves nothing', () => {
  it('a missing ROI file: exit 1, one line, no .tessera folder', async () => {
    const job = rectangleJob('no-roi', 1, 1, { roi: 'missing.geojson' });
    const r = await cli(['run', job.file, '--emulator', emu.url]);
    expect(r.stderr.trim()).toMatch(/^tessera: ROI file not found: .*missing\.geojson$/);
    expect(r.code).toBe(1);
    expect(existsSync(join(job.dir, '.tessera'))).toBe(false);
    expect(existsSync(job.output)).toBe(false);
  });

  it('an ROI without polygons: exit 1, no .tessera folder', async () => {
    const job = rectangleJob('no-polygons', 1, 1);
    writeFileSync(join(job.dir, 'area.geojson'), JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [4e6, 3e6] } }] }));
    const r = await cli(['run', job.file, '--emulator', emu.url]);
    expect(r.stderr.trim()).toMatch(/holds no polygons/);
    expect(r.code).toBe(1);
    expect(existsSync(join(job.dir, '.tessera'))).toBe(false);
  });

  it('a missing recipe file: exit 1, no .tessera folder', async () => {
    const job = rectangleJob('no-recipe', 1, 1, { recipe: { file: 'nope.js' } });
    const r = await cli(['run', job.file, '--emulator', emu.url]);
    expect(r.stderr.trim()).toMatch(/recipe file not found/);
    expect(r.code).toBe(1);
    expect(existsSync(join(job.dir, '.tessera'))).toBe(false);
  });

  it("keeps a .tessera folder that was there before (another job's state)", async () => {
    const job = rectangleJob('keep-other', 1, 1, { roi: 'missing.geojson' });
    mkdirSync(join(job.dir, '.tessera', 'other'), { recursive: true });
    writeFileSync(join(job.dir, '.tessera', 'other', 'journal.jsonl'), '');
    const r = await cli(['run', job.file, '--emulator', emu.url]);
    expect(r.code).toBe(1);
    expect(existsSync(join(job.dir, '.tessera', 'other', 'journal.jsonl'))).toBe(true);
    expect(existsSync(join(job.dir, '.tessera', 'keep-other'))).toBe(false);
  });
});

describe('read-only folders', () => {
  it('a read-only job folder: one line naming the folder and the permission, exit 1, nothing written', async () => {
    const job = rectangleJob('ro-job', 1, 1);
    chmodSync(job.dir, 0o555);
    try {
      const r = await cli(['run', job.file, '--emulator', emu.url], { asUser: true });
      expect(r.stderr.trim()).toBe(`tessera: the job folder ${job.dir} is not writable (permission denied): Tessera keeps the job's journal in ${join(job.dir, '.tessera', 'ro-job')}; make the folder writable or move the job file`);
      expect(r.code).toBe(1);
      expect(existsSync(join(job.dir, '.tessera'))).toBe(false);
    } finally {
      chmodSync(job.dir, 0o755);
    }
  });

  it('a read-only output folder: one line naming it and the permission, exit 1, nothing written', async () => {
    const job = rectangleJob('ro-out', 1, 1);
    chmodSync(job.dir, 0o777);
    mkdirSync(job.output, { mode: 0o555 });
    chmodSync(job.output, 0o555);
    const r = await cli(['run', job.file, '--emulator', emu.url], { asUser: true });
    expect(r.stderr.trim()).toBe(`tessera: the output folder ${job.output} is not writable (permission denied); make it writable or choose another "output" in the job file`);
    expect(r.code).toBe(1);
    expect(existsSync(join(job.dir, '.tessera'))).toBe(false);
    expect(emu.state().operations.filter((o) => o.description?.startsWith('ro-out_'))).toHaveLength(0);
  });

  it('an output folder whose parent is read-only: names the folder that blocks it', async () => {
    const job = rectangleJob('ro-parent', 1, 1, { output: 'results/out' });
    chmodSync(job.dir, 0o777);
    mkdirSync(join(job.dir, 'results'), { mode: 0o555 });
    chmodSync(join(job.dir, 'results'), 0o555);
    const r = await cli(['run', job.file, '--emulator', emu.url], { asUser: true });
    expect(r.stderr.trim()).toBe(`tessera: the output folder ${join(job.dir, 'results', 'out')} cannot be made: ${join(job.dir, 'results')} is not writable (permission denied); make it writable or choose another "output" in the job file`);
    expect(r.code).toBe(1);
    expect(existsSync(join(job.dir, '.tessera'))).toBe(false);
  });
});
