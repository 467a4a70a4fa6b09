import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pace, summarizeTiles } from '../../main/core/engine/progress';
import { progressLine } from '../../main/cli/display';
import { JobRunner } from '../../main/core/engine/runner';
import { parseJob } from '../../main/core/job/job-file';
import { FileJobRepository, MemoryJobRepository } from '../../main/core/job/repository';
import { acquireJobLock } from '../../main/core/job/lock';
import type { TilePlan, TileRecord } from '../../main/core/job/state';
import type { TileState } from '../../shared/contract';
import { BIN } from '../helpers/cli';

const tile = (id: string, state: TileState, doneAt?: number): TileRecord => ({
  id, crs: 'EPSG:3035', crsTransform: [10, 0, 0, 0, -10, 0], dimensions: [100, 100], state, attempt: 1, files: [],
  history: doneAt === undefined ? [{ state, at: new Date(0).toISOString() }] : [{ state: 'done', at: new Date(doneAt).toISOString() }],
});

describe('progress that does not jump', () => {
  it('counts planned tiles: a split tile once (done when all its parts are), its parts apart', () => {
    const records = [
      tile('x1_y1', 'done', 1000), tile('x2_y1', 'pending'), tile('x3_y1', 'split'),
      tile('x3_y1_q0', 'done', 2000), tile('x3_y1_q1', 'done', 3000), tile('x3_y1_q2', 'split'), tile('x3_y1_q3', 'running'),
      tile('x3_y1_q2_q0', 'done', 4000), tile('x3_y1_q2_q1', 'pending'),
    ];
    const s = summarizeTiles(records);
    expect(s.planned).toEqual({ total: 3, done: 1 });
    expect(s.split).toEqual({ tiles: 1, parts: 5, done: 3 });
    const line = progressLine({ job: 'j', total: s.total, tiles: s.tiles, queued: 0, running: 1, waiting: null, throughputPerHour: null, etaSeconds: null, bytesDownloaded: 0, finished: false, planned: s.planned, split: s.split });
    expect(line).toMatch(/^j: 1\/3 done \(1 split into 5 parts, 3 done\)/);
  });

  it('a pause neither drags the pace down afterwards nor keeps an ETA', () => {
    const minute = 60_000;
    const times = [0, 1, 2, 3, 4].map((k) => k * minute).concat([3 * 3_600_000, 3 * 3_600_000 + minute]);
    const p = pace(times, 10);
    expect(p.throughputPerHour).toBeGreaterThan(30); // ~1 a minute, not 6 in 3 hours
    expect(pace(times, 10, true).etaSeconds).toBeNull();
  });

  it('the runner shows no ETA while paused, and the same pace as tessera status', async () => {
    const repo = new MemoryJobRepository();
    const plan: TilePlan[] = Array.from({ length: 6 }, (_, k) => ({ id: `x${k}_y0`, crs: 'EPSG:3035', crsTransform: [10, 0, k * 1000, 0, -10, 1000], dimensions: [100, 100] }));
    await repo.append({ type: 'plan', tiles: plan });
    for (let k = 0; k < 3; k++) {
      await repo.append({ type: 'tile', id: `x${k}_y0`, patch: { state: 'done' } });
      repo.state.tiles[`x${k}_y0`]!.history.at(-1)!.at = new Date(Date.now() - (3 - k) * 60_000).toISOString();
    }
    const job = parseJob({ name: 'p', roi: 'a.geojson', grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 100 }, drive: { folder: 'p' }, output: 'out' }, '/tmp/p/job.json');
    const never = () => Promise.reject(new Error('not used'));
    const runner = new JobRunner(job, repo, { exportImage: never, getOperations: never, listOperations: never, cancelOperations: never }, { listFolder: never, download: never, remove: never, trash: never, quota: never } as never, { bytesPerPixel: 4 });
    (runner as unknown as { seedTotals(): void }).seedTotals();
    const live = runner.progress();
    const status = summarizeTiles(Object.values(repo.state.tiles));
    expect(live.throughputPerHour).toBeCloseTo(status.throughputPerHour!, 6);
    expect(live.etaSeconds).not.toBeNull();
    await runner.command({ type: 'pause', job: 'p' });
    expect(runner.progress().etaSeconds).toBeNull();
  });
});

function statusOf(file: string): Promise<{ code: number | null; stdout: string; json: Record<string, unknown> }> {
  const once = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const c = spawn(process.execPath, [BIN, 'status', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      c.on('close', (code) => resolve({ code, stdout }));
    });
  return Promise.all([once([]), once(['--json'])]).then(([text, json]) => ({ code: text.code, stdout: text.stdout, json: JSON.parse(json.stdout) as Record<string, unknown> }));
}

describe('tessera status tells what is really happening', () => {
  it('tiles beyond the download slots wait; a finished job that tessera serve holds is finished, not running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'status-'));
    const file = join(dir, 'job.json');
    writeFileSync(file, JSON.stringify({ name: 'st', roi: 'a.geojson', grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 100 }, drive: { folder: 'st' }, output: 'out', downloads: 3 }));
    const stateDir = join(dir, '.tessera', 'st');
    const repo = await FileJobRepository.open(stateDir);
    const plan: TilePlan[] = Array.from({ length: 12 }, (_, k) => ({ id: `x${k}_y0`, crs: 'EPSG:3035', crsTransform: [10, 0, k * 1000, 0, -10, 1000], dimensions: [100, 100] }));
    await repo.append({ type: 'plan', tiles: plan });
    for (let k = 0; k < 12; k++) await repo.append({ type: 'tile', id: `x${k}_y0`, patch: { state: k < 3 ? 'done' : 'downloading' } });
    const lock = await acquireJobLock(stateDir, `tessera serve ${file}`);
    try {
      const busy = await statusOf(file);
      expect(busy.stdout).toMatch(/running in tessera serve/);
      expect((busy.json.tiles as Record<string, number>).downloading).toBe(3);
      expect(busy.stdout).toMatch(/6 exported tile\(s\) waiting for a download slot/);
      for (let k = 3; k < 12; k++) await repo.append({ type: 'tile', id: `x${k}_y0`, patch: { state: 'done' } });
      const done = await statusOf(file);
      expect(done.stdout).not.toMatch(/running/);
      expect(done.stdout).toMatch(/12\/12 tiles done · finished; held by tessera serve/);
      expect(done.json.state).toBe('finished');
    } finally {
      await lock.release();
      await repo.close();
    }
  });
});
