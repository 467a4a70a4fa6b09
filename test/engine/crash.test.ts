import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rectangleJob } from '../helpers/job';
import { checkFinishedJob, runJob, useEmulator } from '../helpers/emulator';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20, slots: 2, dataDir: mkdtempSync(join(tmpdir(), 'emu-data-')) });

/**
 * Every moment where work is done but not yet journaled, killed once, and as many kills at seeded random
 * moments. `TESSERA_SOAK=1` (docs/CONTRIBUTING.md#soak-runs) runs the long version: 200 tiles, each moment twice.
 */
const SOAK = process.env.TESSERA_SOAK === '1';
const [COLS, ROWS] = SOAK ? [20, 10] : [12, 10];
const MOMENTS = ['before-export:4', 'after-export:2', 'mid-download:1', 'after-rename:2', 'after-cleanup:3'];
const SOAK_MOMENTS = ['after-export:5', 'mid-download:6', 'after-rename:7', 'after-cleanup:1', 'after-export:9'];

describe('crash safety', () => {
  const tiles = COLS * ROWS;
  const targeted = SOAK ? [...MOMENTS, ...SOAK_MOMENTS] : MOMENTS;
  it(`${tiles} tiles, SIGKILLed ${targeted.length * 2} times (at every dangerous moment and at random), end with every tile done exactly once`, { timeout: 600_000 }, async () => {
    const job = rectangleJob('chaos', COLS, ROWS, { maxInFlight: 6, downloads: 3 });
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const kills: { env?: Record<string, string>; afterMs?: number }[] = [];
    // Random kills within the first 2.6 s of a run: the whole job takes a few seconds since downloads no
    // longer wait for the next cycle (docs/scale.md, "Throughput of a run"), and a later kill would miss.
    for (const moment of targeted) kills.push({ env: { TESSERA_CRASH_AT: moment } }, { afterMs: 600 + Math.floor(random() * 2000) });
    let killed = 0;
    for (const kill of kills) {
      const r = await runJob(job.file, emu.url, kill.env, 120_000, kill.afterMs);
      if (r.signal === 'SIGKILL') killed++;
      else expect(r.code, r.stderr).toBe(0); // the job may finish before a late kill lands
    }
    // Every targeted kill lands (the moments come early), and most random ones.
    expect(killed).toBeGreaterThanOrEqual(Math.ceil(kills.length * 0.75));
    const last = await runJob(job.file, emu.url);
    expect(last.code, last.stderr).toBe(0);
    await emu.sync();
    checkFinishedJob(emu.state(), 'chaos', job.output, tiles);
  });
});
