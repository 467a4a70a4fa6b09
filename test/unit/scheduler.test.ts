import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { EngineEvent } from '../../shared/contract';
import { loadJobFile } from '../../main/core/job/job-file';
import { UserError } from '../../main/core/errors';
import { JobRunner } from '../../main/core/engine/runner';
import { Pace } from '../../main/core/engine/pace';
import type { DrivePort } from '../../main/core/ports/drive';
import { scaledClock } from '../../main/core/ports/clock';
import { rectangleJob } from '../helpers/job';
import { SimClock } from './support/sim-clock';
import { SimEarthEngine, type AttemptScript } from './support/sim-earth-engine';
import { SimStore } from './support/sim-store';

/**
 * The scheduler driven through hours of simulated time with fake ports (ports/clock.ts): an asset job, so
 * nothing touches Drive or the disk beyond the job's folder; each test runs in milliseconds.
 */
const MIN = 60_000;
const HOUR = 60 * MIN;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const noDrive = new Proxy({}, { get: () => () => Promise.reject(new Error('an asset job never calls Drive')) }) as DrivePort;

/** `scale`: Earth Engine is an emulator whose clock runs that many times faster than the run's. */
async function simulate(cols: number, rows: number, extra: Record<string, unknown>, script?: (description: string) => AttemptScript, setup?: (ee: SimEarthEngine, clock: SimClock) => void, scale = 1) {
  const t = rectangleJob('sim', cols, rows, { drive: undefined, destination: { type: 'asset', folder: 'projects/p/assets/sim' }, poll: { minSeconds: 5, maxSeconds: 60 }, ...extra });
  dirs.push(t.dir);
  const job = await loadJobFile(t.file);
  const clock = new SimClock();
  const ee = new SimEarthEngine(scale === 1 ? clock : clock.emulated(scale), script);
  setup?.(ee, clock);
  const store = new SimStore(clock);
  const events: EngineEvent[] = [];
  const abort = new AbortController();
  const runner = new JobRunner(job, store, ee, noDrive, { clock: scaledClock(clock, scale), signal: abort.signal, bytesPerPixel: 4, onEvent: (e) => events.push(e) });
  const start = clock.now();
  const realStart = performance.now();
  const outcome = await runner.run();
  return { outcome, ee, clock, store, events, simulatedMs: clock.since(start), realMs: performance.now() - realStart, states: (id: string) => store.state.tiles[id]!.history.map((h) => h.state) };
}

/** The attempt number of an export's description (`…_a<attempt>`). */
const attemptOf = (description: string) => Number(/_a(\d+)$/.exec(description)?.[1]);

