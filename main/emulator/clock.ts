/**
 * The simulated clock of the EE task life cycle (docs/emulator.md#simulated-clock): simulated time starts at the real time
 * the emulator starts and runs `timeScale` times faster. Changing the scale re-anchors the clock so
 * simulated time never jumps or runs backwards. Drive's timestamps come from it too (so they compare with
 * the operations' as Google's do); tokens, latency and faults use real time.
 */
export class SimClock {
  private realAnchor: number;
  private simAnchor: number;

  constructor(
    private scale: number,
    private readonly realNow: () => number = Date.now,
    simStart?: number,
  ) {
    this.realAnchor = realNow();
    this.simAnchor = simStart ?? this.realAnchor;
  }

  /** Simulated milliseconds since the epoch. */
  now(): number {
    return this.simAnchor + (this.realNow() - this.realAnchor) * this.scale;
  }

  get timeScale(): number {
    return this.scale;
  }

  setTimeScale(scale: number): void {
    const sim = this.now();
    this.realAnchor = this.realNow();
    this.simAnchor = sim;
    this.scale = scale;
  }

  /** Real milliseconds until simulated time `simMs` (0 if already past). */
  realDelayUntil(simMs: number): number {
    return Math.max(0, (simMs - this.now()) / this.scale);
  }
}
