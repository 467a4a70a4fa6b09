import type { Session } from '../google/session';
import { GcsClient } from './client';

/**
 * The Cloud Storage client of a signed-in session: the session's token (a person's or a service
 * account's), Google's endpoint or — with `--emulator` — the emulator's (docs/cloud-storage.md).
 */
export function gcsClientFor(session: Session): GcsClient {
  return new GcsClient({
    accessToken: async (force) => (await session.accessToken(force)).token,
    projectId: session.project,
    // On loopback a stall of seconds is a broken connection (the emulator's reset and truncate faults), and
    // the client's own back-off (2 s, 4 s, 8 s + jitter) is cut to 1 s (the least its uploads' retry accepts),
    // as the engine divides its back-offs by the emulator's time scale (docs/cli.md): the same retries,
    // shorter waits.
    ...(session.endpoints.emulator ? { apiEndpoint: session.endpoints.eeBaseUrl, stallMs: 1_000, requestTimeoutMs: 10_000, retry: { maxRetries: 3, maxDelaySeconds: 1 } } : {}),
  });
}
