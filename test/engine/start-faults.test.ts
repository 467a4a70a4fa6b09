/**
 * Google's hiccups at the start and the end of a run, outside the loop that retries them next cycle
 * (docs/transient-start.md): the Earth Engine client's start-up request, the listing and writes of the
 * job's lease in a bucket or a Drive folder, and its release at the end. Each is made to fail through the
 * emulator's `failNext` hook; the run either gets through by trying again (bounded) or stops with exit 3
 * and one line saying what failed and that running it again resumes — never "unexpected error".
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OptionsError, parseOptions } from '../../main/emulator';
import { runJob, useEmulator } from '../helpers/emulator';
import { useScratchDir } from '../helpers/hooks';
import { rectangleJob } from '../helpers/job';

const home = useScratchDir('tessera-start-faults-');
const env = { TESSERA_CREDENTIALS: join(home, 'credentials.json'), GOOGLE_APPLICATION_CREDENTIALS: '' };
const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20, slots: 8, buckets: 'tiles' });

const ALGORITHMS = 'GET /v1/projects/{project}/algorithms';
const LIST_OBJECTS = 'GET /storage/v1/b/{bucket}/o';
const DELETE_OBJECT = 'DELETE /storage/v1/b/{bucket}/o/{object}';
const LIST_FILES = 'GET /drive/v3/files';
const LIST_OPERATIONS = 'GET /v1/projects/{project}/operations';

const bucketJob = (name: string, extra: Record<string, unknown> = {}) =>
  rectangleJob(name, 2, 2, { drive: undefined, destination: { type: 'gcs', bucket: 'tiles', prefix: `p/${name}` }, ...extra });
const jobOps = (name: string) => emu.state().operations.filter((o) => o.description?.startsWith(`${name}_`));
/** stderr without the run's own warning lines: what a failure says. */
const failureLines = (stderr: string) => stderr.trim().split('\n').filter((l) => l !== '' && !l.startsWith('warning:'));

/**
 * A bucket job whose start request `route` keeps failing with `status`: the run must stop with exit 3 and
 * one line matching `line`, having sent nothing; answers the job for a run after the fault is lifted.
 */
async function stopsAtStart(name: string, route: string, status: 500 | 503, line: RegExp, extraEnv: Record<string, string> = {}, timeoutMs = 90_000) {
  const job = bucketJob(name);
  emu.configure({ failNext: [{ route, count: 1000, status }] });
  try {
    const r = await runJob(job.file, emu.url, { ...env, ...extraEnv }, timeoutMs);
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.code, r.stderr).toBe(3);
    expect(failureLines(r.stderr)).toEqual([expect.stringMatching(line)]);
    expect(jobOps(name)).toEqual([]);
  } finally {
    emu.configure({ failNext: null });
  }
  return job;
}

describe('the Earth Engine client start-up request (GET algorithms) fails', () => {
  it('once with a 500: the run tries again and finishes', async () => {
    const job = bucketJob('eeonce');
    emu.configure({ failNext: [{ route: ALGORITHMS, count: 1, status: 500 }] });
    const r = await runJob(job.file, emu.url, env, 90_000);
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.code, r.stderr).toBe(0);
    expect(jobOps('eeonce').filter((o) => o.state === 'SUCCEEDED')).toHaveLength(4);
  }, 120_000);

  it('every time: exit 3, one line naming Earth Engine and saying that running again resumes; nothing sent', async () => {
    await stopsAtStart('eedown', ALGORITHMS, 503, /^tessera: .*Earth Engine.*service is currently unavailable.*run .*again.* resume/i, { TESSERA_DEBUG: '1' });
  }, 120_000);
});

