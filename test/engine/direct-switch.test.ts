/**
 * Switching a job to `"mode": "direct"` while batch exports of an earlier run are still out
 * (docs/direct-download.md#switching-mode): a direct job has no destination to collect them from, so
 * the run stops before sending anything — one line, exit 3 (docs/states.md#exit-codes), nothing sent, nothing cancelled.
 * Its own emulator: the refused exports keep two slots busy for minutes.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rectangleJob } from '../helpers/job';
import { runJob, useEmulator } from '../helpers/emulator';
import { BIN } from '../helpers/cli';

const COMPUTE = 'POST /v1/projects/{project}/image:computePixels';
// Tasks run 100 000 simulated seconds (100 s real): still running when the direct run starts, however busy the machine.
const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 100_000, slots: 2 });

describe('a job switched to direct with exports in flight', () => {
  it('is refused with one line naming the way out, exit 3, nothing sent and nothing cancelled', async () => {
    const job = rectangleJob('switchdirect', 2, 1);
    const ours = () => emu.state().operations.filter((o) => o.description?.startsWith('switchdirect_'));
    // The export run is killed once both exports are submitted (they are journaled before they are sent).
    const child = spawn(process.execPath, [BIN, 'run', job.file, '--emulator', emu.url], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    for (let i = 0; i < 3000 && ours().length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(ours()).toHaveLength(2);
    expect(ours().every((o) => o.state === 'PENDING' || o.state === 'RUNNING')).toBe(true);

    const spec = JSON.parse(readFileSync(job.file, 'utf8')) as Record<string, unknown>;
    writeFileSync(job.file, JSON.stringify({ ...spec, mode: 'direct' }, null, 2));
    const compute0 = emu.state().requests[COMPUTE] ?? 0;
    const r = await runJob(job.file, emu.url, {}, 30_000);
    expect(r.code, r.stdout).toBe(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/2 tiles are still in batch exports sent by an earlier run in "mode": "export" \(first: x\d+_y\d+\); nothing was sent — run the job with "mode": "auto" \(or "export"\) until they are done, then switch to "direct"/);
    await emu.sync();
    expect(emu.state().requests[COMPUTE] ?? 0).toBe(compute0);
    expect(ours()).toHaveLength(2);
    expect(ours().every((o) => o.state === 'PENDING' || o.state === 'RUNNING')).toBe(true);
    expect(existsSync(job.output) ? readdirSync(job.output).filter((n) => n.endsWith('.tif')) : []).toEqual([]);
  }, 120_000);
});
