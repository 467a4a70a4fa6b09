/**
 * Direct download's standalone parts (docs/direct-download.md): the AIMD concurrency limiter on a fake
 * clock, the request-size estimate and pre-split, failure classification, and the job keys.
 */
import { describe, expect, it } from 'vitest';
import { AimdLimiter, type Permit } from '../../main/core/direct/limiter';
import { directRequests, overLimit, requestBytes, splitsNeeded, REQUEST_MAX_BYTES } from '../../main/core/direct/limits';
import { classifyDirectFailure, DirectRequestError } from '../../main/core/direct/failures';
import { classifyTaskFailure } from '../../main/core/engine/failures';
import { parseJob } from '../../main/core/job/job-file';
import { UserError } from '../../main/core/errors';
import type { Clock } from '../../main/core/ports/clock';

class FakeClock implements Clock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += ms;
  }
  fromGoogle(ms: number): number {
    return ms;
  }
}

function limiter(max = 8): { l: AimdLimiter; clock: FakeClock } {
  const clock = new FakeClock();
  return { l: new AimdLimiter({ max, clock, backoffMs: 1000, maxBackoffMs: 60_000 }), clock };
}

function take(l: AimdLimiter, n: number): Permit[] {
  const out: Permit[] = [];
  for (let i = 0; i < n; i++) {
    const p = l.tryAcquire();
    if (!p) break;
    out.push(p);
  }
  return out;
}

describe('AIMD concurrency limiter', () => {
  it('starts at the configured concurrency and never lets more requests out', () => {
    const { l } = limiter(8);
    expect(take(l, 20)).toHaveLength(8);
    expect(l.tryAcquire()).toBeUndefined();
  });

  it('halves on a 429 once per round trip, and holds new requests back for a back-off that doubles', () => {
    const { l, clock } = limiter(8);
    const first = take(l, 8);
    // Every request of the window is answered 429: only the first cut counts.
    for (const p of first) l.release(p, 'throttled');
    expect(l.limit).toBe(4);
    expect(l.tryAcquire()).toBeUndefined(); // backing off
    expect(l.heldUntil).toBe(clock.now() + 1000);
    clock.t += 1000;
    const second = take(l, 8);
    expect(second).toHaveLength(4);
    l.release(second[0]!, 'throttled');
    expect(l.limit).toBe(2);
    expect(l.heldUntil).toBe(clock.now() + 2000); // a 429 in a row: twice as long
    for (const p of second.slice(1)) l.release(p, 'throttled'); // sent before the second cut
    expect(l.limit).toBe(2);
  });

  it('never goes below one request', () => {
    const { l, clock } = limiter(2);
    for (let i = 0; i < 5; i++) {
      clock.t += 120_000;
      const p = l.tryAcquire()!;
      l.release(p, 'throttled');
    }
    expect(l.limit).toBe(1);
    clock.t += 120_000;
    expect(l.tryAcquire()).toBeDefined();
  });

  it('grows by one per `limit` successes back up to the ceiling, never above it', () => {
    const { l, clock } = limiter(6);
    l.release(l.tryAcquire()!, 'throttled');
    expect(l.limit).toBe(3);
    clock.t += 1000;
    const grow = (): void => {
      for (let i = 0; i < l.limit; i++) l.release(l.tryAcquire()!, 'ok');
    };
    grow();
    expect(l.limit).toBe(4);
    grow();
    grow();
    expect(l.limit).toBe(6);
    grow();
    grow();
    expect(l.limit).toBe(6);
  });

  it('does not change on other failures', () => {
    const { l } = limiter(4);
    for (const p of take(l, 4)) l.release(p, 'other');
    expect(l.limit).toBe(4);
    expect(take(l, 10)).toHaveLength(4);
  });
});

