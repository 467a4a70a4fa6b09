/**
 * Part 2's faults through Google's unmodified clients: each kind reaches the client as Google's error,
 * "work done, answer lost" leaves exactly one operation / one deletion, the client's own body-dropping
 * refresh is refused like Google refuses it, and `/__emulator/*` is never faulted.
 */
import type { drive_v3 } from '@googleapis/drive';
import type { Credentials } from 'google-auth-library';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../main/emulator';
import { CLIENT_ID, eeCall, plain, startTask, useEmulatorWithEe, waitFor, type Ee } from './google-clients';

const PROJECT = 'faults-project';
const NO_FAULTS = { http5xxRate: 0, rateLimitRate: 0, resetRate: 0, truncateRate: 0, lostAnswerRate: 0, latencyMs: 0, internalErrorRate: 0 };

let emu: EmulatorHandle;
let ee: Ee;
let drive: drive_v3.Drive;
let tokens: Credentials;

interface GaxiosLike { status?: number; code?: string; response?: { data?: { error?: { code: number; message: string; status?: string; errors?: { reason: string; domain: string }[] } } } }

/** A small Drive file with bytes: an export output (Drive uploads are not what these tests are about). */
async function exportedFile(prefix: string, pixels = 200): Promise<{ id: string; size: number }> {
  const task = ee.batch.Export.image.toDrive({
    image: ee.Image(1).toFloat(), description: prefix, folder: 'faults', fileNamePrefix: prefix,
    crs: 'EPSG:32632', crsTransform: [10, 0, 600000, 0, -10, 5400000], dimensions: `${pixels}x${pixels}`,
  });
  const name = `projects/${PROJECT}/operations/${await startTask(task)}`;
  await waitFor(`export ${prefix}`, async () => (plain<{ done?: boolean }>(ee, await eeCall((cb) => ee.data.getOperation(name, cb))).done ? true : undefined));
  const f = emu.state().files.find((x) => x.name === `${prefix}.tif` && x.deletedAt === null);
  if (!f?.size) throw new Error(`no output ${prefix}.tif`);
  return { id: f.id, size: f.size };
}

/** Reads a media download to its end (or its failure); how many body bytes arrived. */
async function download(fileId: string): Promise<{ status: number; promised: number; got: number; error: GaxiosLike | null }> {
  const res = await drive.files.get({ fileId, alt: 'media' }, { responseType: 'stream' });
  const promised = Number((res.headers as unknown as Headers).get('content-length'));
  let got = 0;
  try {
    for await (const c of res.data as unknown as Readable) got += (c as Buffer).length;
    return { status: res.status, promised, got, error: null };
  } catch (e) {
    return { status: res.status, promised, got, error: e as GaxiosLike };
  }
}

function tileTask(description: string, requestId: string): Ee {
  const task = ee.batch.Export.image.toDrive({
    image: ee.Image(1), description, folder: 'faults', crs: 'EPSG:32632', crsTransform: [10, 0, 0, 0, -10, 0], dimensions: '8x8',
  });
  (task as unknown as { id: string }).id = requestId;
  return task;
}

useEmulatorWithEe({ timeScale: 2000, taskBaseSeconds: 10, dispatchSeconds: 1, slots: 4, seed: 42 }, PROJECT, (started) => ({ emu, ee, drive, tokens } = started));
afterEach(() => {
  emu.configure(NO_FAULTS);
});

