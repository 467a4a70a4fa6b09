/**
 * Persistence with `dataDir`, through the unmodified clients: a stop and a restart, and a crash (the
 * emulator's process killed with SIGKILL right after its answers), lose no operation, file (compared by
 * MD5), token, quota figure or simulated time, and queued tasks continue and finish. All phases use one
 * port, so the clients keep their base URL across restarts as they would against Google.
 */
import type { drive_v3 } from '@googleapis/drive';
import type { OAuth2Client } from 'google-auth-library';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle, type EmulatorState } from '../../main/emulator';
import { CLIENT_ID, driveClient, eeCall, initEe, loadEe, plain, signIn, startTask, waitFor, type Ee } from './google-clients';

const PROJECT = 'persist-project';
/** 60 simulated seconds per task at 100× → 0.6 s real, one at a time. */
const OPTIONS = { timeScale: 100, taskBaseSeconds: 60, pixelsPerSecond: 1e6, dispatchSeconds: 1, slots: 1 };
const CHILD = path.join(__dirname, 'emulator-child.ts');

let port: number;
let ee: Ee;
const dirs: string[] = [];
const running: EmulatorHandle[] = [];
let child: ChildProcess | null = null;

interface OpJson { name: string; done?: boolean; metadata: { state: string } }

function dataDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'tessera-emu-persist-'));
  dirs.push(d);
  return d;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const p = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return p;
}

async function start(dir: string, options: Record<string, unknown> = OPTIONS): Promise<EmulatorHandle> {
  const emu = await startEmulator({ ...options, dataDir: dir, port });
  running.push(emu);
  return emu;
}

async function stop(emu: EmulatorHandle): Promise<void> {
  await emu.stop();
  running.splice(running.indexOf(emu), 1);
}

/** The emulator in its own process (emulator-child.ts), to be killed. */
async function startChild(dir: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify({ ...OPTIONS, dataDir: dir, port })], { stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the child emulator did not start: ${err}`)), 20_000);
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/listening on /.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the child emulator exited with ${code}: ${err}`));
    });
  });
  return proc;
}

function tileTask(i: number, requestId = randomUUID()): Ee {
  const task = ee.batch.Export.image.toDrive({
    image: ee.Image(1).toFloat().addBands(ee.Image(2).toInt16().rename('b2')),
    description: `persist_x${i}_y0_a1`, folder: 'persist', fileNamePrefix: `persist_x${i}_y0`,
    crs: 'EPSG:32632', crsTransform: [10, 0, 600000 + i * 320, 0, -10, 5400000], dimensions: '32x32',
  });
  (task as unknown as { id: string }).id = requestId;
  return task;
}

async function ops(names: string[]): Promise<OpJson[]> {
  const res = await eeCall<Record<string, unknown>>((cb) => ee.data.getOperation(names, cb));
  return names.map((n) => plain<OpJson>(ee, res[n]));
}

async function md5Of(drive: drive_v3.Drive, fileId: string): Promise<string> {
  const res = await drive.files.get({ fileId, alt: 'media' }, { responseType: 'stream' });
  const h = createHash('md5');
  for await (const c of res.data as unknown as Readable) h.update(c as Buffer);
  return h.digest('hex');
}

async function allSucceed(names: string[]): Promise<void> {
  await waitFor('every task done', async () => ((await ops(names)).every((o) => o.metadata.state === 'SUCCEEDED') ? true : undefined), 30_000, 100);
}

/** Sign-in (PKCE) with the unmodified libraries; the EE client gets the token through setAuthToken. */
async function signInBoth(url: string): Promise<{ client: OAuth2Client; drive: drive_v3.Drive }> {
  const { client, tokens } = await signIn(url);
  if (!ee) {
    ee = loadEe();
      await initEe(ee, url, tokens, PROJECT);
  } else {
    ee.data.setAuthToken(CLIENT_ID, 'Bearer', tokens.access_token, 3600, [], undefined, false);
  }
  return { client, drive: driveClient(url, client) };
}

beforeAll(async () => {
  port = await freePort();
});

