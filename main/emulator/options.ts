import { z } from 'zod';

/**
 * The emulator's options (docs/emulator.md#options). One table drives the zod schema, the CLI flags, the
 * `/__emulator/config` shape and the README, so a new option cannot be half added.
 */
const rate = z.number().min(0).max(1);
const nonNegInt = z.number().int().min(0);
/** Optional limits are `null` in JSON ("none"); `undefined` and `null` mean the same on input. */
const optionalLimit = z.number().positive().nullable().optional();

const shape = {
  port: z.number().int().min(0).max(65535),
  dataDir: z.string().min(1).nullable().optional(),
  project: z.string().regex(/^[A-Za-z0-9._:-]+$/, 'expected a Cloud project id').nullable().optional(),
  slots: nonNegInt,
  timeScale: z.number().positive(),
  taskBaseSeconds: z.number().min(0),
  pixelsPerSecond: z.number().positive(),
  queueLimit: nonNegInt,
  timeoutPixels: optionalLimit,
  memoryPixels: optionalLimit,
  internalErrorRate: rate,
  internalMaxAttempts: z.number().int().min(1),
  driveQuotaBytes: z.number().int().min(0).nullable().optional(),
  splitBytes: z.number().int().positive(),
  tokenLifetimeSeconds: z.number().int().min(1),
  http5xxRate: rate,
  rateLimitRate: rate,
  resetRate: rate,
  truncateRate: rate,
  lostAnswerRate: rate,
  latencyMs: z.number().min(0),
  denyConsent: z.boolean(),
  seed: z.number().int(),
  dispatchSeconds: z.number().min(0),
  maxAssets: nonNegInt,
  dropFeatures: nonNegInt,
  catalogPath: z.string().min(1).nullable().optional(),
  // Second round (main/emulator/README.md, "Options"): Drive's late listings and the shapes of lost answers.
  driveListingDelaySeconds: z.number().min(0),
  lostAnswerMode: z.enum(['reset', 'close', 'timeout']),
  omitDestinationUrisRate: rate,
  timeoutMessage: z.string().min(1),
  // Sign-in (docs/signin-and-doctor.md#emulator-options): the consent screen's unticked boxes, and refresh tokens that expire.
  grantScopes: z.union([z.string(), z.array(z.string())]).nullable().optional(),
  refreshTokenLifetimeSeconds: z.number().positive().nullable().optional(),
  // Direct download (docs/emulator.md#computepixels): image:computePixels' limits and speed.
  computeMaxBytes: z.number().int().positive(),
  computeConcurrency: nonNegInt,
  computePixelsPerSecond: z.number().positive(),
  computeTimeoutPixels: optionalLimit,
  // Cloud Storage and service accounts (main/emulator/README.md, "Cloud Storage", "Service accounts").
  buckets: z.union([z.string(), z.array(z.string().min(1))]).nullable().optional(),
  compositeRate: rate,
  serviceAccountKey: z.string().min(1).nullable().optional(),
} as const;

export type OptionKey = keyof typeof shape;

