/**
 * image:computePixels on the emulator (docs/emulator.md#computepixels), driven by the unmodified
 * `@google/earthengine` client: its generated `ee.api.ComputePixelsRequest` is sent through its generated
 * `ee.api.ProjectsImageApiClientImpl` (1.7.x has no `ee.data.computePixels`). The client's own request
 * service cannot hand back binary bodies, so the request service here is a small fetch transport, as in
 * main/core/direct/ee-pixels.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../main/emulator';
import { DEFAULTS, OPTION_SPECS } from '../../main/emulator';
import { startEmulatorWithEe, type Ee } from './google-clients';

const PROJECT = 'tessera-test';
const ROUTE = 'POST /v1/projects/{project}/image:computePixels';

interface EeApi {
  api: Record<string, new (p: Record<string, unknown>) => unknown>;
  apiclient: { VERSION: string; PromiseRequestService: new () => object };
  Serializer: { encodeCloudApiExpression(o: unknown): unknown };
  Image: { constant(v: number[]): { toFloat(): { rename(n: string[]): unknown } } };
}

let emu: EmulatorHandle;
let ee: EeApi;
let token: string;
const scratch = mkdtempSync(path.join(tmpdir(), 'tessera-cp-'));

beforeAll(async () => {
  const started = await startEmulatorWithEe<Ee>({ project: PROJECT }, PROJECT);
  emu = started.emu;
  ee = started.ee as unknown as EeApi;
  token = (await started.client.getAccessToken()).token as string;
});
afterAll(async () => {
  await emu.stop();
  rmSync(scratch, { recursive: true, force: true });
});

class HttpError extends Error {
  constructor(readonly status: number, readonly body: { error?: { message?: string; status?: string } }) {
    super(`${status} ${body.error?.message ?? ''}`);
  }
}

/** Sends what the generated client builds; resolves with the raw body. */
function computePixels(grid: { width: number; height: number; transform: number[]; crs: string }, bandIds?: string[]): Promise<Buffer> {
  const { api, apiclient, Serializer } = ee;
  const image = ee.Image.constant([1, 2]).toFloat().rename(['a', 'b']);
  const [scaleX, shearX, translateX, shearY, scaleY, translateY] = grid.transform;
  const request = new api.ComputePixelsRequest!({
    expression: Serializer.encodeCloudApiExpression(image),
    fileFormat: 'GEO_TIFF',
    ...(bandIds ? { bandIds } : {}),
    grid: new api.PixelGrid!({
      dimensions: new api.GridDimensions!({ width: grid.width, height: grid.height }),
      affineTransform: new api.AffineTransform!({ scaleX, shearX, translateX, shearY, scaleY, translateY }),
      crsCode: grid.crs,
    }),
  });
  class Bytes extends apiclient.PromiseRequestService {
    async send(params: { path: string; httpMethod: string; body: unknown }): Promise<Buffer> {
      const res = await fetch(`${emu.url}${params.path}`, {
        method: params.httpMethod,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(params.body),
      });
      const bytes = Buffer.from(await res.arrayBuffer());
      if (!res.ok) throw new HttpError(res.status, JSON.parse(bytes.toString('utf8')) as HttpError['body']);
      return bytes;
    }
    makeRequest(): void {}
  }
  const images = new (api.ProjectsImageApiClientImpl as unknown as new (v: string, s: object) => { computePixels(p: string, r: unknown): Promise<Buffer> })(apiclient.VERSION, new Bytes());
  return images.computePixels(`projects/${PROJECT}`, request);
}

function gdalinfo(bytes: Buffer, name: string): { size: number[]; geoTransform: number[]; bands: { type: string; description?: string }[]; coordinateSystem: { wkt: string } } {
  const p = path.join(scratch, name);
  writeFileSync(p, bytes);
  return JSON.parse(execFileSync('gdalinfo', ['-json', p], { encoding: 'utf8' })) as ReturnType<typeof gdalinfo>;
}

const GRID = { width: 300, height: 200, transform: [10, 0, 500000, 0, -10, 5000000], crs: 'EPSG:32632' };

