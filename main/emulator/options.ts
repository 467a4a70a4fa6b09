import { z } from 'zod';

/**
 * The emulator's options (docs/emulator.md#options). One table holds each option once — its zod schema,
 * default, CLI flag and help — and drives the validation, the defaults, the CLI flags, the
 * `/__emulator/config` shape and the README, so a new option cannot be half added.
 */
const rate = z.number().min(0).max(1);
const nonNegInt = z.number().int().min(0);
/**
 * `failNext`: requests of a route (its `METHOD template`, as counted in the state's `requests`) that fail
 * before anything is done, as a list or as text `ROUTE=N[:STATUS]; …` (main/emulator/README.md, "Faults").
 */
export const FAIL_NEXT_STATUSES = [500, 503, 429] as const;
const failNextRule = z.strictObject({ route: z.string().regex(/^[A-Z]+ \/\S*$/, 'expected "METHOD /route/template"'), count: z.number().int().min(1), status: z.union([z.literal(500), z.literal(503), z.literal(429)]).optional() });
export type FailNextRule = z.output<typeof failNextRule>;
const failNextSchema = z.union([z.array(failNextRule), z.string().transform((text, ctx) => {
  const rules: unknown[] = [];
  for (const part of text.split(';').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Z]+ \/\S*)=(\d+)(?::(\d{3}))?$/.exec(part);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: `"${part}" is not ROUTE=N[:STATUS], e.g. "GET /v1/projects/{project}/algorithms=2:500"` });
      return z.NEVER;
    }
    rules.push({ route: m[1], count: Number(m[2]), ...(m[3] ? { status: Number(m[3]) } : {}) });
  }
  const r = z.array(failNextRule).safeParse(rules);
  if (!r.success) {
    ctx.addIssue({ code: 'custom', message: r.error.issues.map((i) => i.message).join('; ') });
    return z.NEVER;
  }
  return r.data;
})]).nullable().optional();

/** Optional limits are `null` in JSON ("none"); `undefined` and `null` mean the same on input. */
const optionalLimit = z.number().positive().nullable().optional();

export type OptionKind = 'int' | 'number' | 'bytes' | 'rate' | 'string' | 'boolean';

interface OptionRow<S extends z.ZodType> {
  /** What the option accepts (from JSON or, converted by `kind`, from the CLI). */
  readonly schema: S;
  readonly default: Exclude<z.output<S>, undefined>;
  /** The CLI flag, when it is not `--` followed by the key in kebab case. */
  readonly flag?: string;
  readonly kind: OptionKind;
  readonly help: string;
  /** Accepted and reported but without effect yet (no option today; kept for the CLI help, which says so). */
  readonly later?: boolean;
  /** Fixed for the emulator's life: POST /__emulator/config may not change it. */
  readonly startOnly?: boolean;
  /** What the default `null` means, for help texts. */
  readonly none?: string;
}

/** Checks each row's default against its own schema's type while keeping every row's exact type. */
const table = <const T extends { [K in keyof T]: T[K] extends OptionRow<infer S> ? OptionRow<S> : never }>(rows: T): T => rows;

