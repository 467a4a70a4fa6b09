import { describe, expect, it } from 'vitest';
import { emulatorSession } from '../../main/core/google/session';
import { EarthEngine } from '../../main/core/google/earthengine';
import { useEmulator } from '../helpers/emulator';

const emu = useEmulator({ timeScale: 1000 });

/** Real ms for `n` listings sent at once: the client releases them one per throttle interval. */
async function listings(ee: EarthEngine, n: number): Promise<number> {
  const t = Date.now();
  await Promise.all(Array.from({ length: n }, () => ee.listOperations(1)));
  return Date.now() - t;
}

describe("the Earth Engine client's request throttle", () => {
  it('runs on the emulator’s clock when it is time-scaled, and on the client’s own 350 ms for Google', async () => {
    const session = await emulatorSession(emu.url);
    // A 1000× emulator: 20 requests do not queue 20 × 350 ms of real time behind each other.
    const scaled = await EarthEngine.connect(session, 1000);
    expect(await listings(scaled, 20)).toBeLessThan(19 * 350);
    // As for Google (time scale 1): the client's interval is back, requests go out 350 ms apart.
    const google = await EarthEngine.connect(session, 1);
    expect(await listings(google, 4)).toBeGreaterThanOrEqual(3 * 350 - 50);
  });
});
