import { describe, expect, it } from 'vitest';
import { scaledClock, systemClock } from '../../main/core/ports/clock';
import { SimClock } from './support/sim-clock';

/** The time-scale adapter (ports/clock.ts) over a fake base clock: no real time passes. */
describe('scaledClock', () => {
  it('waits ms/timeScale of the base clock for ms of Google’s time', async () => {
    const base = new SimClock(0);
    const clock = scaledClock(base, 100);
    await clock.sleep(clock.fromGoogle(60_000));
    expect(base.sleeps).toEqual([600]);
    expect(base.now()).toBe(600);
  });

  it('keeps the base clock’s now, so journal and log times stay wall-clock times', async () => {
    const base = new SimClock(Date.parse('2026-06-01T12:00:00Z'));
    const clock = scaledClock(base, 1000);
    await clock.sleep(clock.fromGoogle(3_600_000)); // an hour of the emulator's time
    expect(new Date(clock.now()).toISOString()).toBe('2026-06-01T12:00:03.600Z');
    expect(clock.now()).toBe(base.now());
  });

  it('is the base clock itself with Google (a scale of 1, or none that makes sense)', () => {
    for (const scale of [1, 0.5, 0, Number.NaN]) expect(scaledClock(systemClock, scale)).toBe(systemClock);
    expect(systemClock.fromGoogle(5_000)).toBe(5_000);
  });

  it('ends a scaled sleep as soon as its signal aborts, like the base clock', async () => {
    const base = new SimClock(0);
    const abort = new AbortController();
    abort.abort();
    await scaledClock(base, 10).sleep(10_000, abort.signal);
    expect(base.sleeps).toEqual([]);
  });
});
