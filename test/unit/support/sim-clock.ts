import type { Clock } from '../../../main/core/ports/clock';

/**
 * Simulated time for scheduler tests: every sleep moves the clock forward by its length at once (the
 * runner is the only sleeper), then yields to the event loop so work started beside the loop settles.
 * Hours of a run pass in milliseconds. `sleeps` records each sleep's length for pace assertions.
 */
export class SimClock implements Clock {
  readonly sleeps: number[] = [];
  private t: number;

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    this.sleeps.push(ms);
    this.t += ms;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Google's time is this clock's (scaledClock wraps it for a time-scaled emulator). */
  fromGoogle(ms: number): number {
    return ms;
  }

  /**
   * The clock of an emulator running `scale`× faster than this one (its `timeScale`), from now on: what a
   * fake Earth Engine stamps its tasks with. Read-only — nothing sleeps on Google's side.
   */
  emulated(scale: number): Clock {
    const origin = this.t;
    return {
      now: () => origin + (this.t - origin) * scale,
      sleep: () => Promise.reject(new Error('the emulated clock is read-only')),
      fromGoogle: (ms) => ms,
    };
  }

  /** Simulated milliseconds since `from`. */
  since(from: number): number {
    return this.t - from;
  }
}