describe('the scheduler over simulated time', () => {
  it('runs 24 tiles of 40-minute tasks to the end, never more than maxInFlight at once, in milliseconds', async () => {
    const r = await simulate(6, 4, { maxInFlight: 4 }, () => ({ runMs: 40 * MIN }));
    expect(r.outcome.exitCode).toBe(0);
    expect(r.outcome.progress.tiles.done).toBe(24);
    expect(r.ee.tasks).toHaveLength(24);
    for (const t of r.ee.tasks) expect(r.ee.runningAt(t.sentAt)).toBeLessThanOrEqual(4);
    // 6 waves of 40 minutes: at least 4 simulated hours, well under a second of real time.
    expect(r.simulatedMs).toBeGreaterThanOrEqual(4 * HOUR);
    expect(r.simulatedMs).toBeLessThan(6 * HOUR);
    expect(r.realMs).toBeLessThan(5_000);
  });

  it('polls a time-scaled emulator at the same cadence in its time as Google in real time', async () => {
    const script = (d: string) => (unitOf(d).endsWith('_1') ? { runMs: 50 * MIN } : { runMs: 40 * MIN });
    const google = await simulate(4, 2, { maxInFlight: 4 }, script);
    const emulator = await simulate(4, 2, { maxInFlight: 4 }, script, undefined, 64);
    expect(emulator.outcome.exitCode).toBe(0);
    expect(emulator.outcome.progress.tiles.done).toBe(8);
    // The same reads, and the same run in the emulator's time: each wait is 1/64 of Google's.
    expect(emulator.ee.calls).toEqual(google.ee.calls);
    expect(emulator.ee.tasks.map((t) => t.sentAt - emulator.ee.tasks[0]!.sentAt)).toEqual(google.ee.tasks.map((t) => t.sentAt - google.ee.tasks[0]!.sentAt));
    expect(emulator.clock.sleeps.map((ms) => ms * 64)).toEqual(google.clock.sleeps);
    expect(emulator.simulatedMs * 64).toBe(google.simulatedMs);
  });

  it('polls sparsely while long tasks run: far fewer reads than minute-by-minute', async () => {
    const r = await simulate(2, 2, { maxInFlight: 4 }, () => ({ runMs: 3 * HOUR }));
    expect(r.outcome.exitCode).toBe(0);
    // 3 hours at poll.maxSeconds (60 s) would be 180 reads; the poll policy learns nothing before the first
    // end, so it reads at most every poll.maxSeconds — never more often.
    expect(r.ee.calls.getOperations + r.ee.calls.listOperations).toBeLessThanOrEqual(3 * 60 + 10);
    expect(Math.max(...r.clock.sleeps)).toBeLessThanOrEqual(60_000);
  });

  it('retries a transient failure after an exponential back-off, then gives up after `retries`', async () => {
    let doomed: string | undefined;
    const r = await simulate(2, 1, { maxInFlight: 2, retries: 2 }, (d) => {
      doomed ??= unitOf(d); // the first tile sent
      return unitOf(d) === doomed ? { runMs: MIN, fails: 'Internal error.' } : { runMs: MIN };
    });
    // Every attempt of the first tile fails: 1 + 2 retries, then failed naming the retries.
    const first = r.store.state.tiles[doomed!]!;
    expect(first.state).toBe('failed');
    expect(first.error).toBe('Internal error. (after 2 retries)');
    expect(first.retriesUsed).toBe(2);
    const other = Object.keys(r.store.state.tiles).find((id) => id !== doomed)!;
    expect(r.store.state.tiles[other]!.state).toBe('done');
    // Each retry waits its back-off (30 s × 2^(n-1), jitter 0.5–1.5×) after the failure was seen.
    const sends = r.ee.tasks.filter((t) => unitOf(t.description) === doomed).map((t) => t.sentAt);
    expect(sends).toHaveLength(3);
    expect(sends[1]! - (sends[0]! + MIN)).toBeGreaterThanOrEqual(15_000);
    expect(sends[2]! - (sends[1]! + MIN)).toBeGreaterThanOrEqual(30_000);
    expect(r.outcome.exitCode).toBe(2);
  });

  it('splits a tile that timed out into four, and fails one that still times out at splitDepth', async () => {
    const r = await simulate(1, 1, { maxInFlight: 4, splitDepth: 1 }, (d) => {
      // The whole tile and one quarter time out; the other quarters succeed.
      const id = unitOf(d);
      return id.split('_').length === 2 || id.endsWith('_q0') ? { runMs: 20 * MIN, fails: 'Computation timed out.' } : { runMs: 10 * MIN };
    });
    const ids = Object.keys(r.store.state.tiles);
    const parent = ids.find((id) => id.split('_').length === 2)!;
    expect(r.store.state.tiles[parent]!.state).toBe('split');
    const children = ids.filter((id) => id !== parent);
    expect(children).toHaveLength(4);
    const q0 = children.find((id) => id.endsWith('_q0'))!;
    expect(r.store.state.tiles[q0]!.state).toBe('failed');
    expect(r.store.state.tiles[q0]!.error).toBe('Computation timed out. (split 1 times already; splitDepth is 1)');
    for (const c of children.filter((id) => id !== q0)) expect(r.store.state.tiles[c]!.state).toBe('done');
    // A split is not a retry: no retry was used, and each child was sent once.
    expect(r.ee.tasks.filter((t) => attemptOf(t.description) > 1)).toHaveLength(0);
    expect(r.outcome.exitCode).toBe(2);
  });

  it('holds tiles back while the asset quota is full and sends them once room appears, without using retries', async () => {
    const r = await simulate(4, 1, { maxInFlight: 4 }, () => ({ runMs: 10 * MIN }), (ee, clock) => {
      ee.maxAssets = 30;
      ee.otherAssets = 28; // room for two
      const start = clock.now();
      // Someone deletes 10 of their assets two hours in.
      const quota = ee.assetQuota.bind(ee);
      ee.assetQuota = async () => {
        if (clock.now() - start >= 2 * HOUR) ee.otherAssets = 18;
        return quota();
      };
    });
    expect(r.outcome.exitCode).toBe(0);
    const sent = r.ee.tasks.map((t) => t.sentAt - r.ee.tasks[0]!.sentAt).sort((a, b) => a - b);
    expect(sent.slice(0, 2).every((s) => s < MIN)).toBe(true);
    expect(sent.slice(2).every((s) => s >= 2 * HOUR)).toBe(true);
    expect(r.events.some((e) => e.type === 'log' && e.message === 'waiting: asset-quota')).toBe(true);
    expect(Object.values(r.store.state.tiles).every((t) => (t.retriesUsed ?? 0) === 0 && t.attempt === 1)).toBe(true);
  });

  it('stops at once, naming the limit, when the job alone can never fit in the asset quota', async () => {
    const r = await simulate(4, 2, { maxInFlight: 4 }, () => ({ runMs: 10 * MIN }), (ee) => {
      ee.maxAssets = 5;
    });
    expect(r.outcome.exitCode).toBe(3);
    expect(r.outcome.needsUser?.reason).toBe('asset-quota');
    expect(r.outcome.needsUser?.message).toMatch(/allows 5 assets, but this job alone needs 8 \(8 tile assets\)/);
    expect(r.ee.tasks).toHaveLength(0);
  });

  it('waits out an hour without network with a bounded back-off, then finishes; no tile loses an attempt', async () => {
    const r = await simulate(2, 1, { maxInFlight: 2 }, () => ({ runMs: 30 * MIN }), (ee, clock) => {
      const start = clock.now();
      // The network is gone for every read of operations: single reads and the heartbeat's list page.
      const gone = () => {
        const t = clock.now() - start;
        ee.offline = t >= 5 * MIN && t < 65 * MIN;
      };
      const get = ee.getOperations.bind(ee);
      const list = ee.listOperations.bind(ee);
      ee.getOperations = async (names) => (gone(), get(names));
      ee.listOperations = async () => (gone(), list());
    });
    expect(r.outcome.exitCode).toBe(0);
    const logs = r.events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
    expect(logs.filter((m) => m.startsWith('offline:'))).toHaveLength(1);
    expect(logs).toContain('back online');
    expect(logs).toContain('waiting: offline');
    // Doubling from poll.minSeconds, capped at poll.maxSeconds: never a busy loop, never a long silence.
    expect(Math.max(...r.clock.sleeps)).toBeLessThanOrEqual(60_000);
    expect(r.ee.calls.getOperations + r.ee.calls.listOperations).toBeLessThan(120);
    expect(Object.values(r.store.state.tiles).every((t) => t.attempt === 1 && (t.retriesUsed ?? 0) === 0)).toBe(true);
  });

  it('ends the run on a bad-input error from a step instead of retrying it every cycle; stops for the user on exit 3', async () => {
    // Tessera's own errors carry an HTTP-like status (400) for the dashboard: they are not Google hiccups.
    const bad = simulate(2, 1, {}, undefined, (ee) => {
      ee.getOperations = () => Promise.reject(new UserError('the job file changed under the run'));
    });
    await expect(bad).rejects.toThrow('the job file changed under the run');
    const locked = await simulate(2, 1, {}, undefined, (ee) => {
      ee.getOperations = () => Promise.reject(new UserError('another machine drives this job', 3, 'locked'));
    });
    expect(locked.outcome.exitCode).toBe(3);
    expect(locked.events.some((e) => e.type === 'log' && e.message.includes('another machine drives this job'))).toBe(true);
  });

  it('stops needing the user when the EECU budget would be exceeded and nothing running can change that', async () => {
    const r = await simulate(4, 2, { maxInFlight: 2, eecuBudgetHours: 0.1 }, () => ({ runMs: 5 * MIN }));
    expect(r.outcome.exitCode).toBe(3);
    expect(r.outcome.needsUser?.reason).toBe('budget');
    expect(r.outcome.needsUser?.message).toBe('the EECU budget of 0.1 h would be exceeded by the next tile; raise eecuBudgetHours to go on');
    // 0.1 h = 360 EECU-seconds; each tile costs 300: the first wave (2 tiles) runs, no more.
    expect(r.ee.tasks).toHaveLength(2);
  });
});

