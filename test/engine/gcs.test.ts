/**
 * A job to a Cloud Storage bucket, signed in as a service account without a browser (docs/cloud-storage.md,
 * docs/service-accounts.md): `tessera login --service-account` then `tessera run` against the emulator with
 * faults on the storage routes; every object is downloaded, verified and deleted, and a same-named object
 * that was there before the run is left untouched.
 */
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { GcsClient } from '../../main/core/gcs/client';
import { serviceAccountClient, parseServiceAccountKey } from '../../main/core/auth/service-account';
import { googleEndpoints } from '../../main/core/google/session';
import { BIN } from '../helpers/cli';
import { runJob } from '../helpers/emulator';
import { rectangleJob } from '../helpers/job';

let emu: EmulatorHandle;
let home: string;
let keyPath: string;
let env: Record<string, string>;

/** The CLI in its own process; asynchronous, because the emulator answers from this very process. */
function cli(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const stop = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(stop);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tessera-gcs-run-'));
  keyPath = join(home, 'downloaded-key.json');
  emu = await startEmulator({ timeScale: 1000, taskBaseSeconds: 20, slots: 4, buckets: 'tiles', serviceAccountKey: keyPath, project: 'sa-project', seed: 7 });
  env = { TESSERA_CREDENTIALS: join(home, 'config', 'credentials.json'), GOOGLE_APPLICATION_CREDENTIALS: '' };
}, 30_000);

