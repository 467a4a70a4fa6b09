import { FileBody } from './http/file-body';
import { driveError, eeError, type Reply } from './http/reply';
import type { EmuRequest, Route, Service } from './http/router';
import type { FailNextRule } from './options';
import { Rng } from './random';

/**
 * The server asks `before` whether to answer a request at all (latency, 5xx, rate limits), runs the
 * handler, then lets `after` replace the answer of a request that already took effect (lost answers) and
 * cut media bodies (resets, truncation). `/__emulator/*` never reaches these hooks.
 */
export interface FaultPolicy {
  before(route: Route, req: EmuRequest): Promise<Reply | null>;
  after(route: Route, req: EmuRequest, reply: Reply): Reply;
}

export const NO_FAULTS: FaultPolicy = {
  before: () => Promise.resolve(null),
  after: (_route, _req, reply) => reply,
};

/** The fault rates and latency, read at the moment of each request (they change at run time). */
export interface FaultSettings {
  http5xxRate(): number;
  rateLimitRate(): number;
  resetRate(): number;
  truncateRate(): number;
  lostAnswerRate(): number;
  /** How a lost answer fails (main/emulator/README.md, "Faults"); absent: `reset`. */
  lostAnswerMode?(): 'reset' | 'close' | 'timeout';
  latencyMs(): number;
  /** Requests of a route that fail next, whatever the rates (`failNext`); a new list starts afresh. */
  failNext?(): readonly FailNextRule[] | null;
}

/** Requests whose effect happens before the answer: the ones `lostAnswerRate` applies to. */
export const LOST_ANSWER_ROUTES: ReadonlySet<string> = new Set([
  'POST /v1/projects/{project}/image:export',
  'POST /v1/projects/{project}/table:export',
  // The pixels were computed (and counted against the quota), then the answer was lost.
  'POST /v1/projects/{project}/image:computePixels',
  'DELETE /drive/v3/files/{fileId}',
  'DELETE /storage/v1/b/{bucket}/o/{object}',
]);

const KINDS = ['http5xx', 'rateLimit', 'reset', 'truncate', 'lostAnswer'] as const;
type Kind = (typeof KINDS)[number];

/**
 * Part 2's faults, all drawn from seeded streams (one per kind, so changing one rate never shifts the
 * others' sequences) and read from the live configuration:
 * - `latencyMs`: every request (not each part of a batch) waits this long, real time, before anything;
 * - `http5xxRate`: 500 `INTERNAL` / 503 `UNAVAILABLE` in the service's error format, nothing done;
 * - `rateLimitRate`: Drive 403 `userRateLimitExceeded` / 403 `rateLimitExceeded` / 429
 *   `rateLimitExceeded`; Earth Engine 429 `RESOURCE_EXHAUSTED`; nothing done;
 * - `lostAnswerRate`: an `image:export` / `table:export` or `files.delete` that succeeded loses its answer
 *   (the work is done): `lostAnswerMode` `reset` answers 500/503 or resets the connection (half each),
 *   `close` closes it cleanly without a byte, `timeout` never answers;
 * - `resetRate` / `truncateRate`: a media download sends its headers (the full `Content-Length`) and part
 *   of the body, then the connection is reset (RST) / closed early (FIN).
 * OAuth endpoints get latency only: the clients' sign-in and refresh paths are not what these faults test.
 */
export class SeededFaults implements FaultPolicy {
  private readonly rng: Record<Kind, Rng>;
  /** The `failNext` list the counts below belong to, and how many requests of each route still fail. */
  private failNextOf: readonly FailNextRule[] | null = null;
  private failNextLeft = new Map<string, { left: number; status: 500 | 503 | 429 }>();

  constructor(
    seed: number,
    private readonly settings: FaultSettings,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.rng = Object.fromEntries(KINDS.map((k) => [k, new Rng(seed, `fault-${k}`)])) as Record<Kind, Rng>;
  }

  /** Positions of the random streams, for persistence. */
  positions(): Record<string, number> {
    return Object.fromEntries(KINDS.map((k) => [k, this.rng[k].position]));
  }

  restore(positions: Record<string, number> | undefined): void {
    for (const k of KINDS) {
      const p = positions?.[k];
      if (typeof p === 'number') this.rng[k].position = p;
    }
  }

  async before(route: Route, req: EmuRequest): Promise<Reply | null> {
    const latency = this.settings.latencyMs();
    if (latency > 0 && !req.inBatch) await this.sleep(latency);
    if (route.service === 'oauth') return null;
    const forced = this.takeFailNext(`${route.method} ${route.template}`);
    if (forced === 429) return rateLimited(route.service, req, 1);
    if (forced) return serverError(route.service, forced);
    const r5 = this.rng.http5xx;
    if (r5.chance(this.settings.http5xxRate())) return serverError(route.service, r5.next() < 0.5 ? 500 : 503);
    const rl = this.rng.rateLimit;
    if (rl.chance(this.settings.rateLimitRate())) return rateLimited(route.service, req, rl.next());
    return null;
  }

