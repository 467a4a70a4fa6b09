/**
 * Tessera touches only what it made (docs/ownership.md): same-named files in Drive, a second run of the
 * same job, local files the journal did not write, one driver per job (the lease), operations another
 * run started (--adopt). Each test runs `tessera run` as a user would, against the emulator.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { drive as driveApi, type drive_v3 } from '@googleapis/drive';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle, type EmulatorState } from '../../main/emulator';
import { emulatorSession } from '../../main/core/google/session';
import { BIN, tessera, tesseraAsync } from '../helpers/cli';
import { checkFinishedJob, md5File, type RunResult } from '../helpers/emulator';
import { rectangleJob, type TestJob } from '../helpers/job';

let emu: EmulatorHandle;
let drive: drive_v3.Drive;

beforeAll(async () => {
  emu = await startEmulator({ timeScale: 1000, taskBaseSeconds: 20, slots: 4 });
  const session = await emulatorSession(emu.url);
  drive = driveApi({ version: 'v3', auth: session.client, rootUrl: `${emu.url}/` });
});
afterAll(async () => {
  await emu?.stop();
});

/** `tessera run JOB --emulator URL [args]` in its own process, bounded in time. */
const run = (job: TestJob, args: string[] = [], timeoutMs = 120_000): Promise<RunResult> => tesseraAsync(['run', job.file, '--emulator', emu.url, ...args], { cwd: process.cwd(), timeoutMs });

async function folderId(name: string): Promise<string> {
  const found = emu.state().files.find((f) => f.name === name && f.mimeType === 'application/vnd.google-apps.folder' && f.deletedAt === null);
  if (found) return found.id;
  const r = await drive.files.create({ requestBody: { name, mimeType: 'application/vnd.google-apps.folder' }, fields: 'id' });
  return r.data.id!;
}

async function upload(parent: string, name: string, bytes: Buffer | string): Promise<string> {
  const r = await drive.files.create(
    { requestBody: { name, parents: [parent] }, media: { mimeType: 'application/octet-stream', body: Readable.from([Buffer.from(bytes)]) }, fields: 'id' },
    { rootUrl: `${emu.url}/` },
  );
  return r.data.id!;
}

async function state(): Promise<EmulatorState> {
  await emu.sync();
  return emu.state();
}

const ops = (s: EmulatorState, job: string) => s.operations.filter((o) => o.description?.startsWith(`${job}_`));
const status = (job: TestJob) => JSON.parse(tessera(['status', job.file, '--json']).stdout) as { tiles: Record<string, number>; waiting: string | null; foreignFiles: number; failed: { id: string; error: string }[] };