describe('image:computePixels', () => {
  it('answers a GeoTIFF with exactly the requested grid, and counts the route', async () => {
    const before = emu.state().requests[ROUTE] ?? 0;
    const bytes = await computePixels(GRID);
    const info = gdalinfo(bytes, 'grid.tif');
    expect(info.size).toEqual([300, 200]);
    expect(info.geoTransform).toEqual([500000, 10, 0, 5000000, 0, -10]);
    expect(info.bands.map((b) => b.type)).toEqual(['Float32', 'Float32']);
    expect(info.coordinateSystem.wkt).toMatch(/ID\["EPSG",32632\]\]$/);
    expect(emu.state().requests[ROUTE]).toBe(before + 1);
  });

  it('returns only the bands asked for in bandIds, and refuses an unknown one', async () => {
    expect(gdalinfo(await computePixels(GRID, ['b']), 'band.tif').bands).toHaveLength(1);
    await expect(computePixels(GRID, ['nope'])).rejects.toThrow(/400 Image.select: Pattern 'nope' did not match any bands/);
  });

  it('refuses a request above computeMaxBytes with Google\'s wording', async () => {
    // 300 × 200 pixels × 2 bands × (4 bytes + 1 mask byte) = 600000 bytes.
    emu.configure({ computeMaxBytes: 599_999 });
    try {
      const e = await computePixels(GRID).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(HttpError);
      expect((e as HttpError).status).toBe(400);
      expect((e as HttpError).body.error?.message).toBe('Total request size (600000 bytes) must be less than or equal to 599999 bytes.');
      emu.configure({ computeMaxBytes: 600_000 });
      await expect(computePixels(GRID)).resolves.toBeInstanceOf(Buffer);
    } finally {
      emu.configure({ computeMaxBytes: DEFAULTS.computeMaxBytes });
    }
  });

  it('refuses grids wider than 32768 pixels', async () => {
    await expect(computePixels({ ...GRID, width: 32769, height: 1 })).rejects.toThrow('400 Pixel grid dimensions (32769x1) must be less than or equal to 32768.');
  });

  it('answers 429 RESOURCE_EXHAUSTED above computeConcurrency, and takes pixels / computePixelsPerSecond real time', async () => {
    // 60000 pixels at 150000 px/s: each request computes 400 ms.
    emu.configure({ computeConcurrency: 2, computePixelsPerSecond: 150_000 });
    try {
      const t0 = Date.now();
      const results = await Promise.allSettled([computePixels(GRID), computePixels(GRID), computePixels(GRID)]);
      const elapsed = Date.now() - t0;
      const refused = results.filter((r) => r.status === 'rejected');
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      expect(refused).toHaveLength(1);
      const e = (refused[0] as PromiseRejectedResult).reason as HttpError;
      expect(e.status).toBe(429);
      expect(e.body.error?.status).toBe('RESOURCE_EXHAUSTED');
      expect(elapsed).toBeGreaterThanOrEqual(390);
      // The slots are free again once the answers are in.
      await expect(computePixels(GRID)).resolves.toBeInstanceOf(Buffer);
    } finally {
      emu.configure({ computeConcurrency: DEFAULTS.computeConcurrency, computePixelsPerSecond: DEFAULTS.computePixelsPerSecond });
    }
  });

  it('fails a request above computeTimeoutPixels as EE\'s interactive timeout (400, the timeout message)', async () => {
    emu.configure({ computeTimeoutPixels: 59_999 });
    try {
      const e = (await computePixels(GRID).catch((x: unknown) => x)) as HttpError;
      expect(e.status).toBe(400);
      expect(e.body.error?.message).toBe('Computation timed out.');
      emu.configure({ timeoutMessage: 'Deadline expired before operation could complete.' });
      await expect(computePixels(GRID)).rejects.toThrow('Deadline expired before operation could complete.');
      emu.configure({ computeTimeoutPixels: 60_000 });
      await expect(computePixels(GRID)).resolves.toBeInstanceOf(Buffer);
    } finally {
      emu.configure({ computeTimeoutPixels: null, timeoutMessage: DEFAULTS.timeoutMessage });
    }
  });

  it('has the §11 options with their defaults and flags', () => {
    expect(DEFAULTS).toMatchObject({ computeMaxBytes: 50331648, computeConcurrency: 40, computePixelsPerSecond: 2000000, computeTimeoutPixels: null });
    expect(OPTION_SPECS.filter((s) => s.key.startsWith('compute')).map((s) => s.flag)).toEqual(['--compute-max-bytes', '--compute-concurrency', '--compute-pixels-per-second', '--compute-timeout-pixels']);
  });
});