/** The options, in the order of the CLI help. */
const OPTIONS = table({
  port: { schema: z.number().int().min(0).max(65535), default: 0, kind: 'int', startOnly: true, help: 'TCP port on 127.0.0.1; 0 picks a free one' },
  dataDir: { schema: z.string().min(1).nullable().optional(), default: null, kind: 'string', startOnly: true, none: 'a temporary folder, removed on stop', help: 'folder for the whole state (operations, Drive files and bytes, tokens, the simulated clock); a restart with it continues where the last run stopped' },
  project: { schema: z.string().regex(/^[A-Za-z0-9._:-]+$/, 'expected a Cloud project id').nullable().optional(), default: null, kind: 'string', none: 'any project', help: 'the only Cloud project Earth Engine accepts' },
  slots: { schema: nonNegInt, default: 2, kind: 'int', help: 'export tasks RUNNING at once per project' },
  timeScale: { schema: z.number().positive(), default: 1, kind: 'number', help: 'simulated task time runs this many times faster than real time' },
  taskBaseSeconds: { schema: z.number().min(0), default: 120, kind: 'number', help: 'fixed simulated run time of every task' },
  pixelsPerSecond: { schema: z.number().positive(), default: 20_000, kind: 'number', help: 'a task runs task-base-seconds + pixels / pixels-per-second simulated seconds' },
  queueLimit: { schema: nonNegInt, default: 3000, kind: 'int', help: 'PENDING tasks per project before exports are refused with "Too many tasks already in the queue"' },
  timeoutPixels: { schema: optionalLimit, default: null, kind: 'number', none: 'none', help: 'tasks with more pixels run their full time, then fail with "Computation timed out."' },
  memoryPixels: { schema: optionalLimit, default: null, kind: 'number', none: 'none', help: 'tasks with more pixels run their full time, then fail with "User memory limit exceeded."' },
  internalErrorRate: { schema: rate, default: 0, kind: 'rate', help: 'fraction of task attempts that fail with "Internal error." and are retried by EE' },
  internalMaxAttempts: { schema: z.number().int().min(1), default: 3, kind: 'int', help: 'attempts before an internal error fails the task' },
  driveQuotaBytes: { schema: z.number().int().min(0).nullable().optional(), default: null, kind: 'bytes', none: 'unlimited', help: 'Drive storage limit (e.g. 15GB, 2GiB or bytes)' },
  splitBytes: { schema: z.number().int().positive(), default: 2 * 1024 ** 3, kind: 'bytes', help: 'outputs larger than this are split into {prefix}-yMin-xMin parts' },
  tokenLifetimeSeconds: { schema: z.number().int().min(1), default: 3600, kind: 'int', help: 'lifetime of OAuth access tokens (real seconds)' },
  http5xxRate: { schema: rate, default: 0, kind: 'rate', help: 'fraction of requests answered 500/503' },
  rateLimitRate: { schema: rate, default: 0, kind: 'rate', help: 'fraction of requests answered 403 rate limit / 429' },
  resetRate: { schema: rate, default: 0, kind: 'rate', help: 'fraction of media downloads whose connection is reset midway' },
  truncateRate: { schema: rate, default: 0, kind: 'rate', help: 'fraction of bodies that end early despite their Content-Length' },
  lostAnswerRate: { schema: rate, default: 0, kind: 'rate', help: 'fraction of exports and deletes that take effect, then fail' },
  latencyMs: { schema: z.number().min(0), default: 0, kind: 'number', help: 'added to every request (real milliseconds)' },
  denyConsent: { schema: z.boolean(), default: false, kind: 'boolean', help: 'the OAuth consent screen answers access_denied' },
  seed: { schema: z.number().int(), default: 1, kind: 'int', startOnly: true, help: 'seed of every random choice (ids, faults)' },
  dispatchSeconds: { schema: z.number().min(0), default: 10, kind: 'number', help: 'simulated seconds a new task stays PENDING before it may start (EE never starts a task instantly)' },
  maxAssets: { schema: nonNegInt, default: 10_000, kind: 'int', help: 'asset count quota per project (getAssetRootQuota maxAssets): exports and creates beyond it fail with an asset quota error' },
  dropFeatures: { schema: nonNegInt, default: 0, kind: 'int', help: 'a fault for tests: every table export to an asset loses this many of its features' },
  // Second round (main/emulator/README.md, "Options"): Drive's late listings and the shapes of lost answers.
  driveListingDelaySeconds: { schema: z.number().min(0), default: 0, kind: 'number', help: 'simulated seconds before a new Drive file appears in files.list (files.get finds it at once)' },
  lostAnswerMode: { schema: z.enum(['reset', 'close', 'timeout']), default: 'reset', kind: 'string', help: 'how a lost answer (lost-answer-rate) fails: reset (RST), close (clean close, "other side closed") or timeout (no answer at all)' },
  omitDestinationUrisRate: { schema: rate, default: 0, kind: 'rate', help: 'fraction of SUCCEEDED Drive exports whose operation has no destinationUris' },
  timeoutMessage: { schema: z.string().min(1), default: 'Computation timed out.', kind: 'string', help: 'the failure message of a task above timeout-pixels (e.g. "Deadline expired before operation could complete.")' },
  // Sign-in (docs/signin-and-doctor.md#emulator-options): the consent screen's unticked boxes, and refresh tokens that expire.
  grantScopes: { schema: z.union([z.string(), z.array(z.string())]).nullable().optional(), default: null, kind: 'string', none: 'every scope asked for', help: 'the boxes the user leaves ticked on the consent screen: a comma list of scopes (e.g. earthengine,cloud-platform; Sign-In scopes openid, email and profile are always granted); the token response\'s scope says what was granted' },
  refreshTokenLifetimeSeconds: { schema: z.number().positive().nullable().optional(), default: null, kind: 'number', none: 'no expiry', help: 'refresh tokens die this many real seconds after their consent and then answer invalid_grant, as an OAuth client in "Testing" publishing status does after 7 days (604800)' },
  // Direct download (docs/emulator.md#computepixels): image:computePixels' limits and speed.
  computeMaxBytes: { schema: z.number().int().positive(), default: 50_331_648, kind: 'bytes', help: 'image:computePixels requests larger than this (pixels x bands x (bytes per band + 1 mask byte)) are refused with 400 "Total request size (N bytes) must be less than or equal to M bytes."' },
  computeConcurrency: { schema: nonNegInt, default: 40, kind: 'int', help: 'image:computePixels requests computing at once per project; more are answered 429 RESOURCE_EXHAUSTED' },
  computePixelsPerSecond: { schema: z.number().positive(), default: 2_000_000, kind: 'number', help: 'an image:computePixels request takes pixels / compute-pixels-per-second real seconds' },
  computeTimeoutPixels: { schema: optionalLimit, default: null, kind: 'number', none: 'none', help: 'image:computePixels requests with more pixels compute until the deadline, then fail with 400 and the timeout message (EE\'s interactive time limit)' },
  // Cloud Storage and service accounts (main/emulator/README.md, "Cloud Storage", "Service accounts").
  buckets: { schema: z.union([z.string(), z.array(z.string().min(1))]).nullable().optional(), default: null, kind: 'string', none: 'none', help: 'Cloud Storage buckets that exist, as a comma list (e.g. a,b); an export to any other bucket fails as at Google' },
  compositeRate: { schema: rate, default: 0, kind: 'rate', help: 'fraction of exported objects written as composite objects: no md5Hash, only crc32c' },
  serviceAccountKey: { schema: z.string().min(1).nullable().optional(), default: null, kind: 'string', startOnly: true, none: 'none', help: 'write a fresh service-account key file (Google\'s JSON format) that the token endpoint trusts to this path; with --data-dir the emulator keeps trusting it after a restart' },
  failNext: { schema: failNextSchema, default: null, kind: 'string', none: 'none', help: 'a fault for tests: the next N requests of a route fail, e.g. "GET /v1/projects/{project}/algorithms=2:500; DELETE /storage/v1/b/{bucket}/o/{object}=1" (route as in the state\'s request counts; status 500, 503 (default) or 429); a new value starts the counts afresh' },
  catalogPath: { flag: '--catalog', schema: z.string().min(1).nullable().optional(), default: null, kind: 'string', startOnly: true, none: "the emulator's subset", help: "serve this algorithm catalog (JSON of GET algorithms, e.g. Google's full one) instead of the emulator's subset" },
});

