import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { rectangleJob } from '../helpers/job';
import { checkFinishedJob, runJob } from '../helpers/emulator';

let emu: EmulatorHandle;

// Tasks of ~1.3 s real (120 s simulated at time scale 100), so several poll intervals (0.05–0.6 s) pass
// while one runs; two slots, four tasks in flight.
beforeAll(async () => {
  emu = await startEmulator({ timeScale: 100, taskBaseSeconds: 120, slots: 2 });
});
afterAll(async () => {
  await emu?.stop();
});

describe('requests to Google per tile (docs/performance.md)', () => {
  it('reads Drive’s quota once and never reads a running task before it can have ended', async () => {
    const tiles = 12;
    const job = rectangleJob('frugal', 4, 3);
    const r = await runJob(job.file, emu.url);
    expect(r.code, r.stderr).toBe(0);
    await emu.sync();
    const state = emu.state();
    checkFinishedJob(state, 'frugal', job.output, tiles);
    const n = (route: string) => state.requests[route] ?? 0;
    // about.get: once for the gate (plenty of room: no second look), not every poll.maxSeconds.
    expect(n('GET /drive/v3/about')).toBe(1);
    // Operation reads (each part of a batch counted, as Google's quota counts them) and polls stay within
    // a few a tile: a task is read when it can have ended (30 reads and 11 polls for these 12 tiles).
    const reads = n('GET /v1/projects/{project}/operations/{operation}');
    expect(reads / tiles).toBeLessThanOrEqual(3);
    expect(n('POST /batch') / tiles).toBeLessThanOrEqual(2);
  });
});
