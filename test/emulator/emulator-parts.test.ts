/**
 * The emulator's parts without a network: options, the task scheduler's determinism and ordering, file
 * splitting, Drive's q language and fields, the batch format.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SimClock } from '../../main/emulator/clock';
import { applyFields, checkFields, FieldsError, FILE_SHAPE, parseFields } from '../../main/emulator/drive/fields';
import { nameContains, parseQuery, QueryError } from '../../main/emulator/drive/query';
import { DriveStore } from '../../main/emulator/drive/store';
import type { ExportJob } from '../../main/emulator/ee/export-request';
import { planImageFiles } from '../../main/emulator/ee/outputs';
import type { ImageProduct } from '../../main/emulator/ee/product';
import { rowIntervals, pointInClips, windowHasValidPixels, type Clip } from '../../main/emulator/ee/mask';
import { TaskEngine, type Operation, type TaskSettings } from '../../main/emulator/ee/tasks';
import { JOURNAL_FILE, Persistence, type PersistedMeta } from '../../main/emulator/persist';
import { boundaryOf, buildBatchReply, parseBatch } from '../../main/emulator/http/batch';
import { DEFAULTS, OPTION_SPECS, OptionsError, parseBytes, parseOptions, resolveOptions, startEmulator } from '../../main/emulator';
import { IdFactory, Rng } from '../../main/emulator/random';

const scratch = mkdtempSync(path.join(tmpdir(), 'tessera-emu-parts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('options', () => {
  it('has a default and a CLI flag for every key of docs/emulator.md#options', () => {
    const contract = ['port', 'dataDir', 'project', 'slots', 'timeScale', 'taskBaseSeconds', 'pixelsPerSecond', 'queueLimit', 'timeoutPixels', 'memoryPixels',
      'internalErrorRate', 'internalMaxAttempts', 'driveQuotaBytes', 'splitBytes', 'tokenLifetimeSeconds', 'http5xxRate', 'rateLimitRate', 'resetRate',
      'truncateRate', 'lostAnswerRate', 'latencyMs', 'denyConsent', 'seed'];
    for (const k of contract) {
      expect(Object.keys(DEFAULTS)).toContain(k);
      expect(OPTION_SPECS.find((s) => s.key === k)?.flag).toBe(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace('http5xx', 'http5xx')}`);
    }
    expect(DEFAULTS).toMatchObject({ port: 0, dataDir: null, project: null, slots: 2, timeScale: 1, taskBaseSeconds: 120, pixelsPerSecond: 20000, queueLimit: 3000,
      timeoutPixels: null, memoryPixels: null, internalErrorRate: 0, internalMaxAttempts: 3, driveQuotaBytes: null, splitBytes: 2 ** 31, tokenLifetimeSeconds: 3600,
      http5xxRate: 0, rateLimitRate: 0, resetRate: 0, truncateRate: 0, lostAnswerRate: 0, latencyMs: 0, denyConsent: false, seed: 1 });
  });

  it('refuses unknown keys and bad values with a message naming them', async () => {
    expect(() => parseOptions({ slot: 3 })).toThrow('unknown emulator option "slot"');
    expect(() => parseOptions({ slots: -1 })).toThrow(/emulator option "slots"/);
    expect(() => parseOptions({ http5xxRate: 2 })).toThrow(/"http5xxRate"/);
    expect(() => parseOptions({ denyConsent: 'yes' })).toThrow(OptionsError);
    expect(resolveOptions({ timeoutPixels: undefined, slots: 4 })).toEqual({ ...DEFAULTS, slots: 4 });
    await expect(startEmulator({ bogus: 1 } as never)).rejects.toThrow('unknown emulator option "bogus"');
  });

  it('reads byte counts with units', () => {
    expect(parseBytes('15GB')).toBe(15e9);
    expect(parseBytes('2GiB')).toBe(2 ** 31);
    expect(parseBytes('1e9')).toBe(1e9);
    expect(parseBytes('512')).toBe(512);
    expect(parseBytes('ten')).toBeNaN();
  });

  it('serves and changes the configuration at /__emulator/config', async () => {
    const emu = await startEmulator({ seed: 7 });
    try {
      const get = (await (await fetch(`${emu.url}/__emulator/config`)).json()) as Record<string, unknown>;
      expect(Object.keys(get).sort()).toEqual(Object.keys(DEFAULTS).sort());
      expect(get.seed).toBe(7);
      const post = await fetch(`${emu.url}/__emulator/config`, { method: 'POST', body: JSON.stringify({ driveQuotaBytes: 1000, timeScale: 50 }) });
      expect(await post.json()).toMatchObject({ driveQuotaBytes: 1000, timeScale: 50 });
      const bad = await fetch(`${emu.url}/__emulator/config`, { method: 'POST', body: JSON.stringify({ driveQuota: 1 }) });
      expect(bad.status).toBe(400);
      const fixed = await fetch(`${emu.url}/__emulator/config`, { method: 'POST', body: JSON.stringify({ port: 1 }) });
      expect(fixed.status).toBe(400);
      expect(emu.configure({ driveQuotaBytes: null }).driveQuotaBytes).toBeNull();
      const state = (await (await fetch(`${emu.url}/__emulator/state`)).json()) as Record<string, unknown>;
      expect(state).toMatchObject({ operations: [], files: [], assets: [], quota: { limit: null, usage: 0, usageInDriveTrash: 0 }, requests: {} });
    } finally {
      await emu.stop();
    }
  });
});

// ---- the scheduler ---------------------------------------------------------------------------------------

function job(over: Partial<ExportJob> = {}): ExportJob {
  return {
    type: 'EXPORT_IMAGE', description: 'd', requestId: null, priority: 100, folder: 'f', prefix: 'p', fileFormat: 'GEO_TIFF', product: null,
    pixels: 20_000, failure: null, tileDimensions: null, tileSize: 256, skipEmptyFiles: false, noData: null, ...over,
  };
}

function engine(settings: Partial<TaskSettings> = {}): { engine: TaskEngine; start: number } {
  const start = Date.UTC(2030, 0, 1);
  const clock = new SimClock(1, () => start);
  const ids = new IdFactory(1);
  const drive = new DriveStore(mkdtempSync(path.join(scratch, 'drive-')), ids, () => null);
  const s: TaskSettings = {
    slots: () => 2, taskBaseSeconds: () => 100, pixelsPerSecond: () => 1000, timeoutPixels: () => null, memoryPixels: () => null,
    internalErrorRate: () => 0, internalMaxAttempts: () => 3, dispatchSeconds: () => 10, ...settings,
  };
  const producer = { produce: () => Promise.resolve([]), discard: () => Promise.resolve() };
  return { engine: new TaskEngine(clock, ids, new Rng(1, 'internal-errors'), s, drive, producer, () => undefined), start };
}

function histories(e: TaskEngine, start: number): string[] {
  return [...e.ops.values()].map((op) => `${op.job.description}: ${op.history.map((h) => `${h.state}@${(h.time - start) / 1000}`).join(' ')}`);
}

describe('task scheduling', () => {
  it('starts by priority, then submission order, in free slots, at exact simulated instants', async () => {
    const { engine: e, start } = engine({ slots: () => 1 });
    e.submit('p', job({ description: 'a' }));
    e.submit('p', job({ description: 'b' }));
    e.submit('p', job({ description: 'c', priority: 500 }));
    await e.advanceTo(start + 1_000_000);
    // run time 100 + 20000/1000 = 120 s; all eligible at 10 s; c (priority 500) first.
    expect(histories(e, start)).toEqual([
      'a: PENDING@0 RUNNING@130 SUCCEEDED@250',
      'b: PENDING@0 RUNNING@250 SUCCEEDED@370',
      'c: PENDING@0 RUNNING@10 SUCCEEDED@130',
    ]);
  });

  it('gives the same history however often it is advanced', async () => {
    const run = async (step: number): Promise<string[]> => {
      const { engine: e, start } = engine({ internalErrorRate: () => 0.5 });
      for (let i = 0; i < 6; i++) e.submit('p', job({ description: `t${i}`, pixels: i * 10_000, priority: 100 + (i % 3) }));
      for (let t = start; t <= start + 3_000_000; t += step) await e.advanceTo(t);
      await e.advanceTo(start + 3_000_000);
      return histories(e, start);
    };
    const once = await run(3_000_000);
    expect(await run(1000)).toEqual(once);
    expect(await run(77_777)).toEqual(once);
    expect(once.join('\n')).toMatch(/RUNNING@\d+ PENDING@/); // an internal error was retried
  });

  it('fails above timeoutPixels and memoryPixels after the full run, and planned failures after the base time', async () => {
    const { engine: e, start } = engine({ timeoutPixels: () => 50_000, memoryPixels: () => 30_000 });
    e.submit('p', job({ description: 'slow', pixels: 60_000 }));
    e.submit('p', job({ description: 'big', pixels: 40_000 }));
    await e.advanceTo(start + 1_000_000);
    e.submit('p', job({ description: 'bad', failure: { code: 3, message: 'nope' } }));
    await e.advanceTo(start + 2_000_000);
    const ops = [...e.ops.values()];
    expect(ops.map((o) => [o.job.description, o.state, o.error?.message, ((o.endTime ?? 0) - (o.startTime ?? 0)) / 1000])).toEqual([
      ['slow', 'FAILED', 'Computation timed out.', 160],
      ['big', 'FAILED', 'User memory limit exceeded.', 140],
      ['bad', 'FAILED', 'nope', 100],
    ]);
  });
});

// ---- split outputs -------------------------------------------------------------------------------------------

describe('output files', () => {
  const product = (w: number, h: number): ImageProduct => ({
    kind: 'image', grid: { crs: 'EPSG:32632', crsTransform: [10, 0, 0, 0, -10, 0], width: w, height: h }, bands: [{ name: 'b', dataType: 'Float32' }], pixels: w * h,
  });

  it('writes one {prefix}.tif when it fits', () => {
    expect(planImageFiles(product(1000, 1000), { prefix: 'job_x1_y2', tileDimensions: null, tileSize: 256 }, 2 ** 31)).toEqual([
      { name: 'job_x1_y2.tif', xOff: 0, yOff: 0, width: 1000, height: 1000 },
    ]);
  });

  it('splits into {prefix}-yMin-xMin parts of whole shards above splitBytes, covering the image once', () => {
    const parts = planImageFiles(product(1000, 700), { prefix: 'p', tileDimensions: null, tileSize: 256 }, 512 * 512 * 4);
    expect(parts.map((p) => p.name)).toEqual(['p-0000000000-0000000000.tif', 'p-0000000000-0000000512.tif', 'p-0000000512-0000000000.tif', 'p-0000000512-0000000512.tif']);
    expect(parts.reduce((n, p) => n + p.width * p.height, 0)).toBe(700_000);
    expect(parts[3]).toMatchObject({ xOff: 512, yOff: 512, width: 488, height: 188 });
  });

  it('uses fileDimensions when given', () => {
    const parts = planImageFiles(product(600, 300), { prefix: 'p', tileDimensions: { width: 256, height: 512 }, tileSize: 256 }, 2 ** 31);
    expect(parts.map((p) => [p.name, p.width, p.height])).toEqual([
      ['p-0000000000-0000000000.tif', 256, 300], ['p-0000000000-0000000256.tif', 256, 300], ['p-0000000000-0000000512.tif', 88, 300],
    ]);
  });
});

// ---- Drive: q and fields -------------------------------------------------------------------------------------

describe("Drive's q language", () => {
  it('matches name tokens by prefix, case-insensitively', () => {
    expect(nameContains('HelloWorld', 'Hello')).toBe(true);
    expect(nameContains('HelloWorld', 'World')).toBe(false);
    expect(nameContains('Hello World', 'world')).toBe(true);
    expect(nameContains('bavaria_x12_ym3.tif', 'x12_ym3')).toBe(true);
    expect(nameContains('bavaria_x12_ym3.tif', '12')).toBe(false);
    expect(nameContains('bavaria_x12_ym3.tif', 'tif')).toBe(true);
  });

  it('parses and, or, not, parentheses and finds the parent to search in', () => {
    expect(parseQuery("'abc' in parents and trashed = false and (name = 'a' or name contains 'b')", 'ROOT').parent).toBe('abc');
    expect(parseQuery("'root' in parents", 'ROOT').parent).toBe('ROOT');
    expect(parseQuery("'abc' in parents or name = 'x'", 'ROOT').parent).toBeNull();
    expect(parseQuery("not 'abc' in parents", 'ROOT').parent).toBeNull();
    for (const bad of ["name = x", "name == 'x'", "size > 3", "'a' in owners2", "trashed = maybe", "name = 'x' and", "(name = 'x'"]) {
      expect(() => parseQuery(bad, 'ROOT'), bad).toThrow(QueryError);
    }
  });

  it('applies and checks fields selections', () => {
    const mask = parseFields('nextPageToken, files(id,name), kind');
    expect(applyFields({ kind: 'k', files: [{ id: '1', name: 'n', size: '3' }], extra: 1 }, mask)).toEqual({ kind: 'k', files: [{ id: '1', name: 'n' }] });
    expect(applyFields({ a: { b: 1, c: 2 } }, parseFields('a/b'))).toEqual({ a: { b: 1 } });
    expect(() => checkFields(parseFields('id,sizes'), FILE_SHAPE)).toThrow(FieldsError);
    expect(() => parseFields('files(id')).toThrow(FieldsError);
  });
});

describe('batch format', () => {
  it('reads the EE client\'s multipart request and writes a reply its parser reads', () => {
    const body =
      '--batch_EARTHENGINE_batch\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nMIME-Version: 1.0\r\nContent-ID: <projects/p/operations/A>\r\n\r\n' +
      'GET /v1/projects/p/operations/A HTTP/1.1\r\nContent-Type: application/json; charset=utf-8\r\nAuthorization: Bearer t\r\n\r\n\r\n' +
      '--batch_EARTHENGINE_batch\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nMIME-Version: 1.0\r\nContent-ID: <projects/p/operations/B>\r\n\r\n' +
      'POST /v1/projects/p/operations/B:cancel HTTP/1.1\r\nContent-Type: application/json; charset=utf-8\r\nAuthorization: Bearer t\r\n\r\n{}\r\n' +
      '--batch_EARTHENGINE_batch--\r\n';
    const boundary = boundaryOf('multipart/mixed; boundary=batch_EARTHENGINE_batch') as string;
    const parts = parseBatch(Buffer.from(body), boundary);
    expect(parts.map((p) => [p.contentId, p.method, p.target, p.headers.authorization, p.body.toString()])).toEqual([
      ['projects/p/operations/A', 'GET', '/v1/projects/p/operations/A', 'Bearer t', ''],
      ['projects/p/operations/B', 'POST', '/v1/projects/p/operations/B:cancel', 'Bearer t', '{}'],
    ]);
    const reply = buildBatchReply([{ contentId: 'projects/p/operations/A', status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"name":"x"}' }], 'zz');
    // What the client's parseBatchReply does (docs/earth-engine-client.md#batch-requests).
    const [, part] = reply.split('--zz');
    const groups = (part as string).split('\r\n\r\n');
    expect(groups[0]?.match(/\r\nContent-ID: <response-([^>]*)>/)?.[1]).toBe('projects/p/operations/A');
    expect(Number(groups[1]?.match(/^HTTP\S*\s(\d+)\s/)?.[1])).toBe(200);
    expect(JSON.parse(groups.slice(2).join('\r\n\r\n'))).toEqual({ name: 'x' });
  });
});

// ---- requests the real client does not make on the happy path ----------------------------------------------

describe('odd export requests', () => {
  it('refuses an empty or form-encoded export body with 400, accepts a table export as EXPORT_FEATURES', async () => {
    const emu = await startEmulator({ timeScale: 100, taskBaseSeconds: 1 });
    try {
      const tok = (await (await fetch(`${emu.url}/__emulator/token`, { method: 'POST' })).json()) as { access_token: string };
      const auth = { Authorization: `Bearer ${tok.access_token}` };
      const url = `${emu.url}/v1/projects/p/image:export`;
      const empty = await fetch(url, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/x-www-form-urlencoded' } });
      expect(empty.status).toBe(400);
      expect(((await empty.json()) as { error: { status: string } }).error.status).toBe('INVALID_ARGUMENT');
      const form = await fetch(url, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
      expect(form.status).toBe(400);
      const noExpression = await fetch(url, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ description: 'x' }) });
      expect(noExpression.status).toBe(400);

      const table = {
        description: 'pts',
        expression: { result: '0', values: { '0': { functionInvocationValue: { functionName: 'Collection', arguments: { features: { arrayValue: { values: [] } } } } } } },
        fileExportOptions: { driveDestination: { folder: 'tables', filenamePrefix: 'pts' }, fileFormat: 'CSV' },
      };
      const res = await fetch(`${emu.url}/v1/projects/p/table:export`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(table) });
      expect(res.status).toBe(200);
      const op = (await res.json()) as { name: string; metadata: { type: string; state: string } };
      expect(op.metadata).toMatchObject({ type: 'EXPORT_FEATURES', state: 'PENDING' });
      const done = await (async () => {
        for (let i = 0; i < 100; i++) {
          const o = (await (await fetch(`${emu.url}/v1/${op.name}`, { headers: auth })).json()) as { done?: boolean; error?: { message: string }; metadata: { state: string } };
          if (o.done) return o;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error('the table export never finished');
      })();
      // An empty collection: a CSV with its header only.
      expect(done.error).toBeUndefined();
      expect(done.metadata.state).toBe('SUCCEEDED');
      expect(emu.state().files.find((f) => f.name === 'pts.csv')).toMatchObject({ mimeType: 'text/csv', size: 'system:index,.geo\n'.length });
    } finally {
      await emu.stop();
    }
  });
});

// ---- masks and the journal -------------------------------------------------------------------------------

describe('clip masks', () => {
  it('finds the pixels whose centres are inside every clip, holes and several clips included', () => {
    const square: Clip = [[[0, 0], [10, 0], [10, 10], [0, 10]], [[3, 3], [7, 3], [7, 7], [3, 7]]]; // with a hole
    expect(rowIntervals([square], 1, 20)).toEqual([[0, 10]]);
    expect(rowIntervals([square], 5, 20)).toEqual([[0, 3], [7, 10]]);
    expect(rowIntervals([square], 12, 20)).toEqual([]);
    const left: Clip = [[[0, 0], [5.5, 0], [5.5, 20], [0, 20]]];
    expect(rowIntervals([square, left], 5, 20)).toEqual([[0, 3]]);
    expect(rowIntervals([square, left], 1, 20)).toEqual([[0, 5]]); // centre 5.5 is on the edge: outside
    expect(windowHasValidPixels([square], 10, 0, 5, 5, 20)).toBe(false);
    expect(windowHasValidPixels([square], 9, 9, 5, 5, 20)).toBe(true);
    expect(windowHasValidPixels([square], 4, 4, 2, 2, 20)).toBe(false); // inside the hole
    expect(pointInClips([square], 5, 5)).toBe(false);
    expect(pointInClips([square], 1, 5)).toBe(true);
  });
});

describe('the persistence journal', () => {
  it('replays its lines over the snapshot, later values winning, and ignores a torn last line', async () => {
    const dir = mkdtempSync(path.join(scratch, 'journal-'));
    const meta = (seq: number) => ({ format: 1, config: {}, simulatedNow: seq, engine: { seq, cursor: seq }, rng: { ids: seq, internal: 0, faults: {} }, requests: {}, driveRoot: {} }) as unknown as PersistedMeta;
    const op = (name: string, state: string) => ({ name, state, seq: 1 }) as unknown as Operation;
    const first = await Persistence.open(dir, () => undefined);
    expect(first.state).toBeNull();
    await first.store.writeSnapshot({ meta: meta(1), ops: [op('a', 'PENDING')], files: [], auth: { key: { privatePem: 'k', publicPem: 'p' }, grants: [], tokens: [], codes: [] } });
    await first.store.append({ meta: meta(2), ops: [op('a', 'RUNNING'), op('b', 'PENDING')] });
    await first.store.append({ meta: meta(3), ops: [op('b', 'SUCCEEDED')] });
    await first.store.close();
    appendFileSync(path.join(dir, JOURNAL_FILE), '{"meta":{"format":1,"engine":{"se');
    const logged: string[] = [];
    const again = await Persistence.open(dir, (m) => logged.push(m));
    expect(again.state?.meta.engine.seq).toBe(3);
    expect(again.state?.ops.map((o) => `${o.name}:${o.state}`)).toEqual(['a:RUNNING', 'b:SUCCEEDED']);
    expect(again.state?.auth.key.privatePem).toBe('k');
    expect(logged).toEqual([]); // a torn *last* line is expected after a crash, not worth a warning
    await again.store.close();
  });

  it('keeps what is appended after a torn last line (the torn tail is cut on open)', async () => {
    const dir = mkdtempSync(path.join(scratch, 'journal-torn-'));
    const meta = (seq: number) => ({ format: 1, config: {}, simulatedNow: seq, engine: { seq, cursor: seq }, rng: { ids: seq, internal: 0, faults: {} }, requests: {}, driveRoot: {} }) as unknown as PersistedMeta;
    const op = (name: string, state: string) => ({ name, state, seq: 1 }) as unknown as Operation;
    const first = await Persistence.open(dir, () => undefined);
    await first.store.writeSnapshot({ meta: meta(1), ops: [op('a', 'PENDING')], files: [], auth: { key: { privatePem: 'k', publicPem: 'p' }, grants: [], tokens: [], codes: [] } });
    await first.store.close();
    appendFileSync(path.join(dir, JOURNAL_FILE), '{"meta":{"format":1,"engine":{"se'); // killed mid-append
    const second = await Persistence.open(dir, () => undefined);
    await second.store.append({ meta: meta(2), ops: [op('a', 'SUCCEEDED')] }); // acknowledged: must survive
    await second.store.close();
    const logged: string[] = [];
    const third = await Persistence.open(dir, (m) => logged.push(m));
    expect(third.state?.ops.map((o) => `${o.name}:${o.state}`)).toEqual(['a:SUCCEEDED']);
    expect(logged).toEqual([]);
    await third.store.close();
  });
});