afterAll(async () => {
  child?.kill('SIGKILL');
  for (const emu of running) await emu.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('persistence with dataDir', () => {
  it('loses nothing over a stop and a restart: operations, files (MD5), tokens, quota, clock; queued tasks continue', async () => {
    const dir = dataDir();
    const emu = await start(dir);
    const { drive } = await signInBoth(emu.url);
    const names: string[] = [];
    for (let i = 0; i < 5; i++) names.push(`projects/${PROJECT}/operations/${await startTask(tileTask(i))}`);
    await waitFor('two tasks done', () => (emu.state().operations.filter((o) => o.state === 'SUCCEEDED').length >= 2 ? true : undefined), 20_000, 50);
    const done = emu.state().files.filter((f) => f.name.endsWith('.tif'));
    // Drive activity: a delete, a trash, a folder; a run-time configuration change.
    await drive.files.delete({ fileId: done[0]?.id as string });
    await drive.files.update({ fileId: done[1]?.id as string, requestBody: { trashed: true } });
    await drive.files.create({ requestBody: { name: 'kept-folder', mimeType: 'application/vnd.google-apps.folder' } });
    emu.configure({ driveQuotaBytes: 50_000_000 });
    await emu.sync();

    await stop(emu);
    const before = emu.state();
    expect(before.operations.map((o) => o.state)).toContain('PENDING');
    expect(before.files.some((f) => f.deletedAt !== null)).toBe(true);

    // The restart names only some options: the rest, and the run-time change, come back from dataDir.
    const again = await start(dir, { timeScale: 100 });
    const after = again.state();
    expect(after.operations).toEqual(before.operations);
    expect(after.files).toEqual(before.files);
    expect(after.quota).toEqual({ limit: 50_000_000, usage: before.quota.usage, usageInDriveTrash: before.quota.usageInDriveTrash });
    expect(after.requests).toEqual(before.requests);
    expect(after.clock.simulated).toBe(before.clock.simulated);
    const config = (await (await fetch(`${again.url}/__emulator/config`)).json()) as Record<string, unknown>;
    expect(config).toMatchObject({ slots: 1, taskBaseSeconds: 60, driveQuotaBytes: 50_000_000, dataDir: dir });

    // The same clients carry on: their token survived; every live file has its bytes (MD5 as reported).
    for (const f of after.files.filter((x) => x.deletedAt === null && x.md5Checksum)) expect(await md5Of(drive, f.id)).toBe(f.md5Checksum);
    await expect(drive.files.get({ fileId: done[0]?.id as string })).rejects.toMatchObject({ status: 404 });
    expect((await drive.files.get({ fileId: done[1]?.id as string, fields: 'trashed' })).data.trashed).toBe(true);

    await allSucceed(names);
    const finished = again.state();
    for (const op of finished.operations) {
      expect(op.history.map((h) => h.state)).toEqual(['PENDING', 'RUNNING', 'SUCCEEDED']);
      // Simulated time did not jump over the restart: every run lasted exactly its run time.
      expect(Date.parse(op.endTime as string) - Date.parse(op.startTime as string)).toBe(60_000 + 1);
    }
    // One after the other (one slot), across the restart.
    const sorted = [...finished.operations].sort((a, b) => Date.parse(a.startTime as string) - Date.parse(b.startTime as string));
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]?.startTime).toBe(sorted[i - 1]?.endTime);
    await stop(again);
  });

  it('loses nothing it answered when its process is killed (SIGKILL), and continues the id sequence', async () => {
    const dir = dataDir();
    let proc = await startChild(dir);
    const url = `http://127.0.0.1:${port}`;
    const { drive } = await signInBoth(url);
    const names: string[] = [];
    for (let i = 0; i < 3; i++) names.push(`projects/${PROJECT}/operations/${await startTask(tileTask(10 + i))}`);
    await waitFor('the first task done', async () => ((await ops(names.slice(0, 1)))[0]?.metadata.state === 'SUCCEEDED' ? true : undefined), 20_000, 50);
    const listed = (await drive.files.list({ q: "name contains 'persist_x10_y0'", fields: 'files(id,name,md5Checksum)' })).data.files ?? [];
    expect(listed).toHaveLength(1);
    const folder = await drive.files.create({ requestBody: { name: 'made-before-the-crash', mimeType: 'application/vnd.google-apps.folder' }, fields: 'id' });
    // The last answers before the crash: a delete (204) and an export (its operation).
    const extra = `projects/${PROJECT}/operations/${await startTask(tileTask(13))}`;
    await drive.files.delete({ fileId: listed[0]?.id as string });
    proc.kill('SIGKILL');
    await new Promise((r) => proc.on('exit', r));
    child = null;

    const emu = await start(dir);
    const s: EmulatorState = emu.state();
    expect(s.operations.map((o) => o.name)).toEqual([...names, extra]);
    expect(s.operations[0]?.state).toBe('SUCCEEDED');
    expect(s.files.find((f) => f.id === listed[0]?.id)?.deletedAt).toEqual(expect.any(String));
    expect((await drive.files.get({ fileId: folder.data.id as string, fields: 'name' })).data.name).toBe('made-before-the-crash');
    await allSucceed([...names, extra]);

    // Ids continue their sequence: new operations and files never reuse one.
    const later = `projects/${PROJECT}/operations/${await startTask(tileTask(14))}`;
    expect([...names, extra]).not.toContain(later);
    await allSucceed([later]);
    const files = emu.state().files;
    expect(new Set(files.map((f) => f.id)).size).toBe(files.length);
    for (const f of files.filter((x) => x.deletedAt === null && x.md5Checksum)) expect(await md5Of(drive, f.id)).toBe(f.md5Checksum);
    proc = undefined as unknown as ChildProcess;
    await stop(emu);
  });
});