  /** The status a `failNext` rule gives this request (and counts it), or undefined. */
  private takeFailNext(key: string): 500 | 503 | 429 | undefined {
    const rules = this.settings.failNext?.() ?? null;
    if (rules !== this.failNextOf) {
      this.failNextOf = rules;
      this.failNextLeft = new Map((rules ?? []).map((r) => [r.route, { left: r.count, status: r.status ?? 503 }]));
    }
    const rule = this.failNextLeft.get(key);
    if (!rule || rule.left <= 0) return undefined;
    rule.left--;
    return rule.status;
  }

  after(route: Route, req: EmuRequest, reply: Reply): Reply {
    if (route.service === 'oauth') return reply;
    if (LOST_ANSWER_ROUTES.has(`${route.method} ${route.template}`) && reply.status >= 200 && reply.status < 300) {
      const rng = this.rng.lostAnswer;
      if (rng.chance(this.settings.lostAnswerRate())) {
        const u = rng.next();
        const mode = this.settings.lostAnswerMode?.() ?? 'reset';
        // A batch part cannot lose its connection on its own: it loses its answer as a 5xx instead.
        if (req.inBatch || (mode === 'reset' && u < 0.5)) return serverError(route.service, u < 0.25 ? 500 : 503);
        if (mode !== 'reset') return { status: 0, lost: mode };
        return { status: 0, reset: true };
      }
    }
    if (reply.media && reply.body instanceof FileBody) {
      const length = Number(reply.headers?.['Content-Length'] ?? 0);
      if (length > 0) {
        const reset = this.rng.reset;
        if (reset.chance(this.settings.resetRate())) return { ...reply, cut: { afterBytes: Math.floor(length * reset.next()), how: 'reset' } };
        const truncate = this.rng.truncate;
        if (truncate.chance(this.settings.truncateRate())) return { ...reply, cut: { afterBytes: Math.floor(length * truncate.next()), how: 'truncate' } };
      }
    }
    return reply;
  }
}

/** 500 / 503 as each service writes them. */
export function serverError(service: Service, code: 500 | 503): Reply {
  // Cloud Storage's JSON API writes its 5xx like Drive's error body, with its own reasons.
  if (service === 'storage') return driveError(code, code === 500 ? 'Internal Error' : 'Service Unavailable', { reason: code === 500 ? 'internalError' : 'backendError' });
  if (service === 'drive') {
    // Drive's documented bodies: reason backendError for its 5xx answers.
    const message = code === 500 ? 'Internal Error' : 'Service Unavailable';
    return driveError(code, message, { reason: 'backendError', message: code === 500 ? 'Backend Error' : message }, { status: code === 500 ? 'INTERNAL' : 'UNAVAILABLE' });
  }
  return code === 500 ? eeError(500, 'Internal error encountered.') : eeError(503, 'The service is currently unavailable.');
}

/** Rate-limit answers: Drive's three documented forms (chosen by `u`), Earth Engine's 429. */
export function rateLimited(service: Service, req: EmuRequest, u: number): Reply {
  // Cloud Storage answers 429 (never Drive's 403 forms); the wording is Google's for bucket/object rate limits.
  if (service === 'storage') return driveError(429, 'The rate of change requests to the object exceeds the rate limit. Please reduce the rate of create, update, and delete requests.', { reason: 'rateLimitExceeded', domain: 'usageLimits' });
  if (service === 'drive') {
    if (u < 1 / 3) return driveError(403, 'User Rate Limit Exceeded', { reason: 'userRateLimitExceeded', domain: 'usageLimits' });
    if (u < 2 / 3) return driveError(403, 'Rate Limit Exceeded', { reason: 'rateLimitExceeded', domain: 'usageLimits' });
    return driveError(429, 'Rate Limit Exceeded', { reason: 'rateLimitExceeded', domain: 'usageLimits' });
  }
  const project = req.params.project ?? 'earthengine-legacy';
  const write = req.method !== 'GET';
  const metric = write ? 'Number of write requests' : 'Number of read requests';
  const limit = write ? 'Number of write requests per minute per user' : 'Number of read requests per minute per user';
  const consumer = `projects/${project}`;
  return eeError(429, `Quota exceeded for quota metric '${metric}' and limit '${limit}' of service 'earthengine.googleapis.com' for consumer '${consumer}'.`, {
    info: { reason: 'RATE_LIMIT_EXCEEDED', metadata: { service: 'earthengine.googleapis.com', consumer, quota_metric: metric, quota_limit: limit } },
  });
}
