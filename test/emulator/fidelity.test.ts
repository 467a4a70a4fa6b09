/**
 * Fidelity against Google's own shapes: every JSON answer the emulator gives during a representative
 * session — `tessera run` of a small job end to end (sign-in, the Earth Engine client's start-up, exports,
 * batched polls, Drive listing, downloads, deletes, quota), then the calls the rest of Tessera and its
 * tests make (assets, value:compute, operations paging, Drive metadata with every field, folders, trash,
 * errors) — is recorded by a proxy in front of the emulator and checked field by field:
 * - Earth Engine answers against the classes generated into the unmodified `@google/earthengine`
 *   (`ee.api.Operation`, `ee.api.ListOperationsResponse`, …: keys, nested classes, enums);
 * - Drive answers against `@googleapis/drive`'s discovery-derived types (`drive_v3.Schema$File`, …);
 * - errors against Google's error body; the OAuth token answer against Google's documented fields.
 * An unknown field or a wrong type fails, and so does an answer of a route this test cannot map (a new
 * route must say which of Google's shapes it answers with). A representative session rather than the
 * whole suite: the suite's processes do not share one emulator, and a proxy sees exactly what clients see.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drive as driveApi } from '@googleapis/drive';
import { OAuth2Client } from 'google-auth-library';
import { EarthEngine } from '../../main/core/google/earthengine';
import { emulatorSession } from '../../main/core/google/session';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { checkDrive, checkEe, checkGoogleError, driveSchemas, eeApi, type DriveType, type Problem } from '../helpers/google-shapes';
import { runJob } from '../helpers/emulator';
import { rectangleJob } from '../helpers/job';

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  status: number;
  type: string;
  body: Buffer;
}

let emu: EmulatorHandle;
let proxy: Server;
let proxyUrl: string;
const recorded: Recorded[] = [];

beforeAll(async () => {
  emu = await startEmulator({ timeScale: 1000, taskBaseSeconds: 20 });
  const target = new URL(emu.url);
  // A transparent proxy that keeps a copy of every answer (the clients are pointed at it).
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (answer: IncomingMessage) => {
        const body: Buffer[] = [];
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (c: Buffer) => {
          body.push(c);
          res.write(c);
        });
        answer.on('end', () => {
          res.end();
          const u = new URL(req.url ?? '/', 'http://x');
          recorded.push({ method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, status: answer.statusCode ?? 0, type: String(answer.headers['content-type'] ?? ''), body: Buffer.concat(body) });
        });
        answer.on('error', () => res.destroy());
      });
      up.on('error', () => res.destroy());
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
}, 60_000);

afterAll(async () => {
  proxy?.close();
  await emu?.stop();
});

/** The multipart/mixed answer of `POST /batch`: each part's HTTP status and JSON body. */
function batchParts(r: Recorded): { status: number; json: unknown }[] {
  const boundary = /boundary=([^;]+)/.exec(r.type)?.[1]?.replace(/"/g, '');
  if (!boundary) return [];
  return r.body
    .toString('utf8')
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((part) => {
      const status = Number(/HTTP\/1\.1 (\d{3})/.exec(part)?.[1] ?? 0);
      const start = part.indexOf('{');
      return { status, json: start >= 0 ? (JSON.parse(part.slice(start, part.lastIndexOf('}') + 1)) as unknown) : undefined };
    });
}

describe('the emulator\'s answers have Google\'s shapes', () => {
  it('every JSON field of a representative session is a field of Google\'s own client types, with its type', { timeout: 180_000 }, async () => {
    // 1. A whole run, as a user makes it (its own process, through the proxy).
    const job = rectangleJob('fidelity', 2, 1, { cleanup: 'keep' });
    const run = await runJob(job.file, proxyUrl, { TESSERA_CREDENTIALS: join(mkdtempSync(join(tmpdir(), 'creds-')), 'credentials.json') });
    expect(run.code, run.stderr).toBe(0);

    // 2. What else Tessera and its tests ask, through the same proxy.
    const session = await emulatorSession(proxyUrl);
    const ee = await EarthEngine.connect(session);
    await ee.listOperations();
    await ee.compute((e) => (e.List as (v: unknown[]) => unknown)([1, 2]));
    await ee.getAsset('projects/tessera-test/assets/dem');
    await ee.getAsset(`projects/${session.project}/assets/nothing-here`).catch(() => undefined);
    await ee.assetQuota?.(`projects/${session.project}/assets/x`).catch(() => undefined);
    await ee.getOperations([`projects/${session.project}/operations/NOSUCHOPERATION0000000000`]).catch(() => undefined);
    const drive = driveApi({ version: 'v3', auth: session.client, rootUrl: `${proxyUrl}/` });
    const list = await drive.files.list({ q: "name contains 'fidelity'", fields: '*', pageSize: 1000 });
    const file = list.data.files!.find((f) => f.mimeType !== 'application/vnd.google-apps.folder')!;
    await drive.files.get({ fileId: file.id!, fields: '*' });
    await drive.files.list({ pageSize: 1 });
    await drive.about.get({ fields: '*' });
    const folder = await drive.files.create({ requestBody: { name: 'fidelity-extra', mimeType: 'application/vnd.google-apps.folder' }, fields: '*' });
    await drive.files.update({ fileId: folder.data.id!, requestBody: { trashed: true }, fields: '*' });
    await drive.files.get({ fileId: 'no-such-file' }, { retry: false }).catch(() => undefined);
    await drive.files.list({ pageSize: 5000 }, { retry: false }).catch(() => undefined);
    const tokenClient = new OAuth2Client({ clientId: session.client._clientId, clientSecret: session.client._clientSecret, endpoints: { oauth2TokenUrl: `${proxyUrl}/token` } });
    tokenClient.setCredentials({ refresh_token: session.client.credentials.refresh_token! });
    await tokenClient.refreshAccessToken();
    await fetch(`${proxyUrl}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=dead&client_id=x&client_secret=y' });

    // 3. Check every recorded answer against Google's shape for its route.
    const api = eeApi();
    const drives = driveSchemas();
    // An Operation's `metadata` is a free-form map in the generated class; EE fills it with an OperationMetadata.
    const special = (ctor: unknown, key: string) => (ctor === api.Operation && key === 'metadata' ? api.OperationMetadata : undefined);
    // The checks can fail: an unknown field and a wrong type are caught, nested too.
    expect(checkEe({ name: 'n', done: 'yes', metadata: { state: 'DONE', bogus: 1 } }, api.Operation!, 'op', special)).toHaveLength(2);
    expect(checkDrive({ id: 'i', size: 5, bogus: true }, drives('Schema$File'), 'file')).toHaveLength(2);
    const EE: [string, RegExp, (keyof typeof api) | null][] = [
      ['GET', /^\/v1\/projects\/[^/]+\/algorithms$/, 'ListAlgorithmsResponse'],
      ['POST', /^\/v1\/projects\/[^/]+\/value:compute$/, 'ComputeValueResponse'],
      ['POST', /^\/v1\/projects\/[^/]+\/(image|table):export$/, 'Operation'],
      ['GET', /^\/v1\/projects\/[^/]+\/operations$/, 'ListOperationsResponse'],
      ['GET', /^\/v1\/projects\/[^/]+\/operations\/[^/]+$/, 'Operation'],
      ['POST', /^\/v1\/projects\/[^/]+\/operations\/[^/]+:cancel$/, null],
      ['GET', /^\/v1\/projects\/[^/]+\/assets\/?$/, 'EarthEngineAsset'],
      ['GET', /^\/v1\/projects\/[^/]+(\/assets\/.+)?:listAssets$/, 'ListAssetsResponse'],
      ['GET', /^\/v1\/projects\/[^/]+\/assets\/.+$/, 'EarthEngineAsset'],
    ];
    const DRIVE: [string, RegExp, string | null][] = [
      ['GET', /^\/drive\/v3\/files$/, 'Schema$FileList'],
      ['POST', /^\/drive\/v3\/files$/, 'Schema$File'],
      ['POST', /^\/upload\/drive\/v3\/files$/, 'Schema$File'],
      ['GET', /^\/drive\/v3\/files\/[^/]+$/, 'Schema$File'],
      ['PATCH', /^\/drive\/v3\/files\/[^/]+$/, 'Schema$File'],
      ['DELETE', /^\/drive\/v3\/files\/[^/]+$/, null],
      ['GET', /^\/drive\/v3\/about$/, 'Schema$About'],
    ];
    const TOKEN_FIELDS = new Set(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type', 'id_token', 'refresh_token_expires_in']);
    const problems: Problem[] = [];
    const routes = new Set<string>();
    for (const r of recorded) {
      if (r.path.startsWith('/__emulator/')) continue;
      const where = `${r.method} ${r.path} (${r.status})`;
      const isJson = /json/.test(r.type);
      if (r.method === 'GET' && r.query.get('alt') === 'media') continue; // file bytes
      if (r.path.startsWith('/o/oauth2/') || r.path.startsWith('/oauth2/') || r.path === '/revoke' || r.path.startsWith('/.well-known/')) continue; // redirects, certs, discovery
      if (r.body.length === 0) continue; // 204s
      if (r.path === '/batch') {
        routes.add('POST /batch');
        for (const [k, p] of batchParts(r).entries()) {
          if (p.json === undefined) continue;
          if (p.status >= 400) problems.push(...checkGoogleError(p.json, `${where} part ${k}`, false));
          else if (Object.keys(p.json as object).length) problems.push(...checkEe(p.json, api.Operation!, `${where} part ${k}`, special));
        }
        continue;
      }
      if (!isJson) {
        problems.push(`${where}: not JSON (${r.type})`);
        continue;
      }
      const json = JSON.parse(r.body.toString('utf8')) as unknown;
      if (r.path === '/token') {
        routes.add('POST /token');
        if (r.status >= 400) {
          for (const k of Object.keys(json as object)) if (k !== 'error' && k !== 'error_description') problems.push(`${where}.${k}: not a field of Google's OAuth error`);
        } else {
          for (const [k, v] of Object.entries(json as object)) {
            if (!TOKEN_FIELDS.has(k)) problems.push(`${where}.${k}: not a field of Google's token response`);
            else if ((k === 'expires_in' || k === 'refresh_token_expires_in') !== (typeof v === 'number')) problems.push(`${where}.${k}: wrong type ${typeof v}`);
          }
        }
        continue;
      }
      const drive = r.path.startsWith('/drive/') || r.path.startsWith('/upload/drive/');
      if (r.status >= 400) {
        routes.add(`${r.method} error`);
        problems.push(...checkGoogleError(json, where, drive));
        continue;
      }
      if (drive) {
        const hit = DRIVE.find(([m, re]) => m === r.method && re.test(r.path));
        if (!hit) problems.push(`${where}: no Drive type mapped for this route`);
        else if (hit[2]) {
          routes.add(`${hit[0]} ${hit[2]}`);
          problems.push(...checkDrive(json, drives(hit[2]) as DriveType, where));
        }
      } else {
        const hit = EE.find(([m, re]) => m === r.method && re.test(r.path));
        if (!hit) problems.push(`${where}: no ee.api class mapped for this route`);
        else if (hit[2]) {
          routes.add(`${hit[0]} ${hit[2]}`);
          problems.push(...checkEe(json, api[hit[2]]!, where, special));
        } else if (Object.keys(json as object).length) problems.push(`${where}: expected Empty ({})`);
      }
    }
    expect(problems).toEqual([]);
    // The session reached what it is meant to: each of these shapes was checked at least once.
    expect([...routes].sort()).toEqual(expect.arrayContaining([
      'GET EarthEngineAsset', 'GET ListAlgorithmsResponse', 'GET ListOperationsResponse', 'GET Schema$About', 'GET Schema$File', 'GET Schema$FileList', 'GET error',
      'PATCH Schema$File', 'POST /batch', 'POST /token', 'POST ComputeValueResponse', 'POST Operation', 'POST Schema$File',
    ]));
  });
});
