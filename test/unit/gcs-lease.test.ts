/**
 * The lease object is given back once, at a run's end (docs/cloud-storage.md, "Lease"); Google's client does
 * not retry a delete without a generation precondition, so a lost answer there must not leave the lease.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { leaseStorage } from '../../main/core/gcs/lease';
import type { GcsPort } from '../../main/core/gcs/port';

function flaky(failures: unknown[]): { gcs: GcsPort; calls: () => number } {
  let calls = 0;
  const gcs = {
    remove: async () => {
      const e = failures[calls++];
      if (e) throw e;
    },
  } as unknown as GcsPort;
  return { gcs, calls: () => calls };
}

const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const status = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });

afterEach(() => {
  vi.useRealTimers();
});

describe('the lease object is removed', () => {
  it('after lost answers and a 503 (bounded tries)', async () => {
    vi.useFakeTimers();
    const f = flaky([reset, status(503), reset]);
    const done = leaseStorage(f.gcs, { bucket: 'tiles', folder: 'runs/' }).remove('runs/.tessera-lease-a.json');
    await vi.runAllTimersAsync();
    await expect(done).resolves.toBeUndefined();
    expect(f.calls()).toBe(4);
  });

  it('not retried on a 403, and given up after four lost answers', async () => {
    vi.useFakeTimers();
    const denied = flaky([status(403)]);
    await expect(leaseStorage(denied.gcs, { bucket: 'tiles', folder: '' }).remove('x')).rejects.toThrow('HTTP 403');
    expect(denied.calls()).toBe(1);
    const lost = flaky([reset, reset, reset, reset, reset]);
    const gaveUp = leaseStorage(lost.gcs, { bucket: 'tiles', folder: '' }).remove('x').catch((e: Error) => e);
    await vi.runAllTimersAsync();
    expect(await gaveUp).toBe(reset);
    expect(lost.calls()).toBe(4);
  });
});
