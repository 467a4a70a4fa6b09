import { describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { parseJob, loadJobFile } from '../../main/core/job/job-file';
import { FileJobRepository, MemoryJobRepository, readJobState } from '../../main/core/job/repository';
import { acquireJobLock } from '../../main/core/job/lock';
import type { TilePlan } from '../../main/core/job/state';

const minimal = { name: 'bavaria-s2', roi: { path: 'area.gpkg', layer: 'study_area' }, grid: { crs: 'EPSG:32632', scale: 10, tilePixels: 1000 }, drive: { folder: 'tessera-bavaria' }, output: 'out/bavaria', maxInFlight: 4 };
const plan = (n: number): TilePlan[] => Array.from({ length: n }, (_, k) => ({ id: `x${k}_y0`, crs: 'EPSG:3035', crsTransform: [10, 0, k * 1000, 0, -10, 1000], dimensions: [100, 100] }));

describe('job file', () => {
  it('accepts the minimal form of docs/job-file.md#minimal-form and resolves paths against the job file', () => {
    const job = parseJob(minimal, '/data/jobs/job.json');
    expect(job.roi).toEqual({ path: '/data/jobs/area.gpkg', layer: 'study_area' });
    expect(job.output).toBe('/data/jobs/out/bavaria');
    expect(job.stateDir).toBe('/data/jobs/.tessera/bavaria-s2');
    expect(job.driveFolder).toBe('tessera-bavaria');
    expect(job.poll).toEqual({ minSeconds: 5, maxSeconds: 60 });
    expect(job.cleanup).toBe('delete');
    expect(job.retries).toBe(3);
    expect(job.splitDepth).toBe(2);
    expect(job.driveReserveBytes).toBe(0);
  });

  it('fingerprints what defines the outputs, and nothing else', () => {
    const a = parseJob(minimal, '/data/jobs/job.json').fingerprint;
    expect(parseJob({ ...minimal, maxInFlight: 50, downloads: 8 }, '/elsewhere/job.json').fingerprint).toEqual(a);
    const b = parseJob({ ...minimal, grid: { ...minimal.grid, scale: 20 } }, '/data/jobs/job.json').fingerprint;
    expect(Object.keys(a).filter((k) => a[k] !== b[k])).toEqual(['grid']);
  });

  it.each([
    [{ ...minimal, name: 'has_underscore' }, /"name".*no underscore/],
    [{ ...minimal, grid: { ...minimal.grid, scale: 0 } }, /"grid.scale"/],
    [{ ...minimal, grid: { ...minimal.grid, tilePixels: 10.5 } }, /"grid.tilePixels"/],
    [{ ...minimal, maxInFlight: 5000 }, /"maxInFlight"/],
    [{ ...minimal, output: undefined }, /"output" is missing/],
    [{ ...minimal, colour: 'red' }, /unknown key "colour"/],
    [{ ...minimal, poll: { minSeconds: 90, maxSeconds: 60 } }, /poll.minSeconds/],
    [{ ...minimal, recipe: { preset: 's2' } }, /"recipe.preset": unknown preset/],
    [{ ...minimal, retries: -1 }, /"retries"/],
    [{ ...minimal, splitDepth: 20 }, /"splitDepth"/],
    [{ ...minimal, notify: { webhook: 'not a url' } }, /"notify.webhook"/],
    [{ ...minimal, eecuBudgetHours: 0 }, /"eecuBudgetHours"/],
    [{ ...minimal, drive: undefined }, /Drive folder/],
  ])('refuses %j naming the key', (raw, message) => {
    expect(() => parseJob(raw, '/j/job.json')).toThrow(message);
  });

  it('says when the file is missing or not JSON', async () => {
    await expect(loadJobFile('/nonexistent/job.json')).rejects.toThrow(/job file not found/);
    const dir = mkdtempSync(join(tmpdir(), 'job-'));
    writeFileSync(join(dir, 'job.json'), '{ "name": ');
    await expect(loadJobFile(join(dir, 'job.json'))).rejects.toThrow(/not valid JSON/);
  });
});

describe('job repository', () => {
  it('the in-memory repository applies entries and records state history', async () => {
    const repo = new MemoryJobRepository();
    await repo.append({ type: 'plan', tiles: plan(2) });
    await repo.append({ type: 'tile', id: 'x1_y0', patch: { state: 'submitting', attempt: 1, requestId: 'r1' } });
    expect(repo.state.tiles['x1_y0']!.state).toBe('submitting');
    expect(repo.state.tiles['x1_y0']!.history.map((h) => h.state)).toEqual(['pending', 'submitting']);
    expect(repo.written.map((e) => e.seq)).toEqual([1, 2]);
  });

  it('survives a torn last line and keeps appending after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'repo-'));
    const a = await FileJobRepository.open(dir);
    await a.append({ type: 'plan', tiles: plan(3) });
    await a.append({ type: 'tile', id: 'x0_y0', patch: { state: 'queued', operation: 'projects/p/operations/A' } });
    await a.close();
    appendFileSync(join(dir, 'journal.jsonl'), '{"seq":3,"at":"x","type":"tile","id":"x1_y0","pat'); // crash mid-write
    const b = await FileJobRepository.open(dir);
    expect(b.state.tiles['x0_y0']!.operation).toBe('projects/p/operations/A');
    expect(b.state.tiles['x1_y0']!.state).toBe('pending');
    await b.append({ type: 'tile', id: 'x2_y0', patch: { state: 'done' } });
    await b.close();
    const c = await FileJobRepository.open(dir);
    expect(c.state.tiles['x2_y0']!.state).toBe('done');
    expect(c.state.seq).toBe(3);
    await c.close();
    for (const line of readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('compacts into a snapshot and replays only what came after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'repo-'));
    const a = await FileJobRepository.open(dir, { compactEvery: 50 });
    await a.append({ type: 'plan', tiles: plan(10) });
    for (let k = 0; k < 120; k++) await a.append({ type: 'tile', id: `x${k % 10}_y0`, patch: { attempt: k } });
    await a.close();
    expect(existsSync(join(dir, 'snapshot.json'))).toBe(true);
    const lines = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').filter(Boolean);
    expect(lines.length).toBeLessThan(50);
    const b = await FileJobRepository.open(dir);
    expect(b.state.tiles['x9_y0']!.attempt).toBe(119);
    expect(b.state.seq).toBe(121);
    await b.close();
    expect((await readJobState(dir))!.tiles['x0_y0']!.attempt).toBe(110);
  });

  it('entries appended together are written with one fsync and all survive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'repo-'));
    const a = await FileJobRepository.open(dir);
    await a.append({ type: 'plan', tiles: plan(100) });
    await Promise.all(plan(100).map((t) => a.append({ type: 'tile', id: t.id, patch: { state: 'queued' } })));
    await a.close();
    const state = await readJobState(dir);
    expect(Object.values(state!.tiles).every((t) => t.state === 'queued')).toBe(true);
  });
});

describe('job lock', () => {
  it('a second holder is refused with exit code 3 naming the first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    try {
      const start = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = start.slice(start.lastIndexOf(')') + 2).split(' ');
      writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: child.pid, host: hostname(), processStart: fields[19], startedAt: 'then', command: 'tessera run' }));
      const err = await acquireJobLock(dir, 'tessera run').catch((e: unknown) => e);
      expect(err).toMatchObject({ exitCode: 3 });
      expect(String((err as Error).message)).toMatch(new RegExp(`locked by tessera run \\(pid ${child.pid}`));
    } finally {
      child.kill();
    }
  });

  it('takes over a lock whose holder died, or whose pid now belongs to another process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: Number(dead.stdout.trim()), host: hostname(), processStart: '1', startedAt: 'then', command: 'tessera run' }));
    const lock = await acquireJobLock(dir, 'tessera run');
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid);
    await lock.release();
    expect(existsSync(lock.path)).toBe(false);
    // pid 1 is alive but started at another time than recorded: a reused pid, so the lock is stale.
    writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: 1, host: hostname(), processStart: 'not-its-start', startedAt: 'then', command: 'x' }));
    const again = await acquireJobLock(dir, 'tessera run');
    await again.release();
  });
});