export interface EmulatorConfig {
  port: number;
  dataDir: string | null;
  project: string | null;
  slots: number;
  timeScale: number;
  taskBaseSeconds: number;
  pixelsPerSecond: number;
  queueLimit: number;
  timeoutPixels: number | null;
  memoryPixels: number | null;
  internalErrorRate: number;
  internalMaxAttempts: number;
  driveQuotaBytes: number | null;
  splitBytes: number;
  tokenLifetimeSeconds: number;
  http5xxRate: number;
  rateLimitRate: number;
  resetRate: number;
  truncateRate: number;
  lostAnswerRate: number;
  latencyMs: number;
  denyConsent: boolean;
  seed: number;
  dispatchSeconds: number;
  maxAssets: number;
  dropFeatures: number;
  catalogPath: string | null;
  driveListingDelaySeconds: number;
  lostAnswerMode: 'reset' | 'close' | 'timeout';
  omitDestinationUrisRate: number;
  timeoutMessage: string;
  /** Scopes the consent grants (a comma list or an array; full URLs or short names); null: every scope asked for. */
  grantScopes: string | readonly string[] | null;
  /** Real seconds a refresh token lives after its consent ("Testing" clients: 7 days); null: for ever. */
  refreshTokenLifetimeSeconds: number | null;
  /** computePixels: largest request in bytes (Google: 48 MiB). */
  computeMaxBytes: number;
  /** computePixels requests computing at once per project; more are answered 429. */
  computeConcurrency: number;
  /** computePixels: pixels computed per real second. */
  computePixelsPerSecond: number;
  /** computePixels requests with more pixels fail as EE's interactive timeout; null: none. */
  computeTimeoutPixels: number | null;
  /** Cloud Storage buckets that exist (a comma list or an array); null: none (every export to a bucket fails). */
  buckets: string | readonly string[] | null;
  /** Fraction of export outputs written as composite objects: no md5Hash, only crc32c (and componentCount). */
  compositeRate: number;
  /** Writes a fresh service-account key file here at start, one the token endpoint trusts. */
  serviceAccountKey: string | null;
}

/** What `startEmulator` and `POST /__emulator/config` take: any subset of the keys. */
export type EmulatorOptions = { [K in keyof EmulatorConfig]?: EmulatorConfig[K] | undefined };

export const DEFAULTS: EmulatorConfig = {
  port: 0,
  dataDir: null,
  project: null,
  slots: 2,
  timeScale: 1,
  taskBaseSeconds: 120,
  pixelsPerSecond: 20_000,
  queueLimit: 3000,
  timeoutPixels: null,
  memoryPixels: null,
  internalErrorRate: 0,
  internalMaxAttempts: 3,
  driveQuotaBytes: null,
  splitBytes: 2 * 1024 ** 3,
  tokenLifetimeSeconds: 3600,
  http5xxRate: 0,
  rateLimitRate: 0,
  resetRate: 0,
  truncateRate: 0,
  lostAnswerRate: 0,
  latencyMs: 0,
  denyConsent: false,
  seed: 1,
  dispatchSeconds: 10,
  maxAssets: 10_000,
  dropFeatures: 0,
  catalogPath: null,
  driveListingDelaySeconds: 0,
  lostAnswerMode: 'reset',
  omitDestinationUrisRate: 0,
  timeoutMessage: 'Computation timed out.',
  grantScopes: null,
  refreshTokenLifetimeSeconds: null,
  computeMaxBytes: 50_331_648,
  computeConcurrency: 40,
  computePixelsPerSecond: 2_000_000,
  computeTimeoutPixels: null,
  buckets: null,
  compositeRate: 0,
  serviceAccountKey: null,
};

export type OptionKind = 'int' | 'number' | 'bytes' | 'rate' | 'string' | 'boolean';

export interface OptionSpec {
  readonly key: OptionKey;
  readonly flag: string;
  readonly kind: OptionKind;
  readonly help: string;
  /** Accepted and reported but without effect yet (no option today; kept for the CLI help, which says so). */
  readonly later?: boolean;
  /** Fixed for the emulator's life: POST /__emulator/config may not change it. */
  readonly startOnly?: boolean;
  /** What the default `null` means, for help texts. */
  readonly none?: string;
}

