/**
 * The happy path of issue 3 with Google's unmodified clients: PKCE sign-in, EE initialisation, exports
 * with crs/crsTransform/dimensions, PENDING → RUNNING → SUCCEEDED with two slots, the files in Drive
 * (listed, downloaded with Range, MD5-checked, read by GDAL), deletion and the quota; then the failure
 * and limit cases.
 */
import type { drive_v3 } from '@googleapis/drive';
import type { OAuth2Client } from 'google-auth-library';
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { driveClient, eeCall, initEe, loadEe, plain, signIn, startTask, waitFor, type Ee } from './google-clients';

const PROJECT = 'tessera-test-project';
const FOLDER = 'tessera-flow';
/** 60 simulated seconds per task at 40× → 1.5 s real; 10 s dispatch → 0.25 s. */
const TIME_SCALE = 40;

interface OpJson {
  name: string;
  done?: boolean;
  error?: { code: number; message: string };
  metadata: { state: string; description?: string; type: string; destinationUris?: string[]; createTime: string; startTime?: string; endTime?: string; attempt: number; progress?: number; priority: number };
}

let emu: EmulatorHandle;
let ee: Ee;
let auth: OAuth2Client;
let drive: drive_v3.Drive;
const scratch = mkdtempSync(path.join(tmpdir(), 'tessera-emu-test-'));

/** A tile as the engine exports it (docs/grid.md#export-parameters). */
function tileExport(id: string, opts: { i?: number; pixels?: number; requestId?: string; priority?: number } = {}): Ee {
  const n = opts.pixels ?? 64;
  const x0 = 600000 + (opts.i ?? 0) * n * 10;
  const image = ee.Image(1).toFloat().addBands(ee.Image(2).toInt16().rename('b2'));
  const task = ee.batch.Export.image.toDrive({
    image,
    description: `job_${id}_a1`,
    folder: FOLDER,
    fileNamePrefix: `job_${id}`,
    crs: 'EPSG:32632',
    crsTransform: [10, 0, x0, 0, -10, 5400000],
    dimensions: `${n}x${n}`,
    ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
  });
  if (opts.requestId) (task as unknown as { id: string }).id = opts.requestId;
  return task;
}

async function getOps(names: string[]): Promise<Record<string, OpJson>> {
  const res = await eeCall<Record<string, unknown>>((cb) => ee.data.getOperation(names, cb));
  const out: Record<string, OpJson> = {};
  for (const [k, v] of Object.entries(res)) out[k] = plain<OpJson>(ee, v);
  return out;
}

async function getOp(name: string): Promise<OpJson> {
  return plain<OpJson>(ee, await eeCall((cb) => ee.data.getOperation(name, cb)));
}

async function download(fileId: string, range?: string): Promise<{ status: number; header: (name: string) => string | null; body: Buffer }> {
  const res = await drive.files.get({ fileId, alt: 'media' }, { responseType: 'stream', headers: range ? { Range: range } : {} });
  const chunks: Buffer[] = [];
  for await (const c of res.data as unknown as Readable) chunks.push(c as Buffer);
  const headers = res.headers as unknown as Headers;
  return { status: res.status, header: (name) => headers.get(name), body: Buffer.concat(chunks) };
}

beforeAll(async () => {
  emu = await startEmulator({ timeScale: TIME_SCALE, taskBaseSeconds: 60, pixelsPerSecond: 1e6, slots: 2, project: PROJECT });
  const signed = await signIn(emu.url);
  auth = signed.client;
  ee = loadEe();
  await initEe(ee, emu.url, signed.tokens, PROJECT);
  drive = driveClient(emu.url, auth);
});