export type OptionKey = keyof typeof OPTIONS;

/** The emulator's whole configuration: every option's value (null where an option's "none" applies). */
export type EmulatorConfig = { -readonly [K in OptionKey]: Exclude<z.output<(typeof OPTIONS)[K]['schema']>, undefined> };

/** What `startEmulator` and `POST /__emulator/config` take: any subset of the keys. */
export type EmulatorOptions = { [K in keyof EmulatorConfig]?: EmulatorConfig[K] | undefined };

export const DEFAULTS: EmulatorConfig = Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) => [k, o.default])) as EmulatorConfig;

export interface OptionSpec extends Omit<OptionRow<z.ZodType>, 'schema' | 'default' | 'flag'> {
  readonly key: OptionKey;
  readonly flag: string;
}

export const OPTION_SPECS: readonly OptionSpec[] = Object.entries(OPTIONS).map(([key, { schema: _schema, default: _default, flag, ...spec }]: [string, OptionRow<z.ZodType>]) => ({
  key: key as OptionKey,
  flag: flag ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
  ...spec,
}));

const shape = Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) => [k, o.schema])) as { [K in OptionKey]: (typeof OPTIONS)[K]['schema'] };

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

/**
 * Getters of the named options that read `config()` at each call, so that a part of the emulator follows
 * `POST /__emulator/config` without being told.
 */
export function liveOptions<K extends OptionKey>(config: () => EmulatorConfig, keys: readonly K[]): { [P in K]: () => EmulatorConfig[P] } {
  return Object.fromEntries(keys.map((k) => [k, () => config()[k]])) as { [P in K]: () => EmulatorConfig[P] };
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