export const OPTION_SPECS: readonly OptionSpec[] = [
  { key: 'port', flag: '--port', kind: 'int', startOnly: true, help: 'TCP port on 127.0.0.1; 0 picks a free one' },
  { key: 'dataDir', flag: '--data-dir', kind: 'string', startOnly: true, none: 'a temporary folder, removed on stop', help: 'folder for the whole state (operations, Drive files and bytes, tokens, the simulated clock); a restart with it continues where the last run stopped' },
  { key: 'project', flag: '--project', kind: 'string', none: 'any project', help: 'the only Cloud project Earth Engine accepts' },
  { key: 'slots', flag: '--slots', kind: 'int', help: 'export tasks RUNNING at once per project' },
  { key: 'timeScale', flag: '--time-scale', kind: 'number', help: 'simulated task time runs this many times faster than real time' },
  { key: 'taskBaseSeconds', flag: '--task-base-seconds', kind: 'number', help: 'fixed simulated run time of every task' },
  { key: 'pixelsPerSecond', flag: '--pixels-per-second', kind: 'number', help: 'a task runs task-base-seconds + pixels / pixels-per-second simulated seconds' },
  { key: 'queueLimit', flag: '--queue-limit', kind: 'int', help: 'PENDING tasks per project before exports are refused with "Too many tasks already in the queue"' },
  { key: 'timeoutPixels', flag: '--timeout-pixels', kind: 'number', none: 'none', help: 'tasks with more pixels run their full time, then fail with "Computation timed out."' },
  { key: 'memoryPixels', flag: '--memory-pixels', kind: 'number', none: 'none', help: 'tasks with more pixels run their full time, then fail with "User memory limit exceeded."' },
  { key: 'internalErrorRate', flag: '--internal-error-rate', kind: 'rate', help: 'fraction of task attempts that fail with "Internal error." and are retried by EE' },
  { key: 'internalMaxAttempts', flag: '--internal-max-attempts', kind: 'int', help: 'attempts before an internal error fails the task' },
  { key: 'driveQuotaBytes', flag: '--drive-quota-bytes', kind: 'bytes', none: 'unlimited', help: 'Drive storage limit (e.g. 15GB, 2GiB or bytes)' },
  { key: 'splitBytes', flag: '--split-bytes', kind: 'bytes', help: 'outputs larger than this are split into {prefix}-yMin-xMin parts' },
  { key: 'tokenLifetimeSeconds', flag: '--token-lifetime-seconds', kind: 'int', help: 'lifetime of OAuth access tokens (real seconds)' },
  { key: 'http5xxRate', flag: '--http5xx-rate', kind: 'rate', help: 'fraction of requests answered 500/503' },
  { key: 'rateLimitRate', flag: '--rate-limit-rate', kind: 'rate', help: 'fraction of requests answered 403 rate limit / 429' },
  { key: 'resetRate', flag: '--reset-rate', kind: 'rate', help: 'fraction of media downloads whose connection is reset midway' },
  { key: 'truncateRate', flag: '--truncate-rate', kind: 'rate', help: 'fraction of bodies that end early despite their Content-Length' },
  { key: 'lostAnswerRate', flag: '--lost-answer-rate', kind: 'rate', help: 'fraction of exports and deletes that take effect, then fail' },
  { key: 'latencyMs', flag: '--latency-ms', kind: 'number', help: 'added to every request (real milliseconds)' },
  { key: 'denyConsent', flag: '--deny-consent', kind: 'boolean', help: 'the OAuth consent screen answers access_denied' },
  { key: 'seed', flag: '--seed', kind: 'int', startOnly: true, help: 'seed of every random choice (ids, faults)' },
  { key: 'dispatchSeconds', flag: '--dispatch-seconds', kind: 'number', help: 'simulated seconds a new task stays PENDING before it may start (EE never starts a task instantly)' },
  { key: 'maxAssets', flag: '--max-assets', kind: 'int', help: 'asset count quota per project (getAssetRootQuota maxAssets): exports and creates beyond it fail with an asset quota error' },
  { key: 'dropFeatures', flag: '--drop-features', kind: 'int', help: 'a fault for tests: every table export to an asset loses this many of its features' },
  { key: 'driveListingDelaySeconds', flag: '--drive-listing-delay-seconds', kind: 'number', help: 'simulated seconds before a new Drive file appears in files.list (files.get finds it at once)' },
  { key: 'lostAnswerMode', flag: '--lost-answer-mode', kind: 'string', help: 'how a lost answer (lost-answer-rate) fails: reset (RST), close (clean close, "other side closed") or timeout (no answer at all)' },
  { key: 'omitDestinationUrisRate', flag: '--omit-destination-uris-rate', kind: 'rate', help: 'fraction of SUCCEEDED Drive exports whose operation has no destinationUris' },
  { key: 'timeoutMessage', flag: '--timeout-message', kind: 'string', help: 'the failure message of a task above timeout-pixels (e.g. "Deadline expired before operation could complete.")' },
  { key: 'grantScopes', flag: '--grant-scopes', kind: 'string', none: 'every scope asked for', help: 'the boxes the user leaves ticked on the consent screen: a comma list of scopes (e.g. earthengine,cloud-platform; Sign-In scopes openid, email and profile are always granted); the token response\'s scope says what was granted' },
  { key: 'refreshTokenLifetimeSeconds', flag: '--refresh-token-lifetime-seconds', kind: 'number', none: 'no expiry', help: 'refresh tokens die this many real seconds after their consent and then answer invalid_grant, as an OAuth client in "Testing" publishing status does after 7 days (604800)' },
  { key: 'computeMaxBytes', flag: '--compute-max-bytes', kind: 'bytes', help: 'image:computePixels requests larger than this (pixels x bands x (bytes per band + 1 mask byte)) are refused with 400 "Total request size (N bytes) must be less than or equal to M bytes."' },
  { key: 'computeConcurrency', flag: '--compute-concurrency', kind: 'int', help: 'image:computePixels requests computing at once per project; more are answered 429 RESOURCE_EXHAUSTED' },
  { key: 'computePixelsPerSecond', flag: '--compute-pixels-per-second', kind: 'number', help: 'an image:computePixels request takes pixels / compute-pixels-per-second real seconds' },
  { key: 'computeTimeoutPixels', flag: '--compute-timeout-pixels', kind: 'number', none: 'none', help: 'image:computePixels requests with more pixels compute until the deadline, then fail with 400 and the timeout message (EE\'s interactive time limit)' },
  { key: 'buckets', flag: '--buckets', kind: 'string', none: 'none', help: 'Cloud Storage buckets that exist, as a comma list (e.g. a,b); an export to any other bucket fails as at Google' },
  { key: 'compositeRate', flag: '--composite-rate', kind: 'rate', help: 'fraction of exported objects written as composite objects: no md5Hash, only crc32c' },
  { key: 'serviceAccountKey', flag: '--service-account-key', kind: 'string', startOnly: true, none: 'none', help: 'write a fresh service-account key file (Google\'s JSON format) that the token endpoint trusts to this path; with --data-dir the emulator keeps trusting it after a restart' },
  { key: 'catalogPath', flag: '--catalog', kind: 'string', startOnly: true, none: "the emulator's subset", help: "serve this algorithm catalog (JSON of GET algorithms, e.g. Google's full one) instead of the emulator's subset" },
];

