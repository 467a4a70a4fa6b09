import { describe, expect, it } from 'vitest';
import { emulatorSession } from '../../main/core/google/session';
import { EarthEngine } from '../../main/core/google/earthengine';
import { Drive } from '../../main/core/google/drive';
import { loadJobFile } from '../../main/core/job/job-file';
import { FileJobRepository } from '../../main/core/job/repository';
import { JobRunner } from '../../main/core/engine/runner';
import { builtInBytesPerPixel, builtInImage } from '../../main/core/engine/recipe';
import type { EngineEvent } from '../../shared/contract';
import { scaledClock, systemClock } from '../../main/core/ports/clock';
import { rectangleJob } from '../helpers/job';
import { useEmulator } from '../helpers/emulator';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 300 });

async function runner(name: string, cols: number, rows: number, extra: Record<string, unknown> = {}) {
  const t = rectangleJob(name, cols, rows, extra);
  const job = await loadJobFile(t.file);
  const repo = await FileJobRepository.open(job.stateDir);
  const session = await emulatorSession(emu.url);
  const ee = await EarthEngine.connect(session);
  const events: EngineEvent[] = [];
  const r = new JobRunner(job, repo, ee, new Drive(session), {
    clock: scaledClock(systemClock, 1000),
    onEvent: (e) => events.push(e),
    image: (m) => builtInImage(m),
    bytesPerPixel: builtInBytesPerPixel(),
  });
  return { r, repo, events, job };
}

const until = async (what: () => boolean, ms = 30_000) => {
  for (const end = Date.now() + ms; !what(); ) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((res) => setTimeout(res, 20));
  }
};

describe('commands of the contract', () => {
  it('pause holds new submissions, resume lets the job finish', async () => {
    const { r, repo, events } = await runner('pausing', 4, 2, { maxInFlight: 2 });
    const done = r.run();
    await until(() => Object.values(repo.state.tiles).some((t) => t.state === 'queued' || t.state === 'running'));
    await r.command({ type: 'pause', job: 'pausing' });
    const submittedAtPause = Object.values(repo.state.tiles).filter((t) => t.attempt > 0).length;
    // Everything in flight ends; nothing new is sent while paused.
    await until(() => Object.values(repo.state.tiles).every((t) => t.state === 'pending' || t.state === 'done'));
    await new Promise((res) => setTimeout(res, 300));
    expect(Object.values(repo.state.tiles).filter((t) => t.attempt > 0).length).toBe(submittedAtPause);
    expect(events.some((e) => e.type === 'job-progress' && e.progress.waiting === 'paused')).toBe(true);
    await r.command({ type: 'resume', job: 'pausing' });
    const outcome = await done;
    expect(outcome.exitCode).toBe(0);
    expect(outcome.progress.tiles.done).toBe(8);
    await repo.close();
  });

  it('cancel cancels the job’s EE operations and says what was already downloaded', async () => {
    const { r, repo } = await runner('cancelling', 4, 2, { maxInFlight: 3 });
    const done = r.run();
    await until(() => Object.values(repo.state.tiles).some((t) => t.state === 'done'));
    emu.configure({ taskBaseSeconds: 5000 }); // tasks now in flight run ~5 s: the cancel reaches them
    await until(() => Object.values(repo.state.tiles).some((t) => t.state === 'running'));
    await r.command({ type: 'cancel', job: 'cancelling' });
    const outcome = await done.finally(() => emu.configure({ taskBaseSeconds: 300 }));
    expect(outcome.cancelled?.downloaded).toBeGreaterThanOrEqual(1);
    await emu.sync();
    const ops = emu.state().operations.filter((o) => o.description?.startsWith('cancelling_'));
    expect(ops.some((o) => o.state === 'CANCELLED' || o.state === 'CANCELLING')).toBe(true);
    expect(ops.every((o) => ['SUCCEEDED', 'CANCELLED', 'CANCELLING'].includes(o.state))).toBe(true);
    // Every tile whose task succeeded was downloaded; every other one is cancelled; Drive keeps nothing of it.
    for (const o of ops) {
      const tile = repo.state.tiles[o.description!.replace(/^cancelling_/, '').replace(/_a\d+$/, '')]!;
      expect(tile.state).toBe(o.state === 'SUCCEEDED' ? 'done' : 'cancelled');
    }
    expect(Object.values(repo.state.tiles).every((t) => t.state === 'done' || t.state === 'cancelled')).toBe(true);
    const outputs = new Set(ops.flatMap((o) => o.outputs));
    expect(emu.state().files.filter((f) => outputs.has(f.id) && f.deletedAt === null)).toEqual([]);
    await repo.close();
  });

  it('skip and retry act on single tiles', async () => {
    const { r, repo } = await runner('skipping', 3, 1, { maxInFlight: 1 });
    const ids = Object.keys(repo.state.tiles).length ? Object.keys(repo.state.tiles) : [];
    const done = r.run();
    await until(() => Object.keys(repo.state.tiles).length === 3);
    const last = Object.keys(repo.state.tiles)[2]!;
    await r.command({ type: 'skip', job: 'skipping', tiles: [last] });
    const outcome = await done;
    expect(ids).toEqual([]);
    expect(outcome.exitCode).toBe(0);
    expect(repo.state.tiles[last]!.state).toBe('skipped');
    expect(repo.state.tiles[last]!.attempt).toBe(0);
    await r.command({ type: 'retry', job: 'skipping', tiles: [last] });
    expect(repo.state.tiles[last]!.state).toBe('pending');
    await repo.close();
  });
});