describe('foreign files in Drive', () => {
  it("a user's file with a tile's exact output name is neither downloaded over the output nor deleted", async () => {
    const job = rectangleJob('mine', 2, 1);
    const folder = await folderId('tessera-mine');
    const userFile = await upload(folder, 'mine_x3125_y2344.tif', 'the user’s own notes, not a GeoTIFF');
    const r = await run(job);
    expect(r.code, r.stderr).toBe(0);
    const s = await state();
    // The user's file is untouched in Drive.
    const theirs = s.files.find((f) => f.id === userFile)!;
    expect(theirs.deletedAt).toBeNull();
    expect(theirs.trashed).toBe(false);
    // Locally: Earth Engine's output, not the user's bytes.
    checkFinishedJob(s, 'mine', job.output, 2);
    const output = s.files.find((f) => f.name === 'mine_x3125_y2344.tif' && f.id !== userFile)!;
    expect(md5File(join(job.output, 'mine_x3125_y2344.tif'))).toBe(output.md5Checksum);
    // Warned about once, and counted.
    expect(r.stdout.match(/mine_x3125_y2344\.tif in Drive .* is not this run's output/g)).toHaveLength(1);
    expect(status(job).foreignFiles).toBe(1);
  });

  it('a job run twice in the same Drive folder under the same name (the second from a fresh folder) loses nothing', async () => {
    const first = rectangleJob('twice', 3, 2, { cleanup: 'keep' });
    const r1 = await run(first);
    expect(r1.code, r1.stderr).toBe(0);
    const s1 = await state();
    const firstFiles = s1.files.filter((f) => ops(s1, 'twice').some((o) => o.outputs.includes(f.id)));
    expect(firstFiles).toHaveLength(6);
    const firstLocal = Object.fromEntries(readdirSync(first.output).filter((n) => n.endsWith('.tif')).map((n) => [n, md5File(join(first.output, n))]));

    const second = rectangleJob('twice', 3, 2); // same name and Drive folder, fresh local folder, cleanup delete
    const r2 = await run(second);
    expect(r2.code, r2.stderr).toBe(0);
    const s2 = await state();
    // The first run's outputs in Drive are all still there, untouched.
    for (const f of firstFiles) {
      const now = s2.files.find((x) => x.id === f.id)!;
      expect(now.deletedAt, f.name).toBeNull();
      expect(now.trashed, f.name).toBe(false);
    }
    // The first run's local outputs are intact.
    for (const [n, md5] of Object.entries(firstLocal)) expect(md5File(join(first.output, n))).toBe(md5);
    // The second run's outputs are its own operations' files (and those were cleaned up).
    const secondOps = ops(s2, 'twice').filter((o) => !ops(s1, 'twice').some((p) => p.name === o.name));
    expect(secondOps).toHaveLength(6);
    for (const o of secondOps) {
      const f = s2.files.find((x) => x.id === o.outputs[0])!;
      expect(md5File(join(second.output, f.name))).toBe(f.md5Checksum);
      expect(f.deletedAt).not.toBeNull();
    }
    expect(status(second).foreignFiles).toBe(6);
  });
});

describe('local files the journal did not write', () => {
  it('stops before sending anything when the output folder already holds output-named files; --overwrite accepts them', async () => {
    const job = rectangleJob('localfiles', 2, 1);
    mkdirSync(job.output, { recursive: true });
    writeFileSync(join(job.output, 'localfiles_x3126_y2344.tif'), 'an earlier download');
    writeFileSync(join(job.output, 'localfiles_x3125_y2344.tif'), 'another');
    writeFileSync(join(job.output, 'notes.txt'), 'not an output name');
    const r = await run(job);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/2 files with this job's output names .*first: localfiles_x3125_y2344\.tif.*--overwrite/);
    const refused = await state();
    expect(ops(refused, 'localfiles')).toHaveLength(0);
    // Nothing was written in Drive either: not even the lease.
    expect(refused.files.some((f) => f.name === '.tessera-lease-localfiles.json')).toBe(false);
    expect(readFileSync(join(job.output, 'localfiles_x3126_y2344.tif'), 'utf8')).toBe('an earlier download');

    const again = await run(job, ['--overwrite']);
    expect(again.code, again.stderr).toBe(0);
    checkFinishedJob(await state(), 'localfiles', job.output, 2);
    expect(readFileSync(join(job.output, 'notes.txt'), 'utf8')).toBe('not an output name');
  });
});

describe('one driver per job: the lease in Drive', () => {
  it("a live lease of another machine stops the run (exit 3, locked, naming the host) before anything is sent", async () => {
    const job = rectangleJob('leased', 2, 1);
    const folder = await folderId('tessera-leased');
    const now = new Date().toISOString();
    const lease = await upload(folder, '.tessera-lease-leased.json', JSON.stringify({ job: 'leased', host: 'workstation-7', pid: 4242, runId: 'r1', startedAt: now, heartbeatAt: now }));
    const r = await run(job);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/workstation-7/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(ops(await state(), 'leased')).toHaveLength(0);
    expect(status(job).waiting).toBe('locked');
    // The other machine's lease is left alone.
    expect((await state()).files.find((f) => f.id === lease)!.deletedAt).toBeNull();
  });

  it('the same job started from a second folder (another machine) while the first runs: the second stops, the first finishes', async () => {
    const first = rectangleJob('twodrivers', 2, 1);
    const second = rectangleJob('twodrivers', 2, 1); // same name and Drive folder, its own journal
    emu.configure({ slots: 0 }); // the first run's tasks wait in EE
    const running = run(first);
    try {
      for (let k = 0; k < 600 && !(await state()).files.some((f) => f.name === '.tessera-lease-twodrivers.json' && f.deletedAt === null); k++) await new Promise((r) => setTimeout(r, 50));
      const r = await run(second);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/the job is being run by .* \(pid \d+/);
      expect(status(second).waiting).toBe('locked');
    } finally {
      emu.configure({ slots: 4 });
    }
    const r1 = await running;
    expect(r1.code, r1.stderr).toBe(0);
    checkFinishedJob(await state(), 'twodrivers', first.output, 2); // one export per tile: the second sent none
  });

  it('takes a stale lease over with a warning, holds its own while running and deletes it at the end', async () => {
    const job = rectangleJob('stale', 2, 1);
    const folder = await folderId('tessera-stale');
    const old = new Date(Date.now() - 20 * 60_000).toISOString();
    const lease = await upload(folder, '.tessera-lease-stale.json', JSON.stringify({ job: 'stale', host: 'laptop-3', pid: 77, runId: 'r0', startedAt: old, heartbeatAt: old }));
    const r = await run(job);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/took over the job's stale lease from laptop-3/);
    const s = await state();
    expect(s.files.find((f) => f.id === lease)!.deletedAt).not.toBeNull();
    const leases = s.files.filter((f) => f.name === '.tessera-lease-stale.json');
    expect(leases).toHaveLength(2); // the stale one and this run's
    expect(leases.every((f) => f.deletedAt !== null && f.parents[0] === folder)).toBe(true);
    checkFinishedJob(s, 'stale', job.output, 2);
  });
});

describe('operations another run started', () => {
  it('stops for running foreign operations (exit 3, naming their count); --adopt takes them over without a second export', async () => {
    const job = rectangleJob('orphans', 3, 1, { maxInFlight: 6 });
    // A first run sends its three exports while Earth Engine runs nothing, then dies with its journal.
    emu.configure({ slots: 0 });
    const dying = spawn(process.execPath, [BIN, 'run', job.file, '--emulator', emu.url], { stdio: 'ignore' });
    try {
      for (let k = 0; k < 600 && ops(await state(), 'orphans').length < 3; k++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      dying.kill('SIGKILL');
    }
    await new Promise((r) => dying.once('close', r));
    expect(ops(await state(), 'orphans')).toHaveLength(3);
    rmSync(join(job.dir, '.tessera'), { recursive: true, force: true }); // the journal is lost

    const stopped = await run(job);
    expect(stopped.code).toBe(3);
    expect(stopped.stderr).toMatch(/3 Earth Engine operations of this job .* --adopt/);
    expect(ops(await state(), 'orphans')).toHaveLength(3);
    expect(status(job).waiting).toBe('locked');

    emu.configure({ slots: 4 });
    const adopted = await run(job, ['--adopt']);
    expect(adopted.code, adopted.stderr).toBe(0);
    expect(adopted.stdout).toMatch(/took over projects\/.*orphans_x3125_y2344_a1/);
    checkFinishedJob(await state(), 'orphans', job.output, 3); // one export per tile: none sent twice
  });

  it('--adopt after a lost journal takes local outputs as done when their grid is the tile’s, and fails a tile whose file is another grid', async () => {
    const job = rectangleJob('lostjournal', 3, 1);
    const r1 = await run(job);
    expect(r1.code, r1.stderr).toBe(0);
    rmSync(join(job.dir, '.tessera'), { recursive: true, force: true });
    // One local file is replaced by its neighbour's: same size, another place on the map.
    copyFileSync(join(job.output, 'lostjournal_x3126_y2344.tif'), join(job.output, 'lostjournal_x3127_y2344.tif'));
    const before = ops(await state(), 'lostjournal').length;

    const refused = await run(job);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/3 files with this job's output names .*first: lostjournal_x3125_y2344\.tif/);

    const adopted = await run(job, ['--adopt']);
    expect(adopted.code).toBe(2);
    expect(ops(await state(), 'lostjournal')).toHaveLength(before); // nothing exported again
    const st = status(job);
    expect(st.tiles.done).toBe(2);
    expect(st.failed.map((f) => f.id)).toEqual(['x3127_y2344']);
    // The message names both grids: the file's and the tile's.
    expect(st.failed[0]!.error).toMatch(/lostjournal_x3127_y2344\.tif: not inside the tile: the file's grid is 128×128 px from \(4001280, 3001600\).*the tile's is 128×128 px from \(4002560, 3001600\)/);
  });
});
