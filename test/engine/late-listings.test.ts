/**
 * Google's unpleasant shapes (docs/ownership.md): Drive lists an export's files late, an operation may
 * succeed without destinationUris, "Deadline expired" means too big, and fileDimensions must be a multiple
 * of shardSize. A tile never waits forever.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { tessera } from '../helpers/cli';
import { checkFinishedJob, runJob } from '../helpers/emulator';
import { rectangleJob } from '../helpers/job';

let emu: EmulatorHandle;
const CALM = { driveListingDelaySeconds: 0, omitDestinationUrisRate: 0, timeoutPixels: null, timeoutMessage: 'Computation timed out.' } as const;

beforeAll(async () => {
  emu = await startEmulator({ timeScale: 1000, taskBaseSeconds: 20, slots: 4 });
});
afterAll(async () => {
  await emu?.stop();
});

async function finished() {
  await emu.sync();
  return emu.state();
}

const status = (file: string) => JSON.parse(tessera(['status', file, '--json']).stdout) as { tiles: Record<string, number>; failed: { id: string; error: string }[] };

describe('Drive lists late', () => {
  it('with skipEmptyTiles, a file not listed yet is waited for (within the grace), not taken for an empty tile', async () => {
    // At timeScale 100, 300 simulated seconds are 3 s: many polls, yet within the default grace of 600 s (6 s).
    emu.configure({ timeScale: 100, driveListingDelaySeconds: 300 });
    const job = rectangleJob('latelist', 3, 1, { export: { skipEmptyTiles: true } });
    const r = await runJob(job.file, emu.url).finally(() => emu.configure({ ...CALM, timeScale: 1000 }));
    expect(r.code, r.stderr).toBe(0);
    // Every tile has its output locally: none was closed as "empty" while Drive had not listed it yet.
    expect(readdirSync(job.output).filter((n) => n.endsWith('.tif'))).toHaveLength(3);
    checkFinishedJob(await finished(), 'latelist', job.output, 3);
  });

  it('a file that is still not listed after the grace fails its tile naming what is missing (never waits forever)', async () => {
    emu.configure({ driveListingDelaySeconds: 1_000_000 }); // 1000 s here: far beyond the grace
    const job = rectangleJob('neverlisted', 1, 1);
    const r = await runJob(job.file, emu.url, {}, 60_000).finally(() => emu.configure(CALM));
    expect(r.code, r.stderr).toBe(2);
    const st = status(job.file);
    expect(st.failed).toHaveLength(1);
    expect(st.failed[0]!.error).toMatch(/Drive still lists none of its files: neverlisted_x3125_y2344\.tif/);
    // Its file stays in Drive (it was never downloaded).
    const s = await finished();
    expect(s.files.find((f) => f.name === 'neverlisted_x3125_y2344.tif')!.deletedAt).toBeNull();
  });

  it('a SUCCEEDED operation without destinationUris is looked for in the job folder by name, with a warning', async () => {
    emu.configure({ omitDestinationUrisRate: 1 });
    const job = rectangleJob('nouris', 2, 1);
    const r = await runJob(job.file, emu.url).finally(() => emu.configure(CALM));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/succeeded without destinationUris; looking for its files in the Drive folder "tessera-nouris"/);
    checkFinishedJob(await finished(), 'nouris', job.output, 2);
  });
});

describe('wording and shapes', () => {
  it('"Deadline expired before operation could complete." splits the tile instead of failing it', async () => {
    emu.configure({ timeoutPixels: 10_000, timeoutMessage: 'Deadline expired before operation could complete.' });
    const job = rectangleJob('deadline', 1, 1); // 128 × 128 = 16,384 px: too big; its 64 × 64 children are not
    const r = await runJob(job.file, emu.url).finally(() => emu.configure(CALM));
    expect(r.code, r.stderr).toBe(0);
    const st = status(job.file);
    expect(st.tiles.split).toBe(1);
    expect(st.tiles.done).toBe(4);
    expect(['q0', 'q1', 'q2', 'q3'].every((q) => existsSync(join(job.output, `deadline_x3125_y2344_${q}.tif`)))).toBe(true);
  });

  it('refuses fileDimensions that are not a multiple of shardSize at load: one line naming the key, exit 1, nothing sent', () => {
    const job = rectangleJob('shards', 1, 1, { export: { fileDimensions: 1000 } });
    const r = tessera(['run', job.file, '--emulator', emu.url]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/"export\.fileDimensions" \(1000\) must be a multiple of "export\.shardSize" \(256/);
    expect(emu.state().operations.filter((o) => o.description?.startsWith('shards_'))).toHaveLength(0);
    expect(existsSync(job.output)).toBe(false);
  });
});
