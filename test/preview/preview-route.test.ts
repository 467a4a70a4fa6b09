import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardServer, type DashboardHost, type DashboardServer } from '../../main/server/server';
import { writeGeoTiff } from '../../main/emulator/geotiff/writer';
import type { StreamMessage, TileDetail } from '../../shared/dashboard';
import { until } from '../dashboard/helpers';

const JOB = 'ts';
const NOW = '2026-01-02T03:04:05.000Z';

/**
 * `tessera serve`'s preview route over a host with one 2-period job whose units finish on the stream:
 * the quicklook is made after `done` (never by the request), served base64 with the token only, and a
 * name that is not a unit id never reaches the disk.
 */
describe('the preview route', () => {
  let server: DashboardServer;
  const root = mkdtempSync(join(tmpdir(), 'tessera-preview-route-'));
  const stateDir = join(root, '.tessera', JOB);
  const output = join(root, 'out');
  const listeners = new Set<(m: StreamMessage) => void>();
  const done = new Set<string>();
  let seq = 0;
  const detail = (id: string): TileDetail => {
    const [period, tile] = id.split('@');
    if (!tile || !['2021', '2022'].includes(period!) || tile !== 'x0_y0') throw Object.assign(new Error(`no tile ${id}`), { status: 404 });
    const finished = done.has(id);
    return {
      job: JOB, id, crs: 'EPSG:32632', crsTransform: [10, 0, 500_000, 0, -10, 5_400_000], dimensions: [300, 200], state: finished ? 'done' : 'running', attempt: 1, retriesUsed: 0,
      description: null, operation: null, error: null, eecuSeconds: null, notBefore: null, history: [],
      files: finished ? [{ id: 'f', name: `${JOB}_x0_y0_${period}.tif`, size: 1, md5: '0'.repeat(32), verified: true, cleaned: true }] : [], ring: [],
    };
  };
  const host: DashboardHost = {
    snapshot: () => ({ seq, jobs: [] }),
    summary: () => {
      throw new Error('unused');
    },
    tile: (_job, id) => detail(id),
    command: async () => ({ ok: true }),
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    position: () => seq,
    jobOf: (name) => {
      if (name !== JOB) throw Object.assign(new Error(`no job named ${name}`), { status: 404 });
      return { name, stateDir, output };
    },
  };
  const finish = (id: string) => {
    done.add(id);
    const m: StreamMessage = { kind: 'event', seq: ++seq, event: { type: 'tile-state', job: JOB, tile: id, state: 'done', attempt: 1, at: NOW } };
    for (const l of listeners) l(m);
  };
  const auth = { Authorization: 'Bearer T0KEN' };
  const get = (path: string, headers: Record<string, string> = auth) => fetch(`${server.url}${path}`, { headers });

  beforeAll(async () => {
    for (const period of ['2021', '2022']) {
      mkdirSync(join(output, period), { recursive: true });
      await writeGeoTiff(
        join(output, period, `${JOB}_x0_y0_${period}.tif`),
        { width: 300, height: 200, bands: [{ name: 'b', dataType: 'UInt8' }], crs: 'EPSG:32632', crsTransform: [10, 0, 500_000, 0, -10, 5_400_000], noData: 0 },
        (_b, x) => (x < 500_500 ? 0 : 10 + ((x - 500_000) / 10) % 200),
      );
    }
    const dir = mkdtempSync(join(tmpdir(), 'tessera-renderer-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    server = await startDashboardServer({ host, rendererDir: dir, token: 'T0KEN', heartbeatMs: 1000 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers the quicklook of a finished unit, made after it finished', async () => {
    const before = await get(`/api/jobs/${JOB}/previews/2021@x0_y0`);
    expect(before.status).toBe(200);
    expect(await before.json()).toEqual({ unit: '2021@x0_y0', png: null });
    finish('2021@x0_y0');
    const answer = await until(async () => {
      const r = (await (await get(`/api/jobs/${JOB}/previews/2021%40x0_y0`)).json()) as { png: string | null };
      return r.png;
    }, 10_000, 50, 'the quicklook');
    const png = decode(Buffer.from(answer, 'base64'));
    expect([png.width, png.height]).toEqual([256, 171]);
    expect(png.data[3]).toBe(0); // the western nodata strip is transparent
    expect(png.data[(50 * 256 + 200) * 4 + 3]).toBe(255);
  });

  it('needs the token, and refuses names that are not unit ids before reading anything', async () => {
    expect((await get(`/api/jobs/${JOB}/previews/2021@x0_y0`, {})).status).toBe(401);
    for (const bad of ['..%2F..%2Fetc', '2021@..%2Fx', 'a%2Fb', '%2E%2E']) {
      // 400 (not a unit id) or 404 (a path that matches no route once decoded): never an answer.
      expect([400, 404]).toContain((await get(`/api/jobs/${JOB}/previews/${bad}`)).status);
    }
    expect((await get(`/api/jobs/nope/previews/x0_y0`)).status).toBe(404);
  });
});
