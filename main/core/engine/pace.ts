import type { Clock } from '../ports/clock';

export interface PaceOptions {
  clock: Clock;
  /** The job's poll bounds, in job seconds. */
  minSeconds: number;
  maxSeconds: number;
  /** Real milliseconds for `seconds` of job time. */
  scaledMs(seconds: number): number;
}

/**
 * The loop's pace: the poll interval (poll.minSeconds after a change, growing ×1.5 up to poll.maxSeconds
 * while nothing changes), the back-off after a failed request or a full queue, and the offline streak
 * (poll.minSeconds doubling up to poll.maxSeconds while the network is gone; no unit loses an attempt).
 */
export class Pace {
  private intervalSeconds: number;
  private backoffUntil = 0;
  private offlineStreak = 0;

  constructor(private readonly o: PaceOptions) {
    this.intervalSeconds = o.minSeconds;
  }

  /** No request should be sent before the back-off ends. */
  holding(): boolean {
    return this.o.clock.now() < this.backoffUntil;
  }

  backoff(seconds: number): void {
    this.backoffUntil = Math.max(this.backoffUntil, this.o.clock.now() + this.o.scaledMs(seconds));
  }

  /** A request failed for lack of network: true on the first failure of a streak (worth one log line). */
  offline(): boolean {
    this.offlineStreak++;
    this.backoff(Math.min(this.o.maxSeconds, this.o.minSeconds * 2 ** Math.min(10, this.offlineStreak - 1)));
    return this.offlineStreak === 1;
  }

  /** A request went through: true when it ended an offline streak. */
  online(): boolean {
    if (this.offlineStreak === 0) return false;
    this.offlineStreak = 0;
    return true;
  }

  /**
   * How long the loop sleeps after a cycle (real ms): the poll interval, but not past the next due poll,
   * and at least until the back-off ends (capped at poll.maxSeconds).
   */
  nextSleepMs(changed: boolean, nextPollAt: number): number {
    const { minSeconds, maxSeconds, scaledMs, clock } = this.o;
    this.intervalSeconds = changed ? minSeconds : Math.min(maxSeconds, this.intervalSeconds * 1.5);
    const now = clock.now();
    const untilPoll = Math.max(scaledMs(minSeconds), nextPollAt - now);
    const backoff = Math.max(0, this.backoffUntil - now);
    return Math.max(Math.min(scaledMs(this.intervalSeconds), untilPoll), Math.min(backoff, scaledMs(maxSeconds)));
  }
}
