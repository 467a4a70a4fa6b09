import type { Reply } from './http/reply';
import type { EmuRequest, Route } from './http/router';

/**
 * Where part 2's faults (issue 5) plug in. The server asks `before` whether to answer a request at all
 * (latency, 5xx, rate limits), runs the handler, then lets `after` replace the answer of a request that
 * already took effect (lost answers) and cut media bodies (resets, truncation). `/__emulator/*` never
 * reaches these hooks. Part 1 ships the policy that never interferes.
 */
export interface FaultPolicy {
  before(route: Route, req: EmuRequest): Promise<Reply | null>;
  after(route: Route, req: EmuRequest, reply: Reply): Reply;
}

export const NO_FAULTS: FaultPolicy = {
  before: () => Promise.resolve(null),
  after: (_route, _req, reply) => reply,
};
