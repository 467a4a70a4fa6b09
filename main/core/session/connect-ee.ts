import { withStartRetries } from '../engine/start-retry';
import { EarthEngine } from '../google/earthengine';
import type { Session } from '../google/session';
import { scaledClock, systemClock } from '../ports/clock';

/** Attempts of the Earth Engine client's start-up request, and the first pause (Google seconds; it doubles). */
const TRIES = 5;
const FIRST_PAUSE_SECONDS = 2;

/**
 * The Earth Engine client, initialised: its start-up request (the list of algorithms) is answered 5xx now
 * and then like any other, and the client retries only a 429 by itself. A run has no loop yet to retry it
 * next cycle, so it is tried again here — 2 s, 4 s, 8 s, 16 s apart (divided by an emulator's time scale)
 * — and a hiccup that outlasts that stops the run with exit 3 and one line (docs/transient-start.md).
 */
export function connectEarthEngine(session: Session, timeScale: number, warn: (message: string) => void): Promise<EarthEngine> {
  return withStartRetries("Earth Engine's start-up request (its list of algorithms)", () => EarthEngine.connect(session, timeScale), {
    tries: TRIES,
    firstPauseMs: scaledClock(systemClock, timeScale).fromGoogle(FIRST_PAUSE_SECONDS * 1000),
    pause: (ms) => systemClock.sleep(ms),
    warn,
  });
}
