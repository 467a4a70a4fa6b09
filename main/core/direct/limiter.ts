import type { Clock } from '../ports/clock';

/**
 * How many computePixels requests may be in flight (docs/direct-download.md#concurrency): additive
 * increase, multiplicative decrease. It starts at the job's `direct.concurrency` and never goes above it
 * nor above the project's concurrent-request limit. A 429 halves the limit (once per round trip: answers
 * to requests sent before the cut do not cut it again) and holds new requests back for a back-off that
 * doubles with each 429 in a row; every `limit` successes raise it by one.
 */
export interface LimiterOptions {
  /** The ceiling: `direct.concurrency`, already capped at the project limit. */
  readonly max: number;
  readonly clock: Clock;
  /** First back-off after a 429 (real ms, already divided by the time scale), doubled per 429 in a row. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

export type Outcome = 'ok' | 'throttled' | 'other';

export interface Permit {
  /** When it was given (for "sent before the last cut"). */
  readonly at: number;
  readonly seq: number;
}

export class AimdLimiter {
  private current: number;
  private active = 0;
  private successes = 0;
  private seq = 0;
  /** Permits numbered at or below this were given before the last cut. */
  private cutAt = 0;
  private throttledInARow = 0;
  private holdUntil = 0;

  constructor(private readonly o: LimiterOptions) {
    if (!(o.max >= 1)) throw new Error('the concurrency limit must be at least 1');
    this.current = o.max;
  }

  /** The number of requests allowed in flight now. */
  get limit(): number {
    return Math.floor(this.current);
  }

  get inFlight(): number {
    return this.active;
  }

  /** Epoch ms before which no request may start (after a 429); 0 when none is held back. */
  get heldUntil(): number {
    return this.holdUntil > this.o.clock.now() ? this.holdUntil : 0;
  }

  /** A permit when a request may start now, else undefined (full, or backing off after a 429). */
  tryAcquire(): Permit | undefined {
    if (this.active >= this.limit || this.o.clock.now() < this.holdUntil) return undefined;
    this.active++;
    return { at: this.o.clock.now(), seq: ++this.seq };
  }

  release(permit: Permit, outcome: Outcome): void {
    this.active = Math.max(0, this.active - 1);
    if (outcome === 'ok') {
      this.throttledInARow = 0;
      this.successes++;
      if (this.successes >= this.limit) {
        this.successes = 0;
        this.current = Math.min(this.o.max, this.current + 1);
      }
      return;
    }
    if (outcome !== 'throttled') return;
    // One cut per round trip: requests already in flight when the limit was cut say nothing new.
    if (permit.seq <= this.cutAt) return;
    this.cutAt = this.seq;
    this.successes = 0;
    this.current = Math.max(1, Math.floor(this.current / 2));
    this.throttledInARow++;
    const wait = Math.min(this.o.maxBackoffMs, this.o.backoffMs * 2 ** (this.throttledInARow - 1));
    this.holdUntil = this.o.clock.now() + wait;
  }
}
