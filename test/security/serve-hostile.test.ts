// `tessera serve` under hostile requests (issue: hostile input and local security): a body above the limit
// gets a 413 the client can read, ids such as __proto__ are unknown ids (404), uploads are private (0600
// files, 0700 folders) without a MaxListeners warning, and custom recipes from the page are refused unless
// serve was started with --allow-custom-recipes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { rectangleJob, type TestJob } from '../helpers/job';
import { serve, type Served } from '../dashboard/helpers';

let emu: EmulatorHandle;
let served: Served | undefined;
let job: TestJob;
let data: string;

beforeAll(async () => {
  emu = await startEmulator({ timeScale: 1000, taskBaseSeconds: 20 });
  job = rectangleJob('hostile', 2, 1);
  data = mkdtempSync(join(tmpdir(), 'tessera-serve-data-'));
  served = await serve([job.file, '--emulator', emu.url, '--data', data]);
}, 60_000);
afterAll(async () => {
  await served?.stop();
  await emu?.stop();
});

/** Sends the whole body, then reads the answer (or the error the connection ended with). */
function post(path: string, contentType: string, body: Buffer, keepAlive = false): Promise<{ status: number; json: unknown } | { error: string }> {
  return new Promise((resolve) => {
    // A connection of its own (a kept-alive one may be closed by the server just as it is reused);
    // `Connection: close` unless keepAlive.
    const req = request(`${served!.origin}${path}`, {
      agent: keepAlive ? new Agent({ keepAlive: true }) : false,
      method: 'POST',
      headers: { Authorization: `Bearer ${served!.token}`, 'Content-Type': contentType, 'Content-Length': String(body.length) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode ?? 0, json: text });
        }
      });
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end(body);
  });
}

const get = (path: string) => fetch(`${served!.origin}${path}`, { headers: { Authorization: `Bearer ${served!.token}` } });

describe('tessera serve under hostile requests', () => {
  it('a JSON body above the limit is answered 413 with a JSON error the client receives', async () => {
    const big = Buffer.from(JSON.stringify({ type: 'pause', job: 'hostile', pad: 'x'.repeat(6 * 1024 * 1024) }));
    for (const path of ['/api/command', '/api/wizard/preview']) {
      for (const keepAlive of [false, true]) {
        const r = await post(path, 'application/json', big, keepAlive);
        expect(r).toMatchObject({ status: 413, json: { error: expect.stringMatching(/larger than 4 MB/) } });
      }
    }
    // The server is still there for the next request.
    expect((await get('/api/snapshot')).status).toBe(200);
  });

  it('an upload above the limit gets its 413 too, and nothing is kept', async () => {
    const big = Buffer.alloc(201 * 1024 * 1024, 0x20);
    for (const keepAlive of [false, true]) {
      const r = await post('/api/wizard/upload?name=big.geojson', 'application/octet-stream', big, keepAlive);
      expect(r).toMatchObject({ status: 413, json: { error: expect.stringMatching(/larger than 200 MB/) } });
    }
    const uploads = join(data, 'uploads');
    expect(existsSync(uploads) ? readdirSync(uploads).filter((n) => n.startsWith('.incoming')) : []).toEqual([]);
  }, 60_000);

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])('tile id %s is an unknown tile: 404', async (id) => {
    const r = await get(`/api/jobs/hostile/tiles/${encodeURIComponent(id)}`);
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: `job hostile has no tile ${id}` });
  });

  it.each(['__proto__', 'constructor'])('job name %s is an unknown job: 404', async (name) => {
    expect((await get(`/api/jobs/${name}/summary`)).status).toBe(404);
    expect((await get(`/api/jobs/${name}/tiles/x1_y1`)).status).toBe(404);
    // A command naming it: refused as a bad job name (400) or an unknown job (404), never a 500.
    const r = await post('/api/command', 'application/json', Buffer.from(JSON.stringify({ type: 'pause', job: name })));
    expect([400, 404]).toContain((r as { status: number }).status);
  });

  it('a big upload (many waits for the disk) causes no MaxListenersExceededWarning', async () => {
    const body = Buffer.alloc(48 * 1024 * 1024, 0x20);
    body.write('{"type":"FeatureCollection","features":[]}');
    const r = await post('/api/wizard/upload?name=area.geojson', 'application/octet-stream', body);
    expect(r).toMatchObject({ status: 200 });
    expect(served!.stderr()).not.toMatch(/MaxListenersExceededWarning/);
  }, 60_000);

  it('uploads are private: files 0600, folders 0700', async () => {
    const r = await post('/api/wizard/upload?name=small.geojson', 'application/octet-stream', Buffer.from('{"type":"FeatureCollection","features":[]}'));
    expect(r).toMatchObject({ status: 200 });
    const path = (r as { json: { path: string } }).json.path;
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(statSync(join(data, 'uploads')).mode & 0o777).toBe(0o700);
  });

  it('custom recipes from the page are refused unless serve was started with --allow-custom-recipes', async () => {
    const up = await post('/api/wizard/upload?name=ndvi.js', 'application/octet-stream', Buffer.from('module.exports = (tile, ee) => ee.Image(1);\n'));
    expect(up).toMatchObject({ status: 403, json: { error: expect.stringMatching(/--allow-custom-recipes/) } });
    const recipe = join(job.dir, 'mine.js');
    writeFileSync(recipe, 'module.exports = (tile, ee) => ee.Image(1);\n');
    const check = await post('/api/wizard/recipe-check', 'application/json', Buffer.from(JSON.stringify({ recipe: { file: recipe }, roi: { path: join(job.dir, 'area.geojson') }, grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 128 } })));
    expect(check).toMatchObject({ status: 200, json: { ok: false, message: expect.stringMatching(/--allow-custom-recipes/) } });
    const created = await post('/api/wizard/jobs', 'application/json', Buffer.from(JSON.stringify({
      file: join(job.dir, 'new.json'), start: false,
      job: { name: 'newjob', roi: { path: join(job.dir, 'area.geojson') }, grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 128 }, recipe: { file: recipe }, drive: { folder: 'x' }, output: join(job.dir, 'o2') },
    })));
    expect(created).toMatchObject({ status: 403, json: { error: expect.stringMatching(/--allow-custom-recipes/) } });
    expect(readdirSync(job.dir)).not.toContain('new.json');
  });

  it('with --allow-custom-recipes a recipe file can be uploaded', async () => {
    const other = await serve(['--emulator', emu.url, '--data', data, '--allow-custom-recipes']);
    try {
      const r = await fetch(`${other.origin}/api/wizard/upload?name=ndvi.js`, {
        method: 'POST', headers: { Authorization: `Bearer ${other.token}`, 'Content-Type': 'application/octet-stream' }, body: 'module.exports = (tile, ee) => ee.Image(1);\n',
      });
      expect(r.status).toBe(200);
      expect(statSync(((await r.json()) as { path: string }).path).mode & 0o777).toBe(0o600);
    } finally {
      await other.stop();
    }
  }, 60_000);
});
