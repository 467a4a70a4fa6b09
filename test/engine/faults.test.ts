import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { rectangleJob } from '../helpers/job';
import { checkFinishedJob, runJob } from '../helpers/emulator';

let emu: EmulatorHandle;
beforeAll(async () => {
  emu = await startEmulator({
    timeScale: 1000,
    taskBaseSeconds: 20,
    http5xxRate: 0.05,
    rateLimitRate: 0.02,
    resetRate: 0.02,
    truncateRate: 0.02,
    lostAnswerRate: 0.05,
    tokenLifetimeSeconds: 60,
    seed: 11,
  });
});
afterAll(async () => {
  await emu?.stop();
});

/** `TESSERA_SOAK=1` (docs/CONTRIBUTING.md#soak-runs): the long version, 200 tiles. */
const [COLS, ROWS] = process.env.TESSERA_SOAK === '1' ? [20, 10] : [12, 10];

describe('a week of bad weather in a minute', () => {
  it(`${COLS * ROWS} tiles through 5xx, rate limits, resets, truncations, lost answers and short-lived tokens: nothing lost or duplicated`, { timeout: 600_000 }, async () => {
    const job = rectangleJob('weather', COLS, ROWS, { maxInFlight: 6, retries: 6 });
    // A run may stop early only by exiting; re-running resumes. Bounded: a few runs at most.
    let last;
    for (let k = 0; k < 3; k++) {
      last = await runJob(job.file, emu.url, {}, 400_000);
      if (last.code === 0) break;
    }
    expect(last!.code, last!.stderr.slice(-2000)).toBe(0);
    await emu.sync();
    const state = emu.state();
    checkFinishedJob(state, 'weather', job.output, COLS * ROWS);
    // The faults really happened.
    const counts = state.requests;
    expect(Object.keys(counts).length).toBeGreaterThan(5);
  });
});