describe('request size estimate and pre-split', () => {
  const shape = { bands: 4, bytesPerPixel: 32 }; // 4 × Float64: 36 bytes a pixel with the mask bytes

  it('counts pixels × (bytes of each band + a mask byte)', () => {
    expect(requestBytes([256, 256], shape)).toBe(256 * 256 * 36);
    expect(overLimit([1024, 1024], shape)).toBeUndefined();
    expect(overLimit([2048, 2048], shape)).toBe(`Total request size (${2048 * 2048 * 36} bytes, estimated before sending) must be less than or equal to ${REQUEST_MAX_BYTES} bytes.`);
  });

  it('splits an oversized tile into §2 children until each fits, and the failure policy splits on the message', () => {
    const tile = { id: 'x1_y2', crs: 'EPSG:32632', crsTransform: [10, 0, 20480, 0, -10, 61440] as [number, number, number, number, number, number], dimensions: [3000, 3000] as [number, number] };
    const roi = [[[[0, 0], [1e6, 0], [1e6, 1e6], [0, 1e6], [0, 0]]]] as unknown as Parameters<typeof directRequests>[2];
    const parts = directRequests(tile, shape, roi);
    expect(parts.map((p) => p.id)).toEqual(['q0', 'q1', 'q2', 'q3'].flatMap((a) => ['q0', 'q1', 'q2', 'q3'].map((b) => `x1_y2_${a}_${b}`)));
    expect(parts.every((p) => !overLimit(p.dimensions, shape))).toBe(true);
    expect(parts.reduce((s, p) => s + p.dimensions[0] * p.dimensions[1], 0)).toBe(3000 * 3000);
    expect(splitsNeeded(3000, shape)).toBe(2);
    expect(classifyTaskFailure(overLimit(tile.dimensions, shape)!)).toBe('split');
    expect(classifyTaskFailure('Total request size (56623104 bytes) must be less than or equal to 50331648 bytes.')).toBe('split');
  });
});

describe('direct failure classes', () => {
  const e = (status: number | null, message: string) => new DirectRequestError(message, status);
  it('tells computation limits, throttling, lost answers and request errors apart', () => {
    expect(classifyDirectFailure(e(400, 'Computation timed out.'))).toBe('computation-limit');
    expect(classifyDirectFailure(e(400, 'User memory limit exceeded.'))).toBe('computation-limit');
    expect(classifyDirectFailure(e(400, 'Total request size (1 bytes) must be less than or equal to 0 bytes.'))).toBe('too-large');
    expect(classifyDirectFailure(e(429, 'Too many concurrent requests'))).toBe('throttled');
    expect(classifyDirectFailure(e(null, 'computePixels got no answer: fetch failed'))).toBe('lost');
    expect(classifyDirectFailure(e(503, 'The service is currently unavailable.'))).toBe('lost');
    expect(classifyDirectFailure(e(401, 'Request had invalid authentication credentials.'))).toBe('signed-out');
    expect(classifyDirectFailure(e(400, "Image.select: Pattern 'x' did not match any bands."))).toBe('permanent');
  });
});

describe('job keys mode and direct', () => {
  const base = { name: 'j', roi: 'a.geojson', grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 256 }, drive: { folder: 'f' }, output: 'out' };
  const load = (extra: Record<string, unknown>) => parseJob({ ...base, ...extra }, '/tmp/job.json');

  it('defaults to export; direct and auto get a concurrency of 8 and as many tiles in flight', () => {
    expect(load({}).mode).toBe('export');
    const d = load({ mode: 'direct' });
    expect(d.direct).toEqual({ concurrency: 8 });
    expect(d.maxInFlight).toBe(8);
    expect(load({ mode: 'auto', direct: { concurrency: 20 }, maxInFlight: 3 })).toMatchObject({ mode: 'auto', direct: { concurrency: 20 }, maxInFlight: 3 });
  });

  it('refuses bad values with one line naming the key', () => {
    expect(() => load({ mode: 'fast' })).toThrow(/"mode": .*"export", "direct" or "auto"/);
    expect(() => load({ mode: 'direct', direct: { concurrency: 41 } })).toThrow(/direct.concurrency must be at most 40/);
    expect(() => load({ mode: 'direct', direct: { concurency: 4 } })).toThrow(/unknown key "direct.concurency"/);
    expect(() => load({ direct: { concurrency: 4 } })).toThrow('job file: "direct" goes with "mode": "direct" or "auto"');
    expect(() => load({ mode: 'direct', drive: undefined, destination: { type: 'asset', folder: 'projects/p/assets/t' } })).toThrow(/cannot fill an asset folder/);
    expect(() => load({ mode: 'fast' })).toThrow(UserError);
  });
});
