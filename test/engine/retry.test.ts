import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { acquireJobLock } from '../../main/core/job/lock';
import { readJobState } from '../../main/core/job/repository';
import { rectangleJob, type TestJob } from '../helpers/job';
import { runJob, useEmulator } from '../helpers/emulator';
import { tessera } from '../helpers/cli';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20, slots: 2 });

/** Changes keys of a job file in place (what a user does between runs). */
function editJob(job: TestJob, patch: Record<string, unknown>): void {
  writeFileSync(job.file, JSON.stringify({ ...JSON.parse(readFileSync(job.file, 'utf8')), ...patch }, null, 2));
}

const status = (job: TestJob) => JSON.parse(tessera(['status', job.file, '--json']).stdout) as { tiles: Record<string, number> };

describe('retrying failed tiles', () => {
  it('tessera retry --failed sets failed tiles to run again, and the next run finishes them', async () => {
    const job = rectangleJob('retry-cli', 2, 1, { retries: 0 });
    emu.configure({ internalErrorRate: 1, internalMaxAttempts: 1 });
    const first = await runJob(job.file, emu.url).finally(() => emu.configure({ internalErrorRate: 0, internalMaxAttempts: 3 }));
    expect(first.code).toBe(2);
    expect(status(job).tiles.failed).toBe(2);

    const r = tessera(['retry', job.file, '--failed']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 tiles? .*again/);
    expect(r.stdout).toContain(`tessera run ${job.file}`);
    expect(status(job).tiles.pending).toBe(2);

    const second = await runJob(job.file, emu.url);
    expect(second.code).toBe(0);
    expect(status(job).tiles.done).toBe(2);
  });

  it('names a tile that is not in the job, and one that is not failed, with exit 1 and nothing changed', async () => {
    const job = rectangleJob('retry-bad', 2, 1);
    await runJob(job.file, emu.url);
    const unknown = tessera(['retry', job.file, 'x9_y9']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/x9_y9.*not a tile of this job/);
    const tile = Object.keys((await readJobState(job.stateDir))!.tiles)[0]!;
    const done = tessera(['retry', job.file, tile]);
    expect(done.code).toBe(1);
    expect(done.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(status(job).tiles.done).toBe(2);
  });

  it('refuses with one line when another process drives the job', async () => {
    const job = rectangleJob('retry-locked', 1, 1);
    await runJob(job.file, emu.url);
    // Another process (here: this test) holds the job's lock.
    const lock = await acquireJobLock(job.stateDir, 'tessera run (another)');
    try {
      const r = tessera(['retry', job.file, '--failed']);
      expect(r.code).toBe(3);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.stderr).toMatch(/is being run by .*dashboard|stop it/);
    } finally {
      await lock.release();
    }
  });

  it('a raised "retries" in the job file gives failed tiles their new retries on the next run', async () => {
    const job = rectangleJob('retry-raise', 2, 1, { retries: 0 });
    emu.configure({ internalErrorRate: 1, internalMaxAttempts: 1 });
    const first = await runJob(job.file, emu.url).finally(() => emu.configure({ internalErrorRate: 0, internalMaxAttempts: 3 }));
    expect(first.code).toBe(2);
    editJob(job, { retries: 2 });
    const second = await runJob(job.file, emu.url);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(status(job).tiles.done).toBe(2);
  });

  it('a raised "splitDepth" splits tiles that failed for being too big on the next run', async () => {
    const job = rectangleJob('retry-split', 2, 1, { splitDepth: 0 });
    emu.configure({ timeoutPixels: 128 * 128 - 1 });
    try {
      const first = await runJob(job.file, emu.url);
      expect(first.code).toBe(2);
      expect(first.stderr).toMatch(/splitDepth is 0/);
      editJob(job, { splitDepth: 1 });
      const second = await runJob(job.file, emu.url);
      expect(second.code).toBe(0);
      const s = status(job);
      expect(s.tiles.split).toBe(2);
      expect(s.tiles.done).toBe(8);
    } finally {
      emu.configure({ timeoutPixels: null });
    }
  });
});

describe('the retry-failed command (dashboard "Retry all failed")', () => {
  it('sends every failed tile, and only those, back to the queue', async () => {
    const { MemoryJobRepository } = await import('../../main/core/job/repository');
    const { JobRunner } = await import('../../main/core/engine/runner');
    const { parseJob } = await import('../../main/core/job/job-file');
    const repo = new MemoryJobRepository();
    await repo.append({ type: 'plan', tiles: ['x0_y0', 'x1_y0', 'x2_y0'].map((id, k) => ({ id, crs: 'EPSG:3035', crsTransform: [10, 0, k * 1000, 0, -10, 1000] as [number, number, number, number, number, number], dimensions: [100, 100] as [number, number] })) });
    await repo.append({ type: 'tile', id: 'x0_y0', patch: { state: 'failed', error: 'Internal error. (after 3 retries)', retriesUsed: 3 } }, { type: 'tile', id: 'x1_y0', patch: { state: 'failed', error: 'boom' } }, { type: 'tile', id: 'x2_y0', patch: { state: 'cancelled' } });
    const job = parseJob({ name: 'rf', roi: 'a.geojson', grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 100 }, drive: { folder: 'rf' }, output: 'out' }, '/tmp/rf/job.json');
    const never = () => Promise.reject(new Error('not used'));
    const runner = new JobRunner(job, repo, { exportImage: never, getOperations: never, listOperations: never, cancelOperations: never }, { listFolder: never, download: never, remove: never, trash: never, quota: never } as never, { bytesPerPixel: 4 });
    await runner.command({ type: 'retry-failed', job: 'rf' });
    expect(Object.values(repo.state.tiles).map((t) => [t.id, t.state, t.retriesUsed ?? 0])).toEqual([['x0_y0', 'pending', 0], ['x1_y0', 'pending', 0], ['x2_y0', 'cancelled', 0]]);
  });
});
