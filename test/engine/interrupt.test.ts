import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rectangleJob } from '../helpers/job';
import { runJob, useEmulator } from '../helpers/emulator';
import { BIN } from '../helpers/cli';

// Tasks of ~30 s real time: still in Earth Engine when Ctrl-C arrives.
const emu = useEmulator({ timeScale: 10, taskBaseSeconds: 300, slots: 2 });

describe('Ctrl-C during tessera run', () => {
  it('says what stopped, what is still in Earth Engine and how to resume; the job log has session markers', async () => {
    const job = rectangleJob('ctrl-c', 3, 1, { maxInFlight: 3 });
    const child = spawn(process.execPath, [BIN, 'run', job.file, '--emulator', emu.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Wait (bounded) until all three exports are in Earth Engine.
    for (const end = Date.now() + 60_000; emu.state().operations.filter((o) => o.description?.startsWith('ctrl-c_')).length < 3; ) {
      if (Date.now() > end) throw new Error('the exports never reached the emulator');
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500)); // their operations are journaled
    child.kill('SIGINT');
    const code = await ended;
    expect(code).toBe(130);
    const all = stdout + stderr;
    expect(all).not.toMatch(/aborted/i);
    const live = emu.state().operations.filter((o) => o.description?.startsWith('ctrl-c_') && (o.state === 'PENDING' || o.state === 'RUNNING'));
    expect(live.length).toBe(3);
    expect(all).toMatch(/stopped by Ctrl-C/);
    expect(all).toMatch(/3 tasks? still in Earth Engine \((\d+ running, \d+ queued)\)/);
    expect(all).toContain(`tessera run ${job.file}`);
    const log = readFileSync(join(job.stateDir, 'log'), 'utf8');
    expect(log).toMatch(/session start: .*pid \d+/);
    expect(log).toMatch(/session end: stopped by Ctrl-C/);
    // Resuming finishes the job without a second export of any tile.
    emu.configure({ timeScale: 1000 });
    const again = await runJob(job.file, emu.url);
    expect(again.code).toBe(0);
    expect(emu.state().operations.filter((o) => o.description?.startsWith('ctrl-c_'))).toHaveLength(3);
    expect(readFileSync(join(job.stateDir, 'log'), 'utf8').match(/session start/g)).toHaveLength(2);
  }, 120_000);
});
