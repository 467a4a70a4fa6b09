import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../main/emulator';
import { rectangleJob } from '../helpers/job';
import { checkFinishedJob, runJob } from '../helpers/emulator';

describe('offline', () => {
  it('waits while Google is unreachable and finishes when it is back, without losing an attempt', { timeout: 180_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'emu-offline-'));
    let emu = await startEmulator({ timeScale: 1000, taskBaseSeconds: 800, dataDir });
    const port = Number(new URL(emu.url).port);
    const job = rectangleJob('offline', 4, 2, { maxInFlight: 3, poll: { minSeconds: 5, maxSeconds: 1000 } });
    const run = runJob(job.file, emu.url, {}, 150_000);
    // Let it get going, then pull the network away for a few seconds.
    for (let k = 0; k < 200 && !readLog(job.stateDir).includes(' queued'); k++) await new Promise((r) => setTimeout(r, 50));
    await emu.stop();
    await new Promise((r) => setTimeout(r, 3000));
    emu = await startEmulator({ timeScale: 1000, taskBaseSeconds: 800, dataDir, port });
    try {
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
      const log = readLog(job.stateDir);
      expect(log).toMatch(/waiting: offline/);
      expect(log).toMatch(/back online/);
      await emu.sync();
      checkFinishedJob(emu.state(), 'offline', job.output, 8);
      // No tile paid an attempt for the outage: every operation is an _a1.
      expect(emu.state().operations.every((o) => o.description?.endsWith('_a1'))).toBe(true);
    } finally {
      await emu.stop();
    }
  });
});

function readLog(stateDir: string): string {
  try {
    return readFileSync(join(stateDir, 'log'), 'utf8');
  } catch {
    return '';
  }
}