afterAll(async () => {
  await emu?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('exports through @google/earthengine, outputs through @googleapis/drive', () => {
  let names: string[] = [];
  const seen = new Map<string, Set<string>>();

  it('runs two tasks at a time: PENDING → RUNNING → SUCCEEDED, the third waits for a slot', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await startTask(tileExport(`x${i}_y0`, { i })));
    names = ids.map((id) => `projects/${PROJECT}/operations/${id}`);
    for (const n of names) seen.set(n, new Set());
    let thirdWaitedWhileTwoRan = false;
    await waitFor('three tasks done', async () => {
      const ops = await getOps(names); // one POST /batch per poll
      const states = names.map((n) => ops[n]?.metadata.state as string);
      names.forEach((n, i) => seen.get(n)?.add(states[i] as string));
      expect(states.filter((s) => s === 'RUNNING').length).toBeLessThanOrEqual(2);
      if (states[0] === 'RUNNING' && states[1] === 'RUNNING' && states[2] === 'PENDING') thirdWaitedWhileTwoRan = true;
      return states.every((s) => s === 'SUCCEEDED') ? ops : undefined;
    }, 30_000, 150);
    expect(thirdWaitedWhileTwoRan).toBe(true);
    for (const n of names) expect([...(seen.get(n) ?? [])]).toContain('RUNNING');

    // The emulator's history: exact simulated instants, never more than two running, third starts when the first ends.
    const state = emu.state();
    const ops = names.map((n) => state.operations.find((o) => o.name === n));
    for (const op of ops) expect(op?.history.map((h) => h.state)).toEqual(['PENDING', 'RUNNING', 'SUCCEEDED']);
    const t = (s: string | null | undefined): number => Date.parse(s as string);
    expect(t(ops[2]?.startTime)).toBe(Math.min(t(ops[0]?.endTime), t(ops[1]?.endTime)));
    expect(t(ops[0]?.endTime) - t(ops[0]?.startTime)).toBe(60_000 + Math.round((64 * 64) / 1e6 * 1000));
    expect(t(ops[0]?.startTime) - t(ops[0]?.createTime)).toBe(10_000);
  });

  it("gives operations Google's shape", async () => {
    const op = await getOp(names[0] as string);
    expect(op.name).toMatch(new RegExp(`^projects/${PROJECT}/operations/[A-Z0-9]{24}$`));
    expect(op.done).toBe(true);
    expect(op.error).toBeUndefined();
    expect(op.metadata).toMatchObject({ state: 'SUCCEEDED', description: 'job_x0_y0_a1', type: 'EXPORT_IMAGE', priority: 100, attempt: 1, progress: 1 });
    expect(op.metadata.destinationUris?.[0]).toMatch(/^https:\/\/drive\.google\.com\/#folders\/[\w-]+$/);
    for (const k of ['createTime', 'startTime', 'endTime'] as const) expect(op.metadata[k]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    // The legacy view the client derives from it.
    const [status] = await eeCall<Record<string, unknown>[]>((cb) => ee.data.getTaskStatus(names[0], cb));
    expect(status).toMatchObject({ state: 'COMPLETED', task_type: 'EXPORT_IMAGE', description: 'job_x0_y0_a1' });
  });

  it('puts the outputs in the one folder EE created, lists, downloads with Range, matches MD5, and GDAL reads the request', async () => {
    const op = await getOp(names[0] as string);
    const folderId = (op.metadata.destinationUris?.[0] as string).split('/').pop() as string;
    const folders = await drive.files.list({ q: `name = '${FOLDER}' and mimeType = 'application/vnd.google-apps.folder' and trashed = false`, fields: 'files(id,name,parents)' });
    expect(folders.data.files?.map((f) => f.id)).toEqual([folderId]);

    const listed = await drive.files.list({ q: `'${folderId}' in parents and trashed = false`, fields: 'nextPageToken,files(id,name,size,md5Checksum,mimeType)', orderBy: 'name' });
    expect(listed.data.files?.map((f) => f.name)).toEqual(['job_x0_y0.tif', 'job_x1_y0.tif', 'job_x2_y0.tif']);
    expect(listed.data.nextPageToken).toBeUndefined();
    const file = listed.data.files?.[0] as drive_v3.Schema$File;
    expect(file.mimeType).toBe('image/tiff');
    expect(typeof file.size).toBe('string');
    const size = Number(file.size);

    // Two ranged reads, then the whole file.
    const head = await download(file.id as string, 'bytes=0-99');
    expect(head.status).toBe(206);
    expect(head.header('content-range')).toBe(`bytes 0-99/${size}`);
    expect(head.body.length).toBe(100);
    const tail = await download(file.id as string, 'bytes=100-');
    expect(tail.status).toBe(206);
    expect(tail.body.length).toBe(size - 100);
    const whole = Buffer.concat([head.body, tail.body]);
    expect(createHash('md5').update(whole).digest('hex')).toBe(file.md5Checksum);
    const full = await download(file.id as string);
    expect(full.status).toBe(200);
    expect(full.body.equals(whole)).toBe(true);
    // A range past the end is a 416.
    await expect(download(file.id as string, `bytes=${size}-`)).rejects.toMatchObject({ status: 416 });

    const tif = path.join(scratch, 'tile.tif');
    writeFileSync(tif, whole);
    const info = JSON.parse(execFileSync('gdalinfo', ['-json', tif], { encoding: 'utf8' })) as {
      size: number[]; geoTransform: number[]; bands: { type: string }[]; coordinateSystem: { wkt: string };
    };
    expect(info.size).toEqual([64, 64]);
    expect(info.geoTransform).toEqual([600000, 10, 0, 5400000, 0, -10]);
    expect(info.bands.map((b) => b.type)).toEqual(['Float32', 'Float32']);
    expect(info.coordinateSystem.wkt).toMatch(/UTM zone 32N/);
    expect(info.coordinateSystem.wkt).toMatch(/ID\["EPSG",32632\]\]$/);
  });

  it('deletes permanently: the quota drops, a second delete is 404', async () => {
    const before = (await drive.about.get({ fields: 'storageQuota' })).data.storageQuota as drive_v3.Schema$About['storageQuota'];
    expect(before?.limit).toBeUndefined();
    const files = emu.state().files.filter((f) => f.name.startsWith('job_x') && f.deletedAt === null);
    const victim = files[0] as (typeof files)[number];
    expect(Number(before?.usage)).toBe(files.reduce((n, f) => n + (f.size ?? 0), 0));
    const del = await drive.files.delete({ fileId: victim.id });
    expect(del.status).toBe(204);
    const after = (await drive.about.get({ fields: 'storageQuota' })).data.storageQuota;
    expect(Number(after?.usage)).toBe(Number(before?.usage) - (victim.size as number));
    await expect(drive.files.delete({ fileId: victim.id })).rejects.toMatchObject({ status: 404 });
    await expect(drive.files.get({ fileId: victim.id })).rejects.toMatchObject({ status: 404 });
    expect(emu.state().files.find((f) => f.id === victim.id)?.deletedAt).toEqual(expect.any(String));
  });

  it('counts batch parts under their own route', async () => {
    const before = emu.state().requests;
    await getOps(names);
    const after = emu.state().requests;
    const op = 'GET /v1/projects/{project}/operations/{operation}';
    expect((after['POST /batch'] ?? 0) - (before['POST /batch'] ?? 0)).toBe(1);
    expect((after[op] ?? 0) - (before[op] ?? 0)).toBe(3);
  });
});

describe('failures and limits', () => {
  it('fails a tile above timeoutPixels with "Computation timed out." after its full run time', async () => {
    emu.configure({ timeoutPixels: 5000 });
    try {
      const id = await startTask(tileExport('x9_y9', { pixels: 100 }));
      const name = `projects/${PROJECT}/operations/${id}`;
      const op = await waitFor('the timed-out task', async () => {
        const o = await getOp(name);
        return o.done ? o : undefined;
      });
      expect(op.metadata.state).toBe('FAILED');
      expect(op.error?.message).toBe('Computation timed out.');
      const [status] = await eeCall<Record<string, unknown>[]>((cb) => ee.data.getTaskStatus(name, cb));
      expect(status).toMatchObject({ state: 'FAILED', error_message: 'Computation timed out.' });
      const s = emu.state().operations.find((o) => o.name === name);
      expect(Date.parse(s?.endTime as string) - Date.parse(s?.startTime as string)).toBe(60_000 + 10);
      expect(emu.state().files.some((f) => f.name === 'job_x9_y9.tif')).toBe(false);
    } finally {
      emu.configure({ timeoutPixels: null });
    }
  });

  it('answers the same requestId with the same operation, never a second task', async () => {
    const requestId = randomUUID();
    const a = await startTask(tileExport('x5_y5', { requestId }));
    const b = await startTask(tileExport('x5_y5', { requestId }));
    expect(b).toBe(a);
    expect(emu.state().operations.filter((o) => o.requestId === requestId)).toHaveLength(1);
  });

  it('refuses exports beyond queueLimit with Google\'s message, and accepts them again once there is room', async () => {
    // Earlier tests' tasks must have left the queue, or they count against the limit of 1.
    await waitFor('no task pending', async () => {
      await emu.sync();
      return emu.state().operations.every((o) => o.state !== 'PENDING') ? true : undefined;
    });
    emu.configure({ slots: 0, queueLimit: 1 });
    try {
      await startTask(tileExport('x7_y0'));
      const token = (auth.credentials.access_token as string);
      // Raw POST of what the client sends, to see the answer itself (the client would retry a 429).
      const body = ee.apiclient.serialize(ee.data.prepareExportImageRequest_({ ...(tileExport('x7_y1') as unknown as { config_: object }).config_, id: randomUUID() }, {}));
      const res = await fetch(`${emu.url}/v1/projects/${PROJECT}/image:export`, {
        method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
      expect(res.status).toBe(429);
      expect(((await res.json()) as { error: { message: string; status: string } }).error).toMatchObject({
        message: 'Too many tasks already in the queue (1). Please wait for some of them to complete.',
        status: 'RESOURCE_EXHAUSTED',
      });
      // Through the client: the 429 is retried after ~2 s; free the queue meanwhile and the retry succeeds.
      const started = startTask(tileExport('x7_y2'));
      setTimeout(() => emu.configure({ queueLimit: 5 }), 500);
      await expect(started).resolves.toMatch(/^[A-Z0-9]{24}$/);
    } finally {
      emu.configure({ slots: 2, queueLimit: 3000 });
    }
  });

  it('fails an export over maxPixels with Google\'s message', async () => {
    const task = ee.batch.Export.image.toDrive({
      image: ee.Image(1), description: 'too_big', folder: FOLDER, crs: 'EPSG:32632', crsTransform: [10, 0, 0, 0, -10, 0], dimensions: '2000x1000', maxPixels: 1e6,
    });
    const name = `projects/${PROJECT}/operations/${await startTask(task)}`;
    const op = await waitFor('the too-large task', async () => {
      const o = await getOp(name);
      return o.done ? o : undefined;
    });
    expect(op.error?.message).toBe('Export too large: specified 2000000 pixels (max: 1000000). Specify higher maxPixels value if you intend to export a large area.');
  });

  it('cancels a pending and a running task (batch cancel), both end CANCELLED with done and error', async () => {
    emu.configure({ slots: 1 });
    try {
      const a = `projects/${PROJECT}/operations/${await startTask(tileExport('x8_y0'))}`;
      const b = `projects/${PROJECT}/operations/${await startTask(tileExport('x8_y1'))}`;
      await waitFor('a running', async () => ((await getOp(a)).metadata.state === 'RUNNING' ? true : undefined));
      await eeCall((cb) => ee.data.cancelOperation([a, b], cb));
      const ops = await waitFor('both cancelled', async () => {
        const o = await getOps([a, b]);
        return Object.values(o).every((x) => x.metadata.state === 'CANCELLED') ? o : undefined;
      });
      for (const o of Object.values(ops)) expect(o).toMatchObject({ done: true, error: { code: 1 } });
      expect(emu.state().operations.find((o) => o.name === a)?.history.map((h) => h.state)).toEqual(['PENDING', 'RUNNING', 'CANCELLING', 'CANCELLED']);
    } finally {
      emu.configure({ slots: 2 });
    }
  });

  it('fails a task the evaluator cannot follow with its "not emulated" message', async () => {
    const task = ee.batch.Export.image.toDrive({
      image: ee.Image(1), description: 'tfrecord', folder: FOLDER, fileFormat: 'TFRecord', crs: 'EPSG:32632', crsTransform: [10, 0, 0, 0, -10, 0], dimensions: '8x8',
    });
    const name = `projects/${PROJECT}/operations/${await startTask(task)}`;
    const op = await waitFor('the not-emulated task', async () => {
      const o = await getOp(name);
      return o.done ? o : undefined;
    });
    expect(op.metadata.state).toBe('FAILED');
    expect(op.error?.message).toMatch(/^not emulated: /);
  });
});
