/**
 * A job to a Cloud Storage bucket, signed in as a service account without a browser (docs/cloud-storage.md,
 * docs/service-accounts.md): `tessera login --service-account` then `tessera run` against the emulator with
 * faults on the storage routes and a kill -9 mid-download; every one of 94 objects is downloaded once,
 * verified and deleted, and a same-named object that was there before the run is left untouched.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';
import { GcsClient } from '../../main/core/gcs/client';
import { crc32cBase64 } from '../../main/core/gcs/download';
import { serviceAccountClient, parseServiceAccountKey } from '../../main/core/auth/service-account';
import { googleEndpoints } from '../../main/core/google/session';
import { tesseraAsync } from '../helpers/cli';
import { runJob, useEmulator } from '../helpers/emulator';
import { useScratchDir } from '../helpers/hooks';
import { rectangleJob } from '../helpers/job';

const home = useScratchDir('tessera-gcs-run-');
const keyPath = join(home, 'downloaded-key.json');
const env = { TESSERA_CREDENTIALS: join(home, 'config', 'credentials.json'), GOOGLE_APPLICATION_CREDENTIALS: '' };
const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20, slots: 8, buckets: 'tiles', serviceAccountKey: keyPath, project: 'sa-project', seed: 7 });

/** The CLI in its own process; asynchronous, because the emulator answers from this very process. */
const cli = (args: string[], timeoutMs = 60_000) => tesseraAsync(args, { env, timeoutMs, cwd: process.cwd() });

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
    const driveJob = rectangleJob('docdrive', 1, 1, { ee: { project: 'sa-project' } });
    const missing = rectangleJob('docnobucket', 1, 1, { drive: undefined, destination: { type: 'gcs', bucket: 'nope', prefix: 'x' }, ee: { project: 'sa-project' } });
    // Three independent doctors at once: each mostly waits on its own process start.
    const [a, b, c] = (await Promise.all([bucketJob, driveJob, missing].map((j) => cli(['doctor', j.file, '--emulator', emu.url, '--json'])))).map((r) => JSON.parse(r.stdout) as Report);
    expect(check(a!, 'credentials').message).toMatch(/the service account tessera-runner@sa-project/);
    expect(check(a!, 'drive')).toMatchObject({ status: 'ok', message: expect.stringMatching(/Drive is not used/) });
    expect(check(a!, 'folder')).toMatchObject({ status: 'ok', message: expect.stringMatching(/gs:\/\/tiles\/doc\/ answers/) });
    expect(check(b!, 'drive')).toMatchObject({ status: 'warn', message: expect.stringMatching(/its own small Drive.*"type": "gcs"/) });
    expect(check(c!, 'folder')).toMatchObject({ status: 'fail', message: expect.stringMatching(/bucket nope does not exist/) });
  }, 60_000);
});

describe('a 94-tile job to a bucket with storage faults on, killed with kill -9 while downloading', () => {
  it('resumes without duplicates: 94 verified outputs, nothing left in the prefix, a foreign object untouched', { timeout: 240_000 }, async () => {
    const prefix = 'runs/gcsjob';
    const job = rectangleJob('gcsjob', 47, 2, { drive: undefined, destination: { type: 'gcs', bucket: 'tiles', prefix }, ee: { project: 'sa-project' }, maxInFlight: 12, downloads: 4 });
    // An object with one of a tile's output names (a split part an earlier run left), there before the run:
    // foreign (older than the task). An export of the same whole name would replace it, as at Google.
    const foreignName = `${prefix}/gcsjob_x3125_y2344-0000000000-0000000000.tif`;
    const key = parseServiceAccountKey(readFileSync(keyPath, 'utf8'), keyPath);
    const jwt = serviceAccountClient(key, googleEndpoints(emu.url));
    const gcs = new GcsClient({ accessToken: async () => (await jwt.getAccessToken()).token!, apiEndpoint: emu.url });
    await gcs.writeText('tiles', foreignName, 'not a GeoTIFF: the user\'s own');
    // Faults on every route, storage included: 5xx, 429, media bodies reset or cut short; a third of the
    // outputs are composite objects (no MD5: verified by their CRC32C alone).
    emu.configure({ http5xxRate: 0.05, rateLimitRate: 0.03, resetRate: 0.1, truncateRate: 0.1, compositeRate: 0.3 });
    try {
      // Killed while its downloads run (at the 40th chunk received); the next run resumes under the same faults.
      const killed = await runJob(job.file, emu.url, { ...env, TESSERA_CRASH_AT: 'mid-download:40' }, 120_000);
      expect(killed.signal, killed.stderr.slice(-2000)).toBe('SIGKILL');
      const last = await runJob(job.file, emu.url, env, 150_000);
      expect(last.code, last.stderr.slice(-2000)).toBe(0);
    } finally {
      emu.configure({ http5xxRate: 0, rateLimitRate: 0, resetRate: 0, truncateRate: 0, compositeRate: 0 });
    }
    // The storage faults really hit the runs: cut bodies broken off and resumed, 5xx and 429 of the JSON API.
    const log = readFileSync(join(job.stateDir, 'log'), 'utf8');
    expect(log).toMatch(/the connection stalled; the download resumes/);
    expect(log).toMatch(/Internal Error|Service Unavailable/);
    expect(log).toMatch(/The rate of change requests to the object exceeds the rate limit/);
    await emu.sync();
    const s = emu.state();
    // One export per tile, no tile exported twice.
    const ops = s.operations.filter((o) => o.description?.startsWith('gcsjob_') && o.state === 'SUCCEEDED');
    const tiles = ops.map((o) => o.description!.replace(/_a\d+$/, ''));
    expect(new Set(tiles).size).toBe(94);
    expect(tiles).toHaveLength(94);
    // Each output object written once, downloaded byte for byte (checked as the object's MD5 when it has
    // one, and its CRC32C), then deleted.
    const mine = s.objects.filter((o) => o.bucket === 'tiles' && new RegExp(`^${prefix}/gcsjob_x\\d+_y\\d+\\.tif$`).test(o.name));
    expect(mine).toHaveLength(94);
    expect(new Set(mine.map((o) => o.name)).size).toBe(94);
    expect(mine.filter((o) => o.md5Hash === null).length).toBeGreaterThan(0);
    for (const o of mine) {
      expect(o.deletedAt, o.name).not.toBeNull();
      const local = readFileSync(join(job.output, o.name.split('/').pop()!));
      expect(crc32cBase64(crc32c(local)), o.name).toBe(o.crc32c);
      if (o.md5Hash !== null) expect(createHash('md5').update(local).digest('base64'), o.name).toBe(o.md5Hash);
    }
    const outputs = readdirSync(job.output);
    expect(outputs.filter((f) => f.endsWith('.tif'))).toHaveLength(94);
    expect(outputs.filter((f) => f.endsWith('.part'))).toEqual([]);
    // Nothing of the job's left under the prefix (the leases of both runs included); the foreign object
    // is still there and was never downloaded.
    const live = s.objects.filter((o) => o.bucket === 'tiles' && o.name.startsWith(`${prefix}/`) && o.deletedAt === null);
    expect(live.map((o) => o.name)).toEqual([foreignName]);
    expect(outputs).not.toContain(foreignName.split('/').pop());
    const status = JSON.parse((await cli(['status', job.file, '--json'])).stdout) as { tiles: Record<string, number>; foreignFiles: number };
    expect(status.tiles.done).toBe(94);
    expect(status.foreignFiles).toBe(1);
  });
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