afterAll(async () => {
  await emu?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('service-account sign-in', () => {
  it('tessera login --service-account signs in without a browser and keeps the key 0600', async () => {
    const r = await cli(['login', '--service-account', keyPath, '--emulator', emu.url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/service account tessera-runner@sa-project\.iam\.gserviceaccount\.com/);
    const kept = join(home, 'config', 'service-account.json');
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    expect(emu.state().requests['POST /token']).toBeGreaterThanOrEqual(1);
  });

  it('a key the emulator never made is refused with one line and exit 3', async () => {
    const key = JSON.parse(readFileSync(keyPath, 'utf8')) as Record<string, string>;
    const forged = join(home, 'forged.json');
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(forged, JSON.stringify({ ...key, private_key: pem }));
    const r = await cli(['login', '--service-account', forged, '--emulator', emu.url]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/refused the service account/);
  });
});

describe('tessera doctor with a service account', () => {
  type Report = { checks: { id: string; status: string; message: string }[] };
  const check = (r: Report, id: string) => r.checks.find((c) => c.id === id)!;

  it('names the service account, checks the bucket for a bucket job, and steers a Drive job to a bucket', async () => {
    const bucketJob = rectangleJob('docgcs', 1, 1, { drive: undefined, destination: { type: 'gcs', bucket: 'tiles', prefix: 'doc' }, ee: { project: 'sa-project' } });
    const a = JSON.parse((await cli(['doctor', bucketJob.file, '--emulator', emu.url, '--json'])).stdout) as Report;
    expect(check(a, 'credentials').message).toMatch(/the service account tessera-runner@sa-project/);
    expect(check(a, 'drive')).toMatchObject({ status: 'ok', message: expect.stringMatching(/Drive is not used/) });
    expect(check(a, 'folder')).toMatchObject({ status: 'ok', message: expect.stringMatching(/gs:\/\/tiles\/doc\/ answers/) });
    const driveJob = rectangleJob('docdrive', 1, 1, { ee: { project: 'sa-project' } });
    const b = JSON.parse((await cli(['doctor', driveJob.file, '--emulator', emu.url, '--json'])).stdout) as Report;
    expect(check(b, 'drive')).toMatchObject({ status: 'warn', message: expect.stringMatching(/its own small Drive.*"type": "gcs"/) });
    const missing = rectangleJob('docnobucket', 1, 1, { drive: undefined, destination: { type: 'gcs', bucket: 'nope', prefix: 'x' }, ee: { project: 'sa-project' } });
    const c = JSON.parse((await cli(['doctor', missing.file, '--emulator', emu.url, '--json'])).stdout) as Report;
    expect(check(c, 'folder')).toMatchObject({ status: 'fail', message: expect.stringMatching(/bucket nope does not exist/) });
  }, 60_000);
});

describe('a job to a bucket', () => {
  it('with faults on: every object downloaded, verified, deleted; a same-named older object untouched', async () => {
    const job = rectangleJob('gcsjob', 3, 2, { drive: undefined, destination: { type: 'gcs', bucket: 'tiles', prefix: 'runs/gcsjob' }, ee: { project: 'sa-project' } });
    // An object with one of a tile's output names (a split part an earlier run left), there before the run:
    // foreign (older than the task). An export of the same whole name would replace it, as at Google.
    const key = parseServiceAccountKey(readFileSync(keyPath, 'utf8'), keyPath);
    const jwt = serviceAccountClient(key, googleEndpoints(emu.url));
    const gcs = new GcsClient({ accessToken: async () => (await jwt.getAccessToken()).token!, apiEndpoint: emu.url });
    await gcs.writeText('tiles', 'runs/gcsjob/gcsjob_x3125_y2344-0000000000-0000000000.tif', 'not a GeoTIFF: the user\'s own');
    emu.configure({ http5xxRate: 0.1, rateLimitRate: 0.05, resetRate: 0.3, truncateRate: 0.3 });
    let r;
    try {
      r = await runJob(job.file, emu.url, env, 180_000);
    } finally {
      emu.configure({ http5xxRate: 0, rateLimitRate: 0, resetRate: 0, truncateRate: 0 });
    }
    expect(r.code, r.stderr).toBe(0);
    await emu.sync();
    const s = emu.state();
    const foreign = s.objects.filter((o) => o.name === 'runs/gcsjob/gcsjob_x3125_y2344-0000000000-0000000000.tif');
    expect(foreign).toHaveLength(1);
    expect(foreign[0]!.deletedAt).toBeNull();
    expect(readdirSync(job.output)).not.toContain('gcsjob_x3125_y2344-0000000000-0000000000.tif');
    const mine = s.objects.filter((o) => o.bucket === 'tiles' && /^runs\/gcsjob\/gcsjob_x\d+_y\d+\.tif$/.test(o.name));
    expect(mine).toHaveLength(6);
    // Every output was downloaded byte for byte (its MD5 is the object's) before it was deleted.
    for (const o of mine) {
      expect(o.deletedAt, o.name).not.toBeNull();
      const local = readFileSync(join(job.output, o.name.split('/').pop()!));
      expect(createHash('md5').update(local).digest('base64')).toBe(o.md5Hash);
    }
    expect(readdirSync(job.output).filter((f) => f.endsWith('.part'))).toEqual([]);
    // The lease was taken in the prefix and given back.
    const lease = s.objects.filter((o) => o.name === 'runs/gcsjob/.tessera-lease-gcsjob.json');
    expect(lease.length).toBeGreaterThan(0);
    expect(lease.every((o) => o.deletedAt !== null)).toBe(true);
    // One export per tile.
    const ops = s.operations.filter((o) => o.description?.startsWith('gcsjob_'));
    expect(new Set(ops.map((o) => o.description!.replace(/_a\d+$/, ''))).size).toBe(6);
    const status = JSON.parse((await cli(['status', job.file, '--json'])).stdout) as { tiles: Record<string, number>; foreignFiles: number };
    expect(status.tiles.done).toBe(6);
    expect(status.foreignFiles).toBe(1);
  }, 200_000);
});

describe('kill -9 mid-run', () => {
  it('resumes without duplicate exports: killed mid-download, after a rename and after a delete, then finished', async () => {
    const job = rectangleJob('gcskill', 3, 1, { drive: undefined, destination: { type: 'gcs', bucket: 'tiles', prefix: 'kill' }, ee: { project: 'sa-project' } }, 256);
    const kills = ['mid-download:3', 'after-rename:1', 'after-cleanup:1'];
    for (const at of kills) {
      const r = await runJob(job.file, emu.url, { ...env, TESSERA_CRASH_AT: at }, 120_000);
      expect(r.signal, `${at}: ${r.stderr}`).toBe('SIGKILL');
    }
    const last = await runJob(job.file, emu.url, env, 120_000);
    expect(last.code, last.stderr).toBe(0);
    await emu.sync();
    const s = emu.state();
    const ops = s.operations.filter((o) => o.description?.startsWith('gcskill_'));
    expect(ops).toHaveLength(3);
    const outputs = s.objects.filter((o) => /^kill\/gcskill_x\d+_y\d+\.tif$/.test(o.name));
    expect(outputs).toHaveLength(3);
    for (const o of outputs) {
      expect(o.deletedAt, o.name).not.toBeNull();
      const local = readFileSync(join(job.output, o.name.split('/').pop()!));
      expect(createHash('md5').update(local).digest('base64')).toBe(o.md5Hash);
    }
    expect(readdirSync(job.output).filter((f) => f.endsWith('.part'))).toEqual([]);
  }, 300_000);
});

describe('one driver per job', () => {
  it('a live lease of another machine in the prefix stops the run before anything is sent (exit 3, naming the host)', async () => {
    const job = rectangleJob('gcslocked', 1, 1, { drive: undefined, destination: { type: 'gcs', bucket: 'tiles', prefix: 'locked' }, ee: { project: 'sa-project' } });
    const key = parseServiceAccountKey(readFileSync(keyPath, 'utf8'), keyPath);
    const jwt = serviceAccountClient(key, googleEndpoints(emu.url));
    const gcs = new GcsClient({ accessToken: async () => (await jwt.getAccessToken()).token!, apiEndpoint: emu.url });
    const now = new Date().toISOString();
    await gcs.writeText('tiles', 'locked/.tessera-lease-gcslocked.json', JSON.stringify({ job: 'gcslocked', host: 'other-server', pid: 4242, runId: 'r-1', startedAt: now, heartbeatAt: now }));
    const r = await runJob(job.file, emu.url, env, 60_000);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/other-server/);
    expect(emu.state().operations.filter((o) => o.description?.startsWith('gcslocked_'))).toEqual([]);
    // The other machine's lease is still there.
    expect((await gcs.readText('tiles', 'locked/.tessera-lease-gcslocked.json'))?.text).toContain('other-server');
  }, 90_000);
});

describe('a bucket that does not exist', () => {
  it('stops the run before anything is sent: exit 3 and one line naming the bucket', async () => {
    const job = rectangleJob('gcsnobucket', 1, 1, { drive: undefined, destination: { type: 'gcs', bucket: 'missing-bucket', prefix: 'x' }, ee: { project: 'sa-project' } });
    const r = await runJob(job.file, emu.url, env, 60_000);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('warn'))).toEqual([expect.stringMatching(/bucket missing-bucket does not exist/)]);
    expect(emu.state().operations.filter((o) => o.description?.startsWith('gcsnobucket_'))).toEqual([]);
  }, 90_000);
});
