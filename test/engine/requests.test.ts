import { describe, expect, it } from 'vitest';
import { rectangleJob } from '../helpers/job';
import { checkFinishedJob, runJob, useEmulator } from '../helpers/emulator';

// Tasks of ~1.3 s real (120 s simulated at time scale 100), so several poll intervals (0.05–0.6 s) pass
// while one runs; two slots, four tasks in flight.
const emu = useEmulator({ timeScale: 100, taskBaseSeconds: 120, slots: 2 });

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
    // a few a tile: a task is read when it can have ended; before any has ended, only the first started.
    // The client's 350 ms throttle runs on the emulator's clock here as everything else does
    // (docs/earth-engine-client.md#request-throttle); when it ran in real time it spaced the polls 35
    // emulated seconds apart and hid the reads of that first round (46 for 12 tiles once it did not).
    const reads = n('GET /v1/projects/{project}/operations/{operation}');
    expect(reads / tiles).toBeLessThanOrEqual(3);
    expect(n('POST /batch') / tiles).toBeLessThanOrEqual(2);
  });
});
