import { describe, expect, it } from 'vitest';
import { rectangleJob } from '../helpers/job';
import { checkFinishedJob, jobFiles, runJobQuietly, useEmulator } from '../helpers/emulator';

// Every request takes 150 ms: sending 12 exports keeps the engine's loop busy for about two seconds.
const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 1, slots: 12, latencyMs: 150 });

describe('downloads beside a busy loop (docs/scale.md, "Throughput of a run")', () => {
  it('starts the next download as soon as one ends, while the loop is still sending exports', async () => {
    // 24 tiles, 12 in flight, one download at a time: the first 12 finish at once and wait to be
    // collected while the loop sends the next 12.
    const job = rectangleJob('refill', 6, 4, { maxInFlight: 12, downloads: 1 });
    await runJobQuietly(job.file, emu.url);
    await emu.sync();
    const state = emu.state();
    checkFinishedJob(state, 'refill', job.output, 24);
    const created = state.operations.filter((o) => o.description?.startsWith('refill_')).map((o) => Date.parse(o.createTime)).sort((a, b) => a - b);
    const lastSent = created[created.length - 1]!;
    const collectedMeanwhile = jobFiles(state, 'refill').all.filter((f) => Date.parse(f.deletedAt!) < lastSent).length;
    // Collected (downloaded, verified, deleted in Drive) before the last export was sent: one per cycle
    // when downloads started only between two cycles; several when each ending download starts the next.
    expect(collectedMeanwhile).toBeGreaterThanOrEqual(3);
  });
});