describe("the listing of the job's Earth Engine operations at start", () => {
  it('failing beyond every try: exit 3, one line naming it; nothing sent', async () => {
    await stopsAtStart('opslist', LIST_OPERATIONS, 500, /^tessera: listing this job's Earth Engine operations failed 5 times.*Internal error encountered.*run .*again.* resume/i);
  }, 120_000);
});

describe("the job's lease in a bucket", () => {
  it('a listing of the prefix that keeps failing beyond every retry: exit 3, one line naming the lease and the bucket; nothing sent', async () => {
    const job = await stopsAtStart('leaselist', LIST_OBJECTS, 503, /^tessera: .*lease.*gs:\/\/tiles\/p\/leaselist\/.*Service Unavailable.*run .*again.* resume/i, {}, 110_000);
    // The same job then runs to its end.
    const again = await runJob(job.file, emu.url, env, 90_000);
    expect(again.code, again.stderr).toBe(0);
  }, 240_000);

  it('after kill -9, the resume takes the stale lease over although its first deletes of it fail', async () => {
    const job = bucketJob('leasetakeover');
    const killed = await runJob(job.file, emu.url, { ...env, TESSERA_CRASH_AT: 'mid-download:1' }, 90_000);
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const stale = emu.state().objects.filter((o) => o.name === 'p/leasetakeover/.tessera-lease-leasetakeover.json' && o.deletedAt === null);
    expect(stale).toHaveLength(1);
    // The killed run's lease is the first object the resume deletes: its first try (4 deletes) and two
    // more fail; the next try takes it over.
    emu.configure({ failNext: [{ route: DELETE_OBJECT, count: 6, status: 503 }] });
    try {
      const r = await runJob(job.file, emu.url, env, 90_000);
      expect(r.stderr).not.toMatch(/unexpected error/);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/taking the job's lease in gs:\/\/tiles\/p\/leasetakeover\/ failed \(Service Unavailable\); trying again/);
      expect(r.stdout).toMatch(/took over the job's stale lease/);
    } finally {
      emu.configure({ failNext: null });
    }
    expect(jobOps('leasetakeover').filter((o) => o.state === 'SUCCEEDED')).toHaveLength(4);
    const live = emu.state().objects.filter((o) => o.name.startsWith('p/leasetakeover/') && o.deletedAt === null);
    expect(live).toEqual([]);
  }, 200_000);

  it('a release at the end whose deletes all fail: the run still ends well and says the lease expires by itself', async () => {
    const job = bucketJob('leaserelease', { cleanup: 'keep' });
    // cleanup "keep": the only deletes of the run are its lease's (release).
    emu.configure({ failNext: [{ route: DELETE_OBJECT, count: 4, status: 500 }] });
    try {
      const r = await runJob(job.file, emu.url, env, 90_000);
      expect(r.stderr).not.toMatch(/unexpected error/);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toMatch(/lease in gs:\/\/tiles\/p\/leaserelease\/ could not be deleted.*expires by itself/);
    } finally {
      emu.configure({ failNext: null });
    }
    const lease = emu.state().objects.filter((o) => o.name === 'p/leaserelease/.tessera-lease-leaserelease.json' && o.deletedAt === null);
    expect(lease).toHaveLength(1);
  }, 120_000);
});

describe("the job's lease in a Drive folder", () => {
  it('a listing that keeps failing beyond every retry: exit 3, one line, nothing sent', async () => {
    const job = rectangleJob('drivelease', 2, 2);
    emu.configure({ failNext: [{ route: LIST_FILES, count: 1000, status: 500 }] });
    try {
      const r = await runJob(job.file, emu.url, env, 110_000);
      expect(r.stderr).not.toMatch(/unexpected error/);
      expect(r.code, r.stderr).toBe(3);
      expect(failureLines(r.stderr)).toEqual([expect.stringMatching(/^tessera: .*lease.*Drive.*run .*again.* resume/i)]);
      expect(jobOps('drivelease')).toEqual([]);
    } finally {
      emu.configure({ failNext: null });
    }
  }, 240_000);
});

describe("the emulator's failNext option (the hook these tests use)", () => {
  it('takes a list, or the CLI text ROUTE=N[:STATUS]; …, and refuses anything else in one line', () => {
    expect(parseOptions({ failNext: 'GET /v1/projects/{project}/algorithms=2:500; DELETE /storage/v1/b/{bucket}/o/{object}=1' }).failNext).toEqual([
      { route: ALGORITHMS, count: 2, status: 500 },
      { route: DELETE_OBJECT, count: 1 },
    ]);
    expect(() => parseOptions({ failNext: 'algorithms=2' })).toThrow(OptionsError);
    expect(() => parseOptions({ failNext: [{ route: ALGORITHMS, count: 1, status: 404 }] })).toThrow(/failNext/);
  });

  it('fails exactly the next N requests of the route, then answers again; a new value starts afresh', async () => {
    const get = () => fetch(`${emu.url}/storage/v1/b/tiles/o?prefix=none`, { headers: { authorization: 'Bearer x' } }).then((r) => r.status);
    // An unknown token answers 401: a request that got past the hook.
    emu.configure({ failNext: [{ route: LIST_OBJECTS, count: 2, status: 429 }] });
    expect([await get(), await get(), await get()]).toEqual([429, 429, 401]);
    emu.configure({ failNext: [{ route: LIST_OBJECTS, count: 1 }] });
    expect([await get(), await get()]).toEqual([503, 401]);
    emu.configure({ failNext: null });
  });
});