describe('faults before the work (nothing happens)', () => {
  it("answers 500/503 in Earth Engine's and Drive's formats", async () => {
    emu.configure({ http5xxRate: 1 });
    const before = emu.state().operations.length;
    // The EE client does not retry a 5xx: the message reaches the caller.
    const eeMessages = new Set<string>();
    for (let i = 0; i < 4; i++) {
      await eeCall((cb) => ee.data.listOperations(5, cb)).then(
        () => eeMessages.add('(succeeded)'),
        (e: Error) => eeMessages.add(e.message),
      );
    }
    for (const m of eeMessages) expect(['Internal error encountered.', 'The service is currently unavailable.']).toContain(m);
    await expect(startTask(tileTask('five', randomUUID()))).rejects.toThrow(/Internal error encountered\.|The service is currently unavailable\./);
    expect(emu.state().operations.length).toBe(before);

    const seen = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const err = (await drive.files.list({}, { retry: false }).then(() => null, (e: unknown) => e as GaxiosLike)) as GaxiosLike;
      expect(err.response?.data?.error?.errors?.[0]).toMatchObject({ reason: 'backendError', domain: 'global' });
      expect(err.response?.data?.error?.code).toBe(err.status);
      seen.add(err.status as number);
    }
    expect([...seen].sort()).toEqual([500, 503]);

    const raw = await fetch(`${emu.url}/v1/projects/${PROJECT}/operations`, { headers: { Authorization: `Bearer ${tokens.access_token as string}` } });
    expect([500, 503]).toContain(raw.status);
    expect(((await raw.json()) as { error: { status: string } }).error.status).toMatch(/^(INTERNAL|UNAVAILABLE)$/);
  });

  it("answers Drive's 403 userRateLimitExceeded / rateLimitExceeded and 429, and EE's 429 RESOURCE_EXHAUSTED (which its client retries)", async () => {
    emu.configure({ rateLimitRate: 1 });
    const kinds = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const err = (await drive.files.list({}, { retry: false }).then(() => null, (e: unknown) => e as GaxiosLike)) as GaxiosLike;
      const item = err.response?.data?.error?.errors?.[0];
      expect(item?.domain).toBe('usageLimits');
      kinds.add(`${err.status} ${item?.reason}`);
    }
    expect([...kinds].sort()).toEqual(['403 rateLimitExceeded', '403 userRateLimitExceeded', '429 rateLimitExceeded']);

    const raw = await fetch(`${emu.url}/v1/projects/${PROJECT}/operations`, { headers: { Authorization: `Bearer ${tokens.access_token as string}` } });
    expect(raw.status).toBe(429);
    const body = (await raw.json()) as { error: { status: string; message: string } };
    expect(body.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(body.error.message).toMatch(/^Quota exceeded for quota metric 'Number of read requests'/);

    // The EE client retries a 429 by itself (first retry after 2 s): it gets through once the limit lifts.
    const route = 'GET /v1/projects/{project}/operations';
    const calls = emu.state().requests[route] ?? 0;
    setTimeout(() => emu.configure({ rateLimitRate: 0 }), 300);
    await expect(eeCall((cb) => ee.data.listOperations(5, cb))).resolves.toBeInstanceOf(Array);
    expect((emu.state().requests[route] ?? 0) - calls).toBe(2);
  });

  it('adds latencyMs of real time to every request, and never faults /__emulator/*', async () => {
    emu.configure({ latencyMs: 300 });
    const t0 = Date.now();
    await drive.about.get({ fields: 'storageQuota' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(295);
    emu.configure({ ...NO_FAULTS, http5xxRate: 1, rateLimitRate: 1, latencyMs: 2000 });
    const t1 = Date.now();
    for (const path of ['/__emulator/state', '/__emulator/config']) expect((await fetch(`${emu.url}${path}`)).status).toBe(200);
    expect(Date.now() - t1).toBeLessThan(1000);
  });
});

describe('media downloads cut short', () => {
  it('resets the connection mid-download (resetRate) and ends the body early despite Content-Length (truncateRate)', async () => {
    const file = await exportedFile('media', 300);
    for (const rate of ['resetRate', 'truncateRate'] as const) {
      emu.configure({ [rate]: 1 });
      const r = await download(file.id);
      expect(r.status).toBe(200);
      expect(r.promised).toBe(file.size);
      expect(r.got).toBeLessThan(file.size);
      expect(r.error, rate).not.toBeNull();
      emu.configure({ [rate]: 0 });
    }
    const ok = await download(file.id);
    expect(ok).toMatchObject({ status: 200, got: file.size, error: null });
  });
});

describe('work done, answer lost (lostAnswerRate)', () => {
  it('creates the operation of a lost export answer exactly once: the same requestId re-sent gets it back', async () => {
    emu.configure({ lostAnswerRate: 1 });
    const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const errors: string[] = [];
    for (const [i, requestId] of ids.entries()) {
      await startTask(tileTask(`lost${i}`, requestId)).then(
        () => errors.push('(answered)'),
        (e: Error) => errors.push(e.message),
      );
    }
    // Each answer was lost: as a 5xx or as a reset connection (the xmlhttprequest transport reports the socket error).
    for (const m of errors) expect(m).toMatch(/Internal error encountered\.|The service is currently unavailable\.|ECONNRESET|socket hang up/);
    expect(errors.some((m) => /ECONNRESET|socket hang up/.test(m))).toBe(true);
    expect(errors.some((m) => /Internal error|unavailable/.test(m))).toBe(true);

    emu.configure({ lostAnswerRate: 0 });
    for (const [i, requestId] of ids.entries()) {
      const ops = emu.state().operations.filter((o) => o.requestId === requestId);
      expect(ops).toHaveLength(1);
      // The engine's resolution: send the same attempt again with the same requestId.
      const id = await startTask(tileTask(`lost${i}`, requestId));
      expect(`projects/${PROJECT}/operations/${id}`).toBe(ops[0]?.name);
      expect(emu.state().operations.filter((o) => o.requestId === requestId)).toHaveLength(1);
    }
  });

  it('deletes a file of a lost delete answer exactly once: the retry (and any later delete) is 404', async () => {
    const files = [await exportedFile('del0', 16), await exportedFile('del1', 16), await exportedFile('del2', 16), await exportedFile('del3', 16)];
    const usage = emu.state().quota.usage;
    emu.configure({ lostAnswerRate: 1 });
    const statuses: number[] = [];
    for (const f of files) {
      // The Drive library retries a 5xx or a dropped connection on DELETE by itself: its retry finds nothing.
      const err = (await drive.files.delete({ fileId: f.id }).then(() => null, (e: unknown) => e as GaxiosLike)) as GaxiosLike;
      statuses.push(err.status as number);
      expect(err.response?.data?.error?.errors?.[0]?.reason).toBe('notFound');
    }
    expect(statuses).toEqual([404, 404, 404, 404]);
    emu.configure({ lostAnswerRate: 0 });
    for (const f of files) {
      const s = emu.state().files.filter((x) => x.id === f.id);
      expect(s).toHaveLength(1);
      expect(s[0]?.deletedAt).toEqual(expect.any(String));
      await expect(drive.files.delete({ fileId: f.id })).rejects.toMatchObject({ status: 404 });
    }
    expect(emu.state().quota.usage).toBe(usage - files.reduce((n, f) => n + f.size, 0));
  });
});

describe('Earth Engine retrying tasks by itself (internalErrorRate)', () => {
  it('fails each attempt with "Internal error.", retries up to internalMaxAttempts, then ends FAILED', async () => {
    emu.configure({ internalErrorRate: 1, internalMaxAttempts: 2 });
    try {
      const name = `projects/${PROJECT}/operations/${await startTask(tileTask('internal', randomUUID()))}`;
      const op = await waitFor('the failing task', async () => {
        const o = plain<{ done?: boolean; error?: { message: string }; metadata: { state: string; attempt: number } }>(ee, await eeCall((cb) => ee.data.getOperation(name, cb)));
        return o.done ? o : undefined;
      });
      expect(op.metadata).toMatchObject({ state: 'FAILED', attempt: 2 });
      expect(op.error?.message).toBe('Internal error.');
      expect(emu.state().operations.find((o) => o.name === name)?.history.map((h) => h.state)).toEqual(['PENDING', 'RUNNING', 'PENDING', 'RUNNING', 'FAILED']);
    } finally {
      emu.configure({ internalMaxAttempts: 3 });
    }
  });
});

describe("requests the real client makes when it misbehaves", () => {
  it("refuses the empty form-encoded export the client sends after refreshing its token by itself (docs/earth-engine-client.md#tokens-and-refresh)", async () => {
    const before = emu.state().operations.length;
    const refresher = (_args: unknown, done: (r: unknown) => void): void => done({ access_token: tokens.access_token, token_type: 'Bearer', expires_in: 3600 });
    ee.data.setAuthTokenRefresher(refresher);
    ee.data.clearAuthToken();
    try {
      await expect(startTask(tileTask('dropped-body', randomUUID()))).rejects.toThrow('Invalid JSON payload received. Unexpected end of string.');
      expect(emu.state().operations.length).toBe(before);
    } finally {
      ee.data.setAuthToken(CLIENT_ID, 'Bearer', tokens.access_token, 3600, [], undefined, false);
    }
  });
});
