/**
 * Time as the engine sees it (docs/ARCHITECTURE.md, "Ports" and "Time"). Every wait and every "now" of the
 * scheduler goes through one Clock, so a unit test can drive a run through days of simulated time in
 * milliseconds (test/unit/support/sim-clock.ts) and the real run uses the system clock.
 *
 * `now()` is the wall clock the journal, the log and the events are stamped with; Google's own durations
 * (poll.minSeconds, back-offs, an EE task's start-to-end span) become durations of this clock through
 * `fromGoogle`. Against Google that is the identity; against an emulator whose clock runs `timeScale`×
 * faster, `scaledClock` divides — the one place the engine knows of the time scale.
 */
export interface Clock {
  /** Epoch milliseconds (wall-clock time: what the journal and the log show). */
  now(): number;
  /** Resolves after `ms` of this clock, or as soon as `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** How many ms of this clock `ms` of Google's time lasts (a poll interval, an EE task's run time). */
  fromGoogle(ms: number): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    }),
  fromGoogle: (ms) => ms,
};

/**
 * `base` against an emulator whose clock runs `timeScale`× faster than real time: `now()` and `sleep` stay
 * the base clock's (journal and log times stay true), and `fromGoogle(ms)` is ms / timeScale, so a wait of
 * poll.minSeconds lasts poll.minSeconds / timeScale of real time and an EE task's span, read from the
 * emulator's timestamps, is the real time it took. A scale of 1 or less (Google itself) is `base`.
 */
export function scaledClock(base: Clock, timeScale: number): Clock {
  if (!(timeScale > 1)) return base;
  return {
    now: () => base.now(),
    sleep: (ms, signal) => base.sleep(ms, signal),
    fromGoogle: (ms) => base.fromGoogle(ms) / timeScale,
  };
}
