import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { rectangleJob } from '../helpers/job';
import { runJobQuietly, useEmulator } from '../helpers/emulator';

/**
 * `tessera run` without a dashboard: each finished unit gets its quicklook in the job's state folder
 * (docs/previews.md), so a dashboard opened later shows the results without drawing them first.
 */
const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20, slots: 2 });

describe('quicklooks from tessera run', () => {
  it('writes one PNG of at most 256 px per finished tile, beside the journal', async () => {
    const job = rectangleJob('runlooks', 2, 1);
    await runJobQuietly(job.file, emu.url);
    const dir = join(job.stateDir, 'previews');
    expect(existsSync(dir)).toBe(true);
    const pngs = readdirSync(dir).filter((n) => n.endsWith('.png')).sort();
    expect(pngs).toHaveLength(2);
    for (const n of pngs) {
      const png = decode(readFileSync(join(dir, n)));
      expect(Math.max(png.width, png.height)).toBeLessThanOrEqual(256);
      expect(png.width).toBeGreaterThan(0);
    }
  }, 120_000);
});