const fullSchema = z.strictObject(shape);
const partialSchema = fullSchema.partial();

export class OptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OptionsError';
  }
}

/** Validates a partial options object; unknown keys and bad values throw one readable OptionsError. */
export function parseOptions(input: unknown): EmulatorOptions {
  if (input === undefined) return {};
  const r = partialSchema.safeParse(input);
  if (r.success) return r.data as EmulatorOptions;
  const msgs = r.error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') return `unknown emulator option${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    const key = i.path.join('.');
    return key ? `emulator option "${key}": ${i.message}` : i.message;
  });
  throw new OptionsError(msgs.join('; '));
}

/** Defaults plus the given options; `undefined` values leave the default. */
export function resolveOptions(input: unknown): EmulatorConfig {
  return applyPatch(DEFAULTS, parseOptions(input));
}

export function applyPatch(base: EmulatorConfig, patch: EmulatorOptions): EmulatorConfig {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    out[k] = v;
  }
  return out as unknown as EmulatorConfig;
}

/** Parses `15GB`, `2GiB`, `1e9` or a plain byte count (CLI only; JSON takes numbers). */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kKMGTP]i?B?|B)?\s*$/.exec(text);
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'B').replace(/B$/, '');
  const pow = { '': 0, k: 1, K: 1, M: 2, G: 3, T: 4, P: 5 }[unit.replace('i', '')] ?? Number.NaN;
  const base = unit.includes('i') ? 1024 : 1000;
  return Math.round(n * base ** pow);
}