describe('the loop pace (Pace)', () => {
  const clock = new SimClock(0);
  const pace = () => new Pace({ clock, minSeconds: 5, maxSeconds: 60, scaledMs: (s) => s * 1000 });

  it('grows the interval ×1.5 while nothing changes, up to poll.maxSeconds, and drops back after a change', () => {
    const p = pace();
    const far = clock.now() + 10 * HOUR;
    const seq = [false, false, false, false, false, false, false, false].map((c) => p.nextSleepMs(c, far));
    expect(seq).toEqual([7500, 11250, 16875, 25312.5, 37968.75, 56953.125, 60000, 60000]);
    expect(p.nextSleepMs(true, far)).toBe(5000);
  });

  it('wakes for a due poll, but never sooner than poll.minSeconds', () => {
    const p = pace();
    expect(p.nextSleepMs(false, clock.now() + 8000)).toBe(7500);
    expect(p.nextSleepMs(false, clock.now() + 1000)).toBe(5000);
  });

  it('backs off offline from poll.minSeconds doubling to poll.maxSeconds, and says so once', async () => {
    const p = pace();
    expect(p.offline()).toBe(true);
    await clock.sleep(4_900);
    expect(p.holding()).toBe(true); // the first back-off is poll.minSeconds
    await clock.sleep(200);
    expect(p.holding()).toBe(false);
    const firsts = Array.from({ length: 5 }, () => p.offline());
    expect(firsts).toEqual([false, false, false, false, false]);
    expect(p.holding()).toBe(true);
    await clock.sleep(60_100);
    expect(p.holding()).toBe(false); // 5 × 2^5 = 160 s, capped at poll.maxSeconds
    p.offline();
    // Sixth failure: 5 × 2^5 = 160 s, capped at 60 s; the sleep honours the back-off up to poll.maxSeconds.
    expect(p.nextSleepMs(true, clock.now())).toBe(60_000);
    expect(p.online()).toBe(true);
    expect(p.online()).toBe(false);
  });
});

/** The unit id in an export's description (`sim_<id>_a<attempt>`). */
function unitOf(description: string): string {
  return description.replace(/^sim_/, '').replace(/_a\d+$/, '');
}
