import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { createHash } from 'node:crypto';
import { UserError } from '../errors';
import { JOB_FILE_MAX_BYTES, readBoundedFile } from '../fs-bounded';
import { DATA_TYPES } from '../grid';
import { PRESET_NAMES, parsePresetParams, type PresetName } from '../../../shared/recipes';
import { didYouMean } from '../../../shared/suggest';
import { driveFolderProblem, jsonErrorPosition, knownKeysAt } from './job-input';
import { DirectSchema, ModeSchema, productionKeys, type JobMode } from '../direct/job-keys';
import { parseGcsDestination, type GcsDestination } from '../gcs/job-destination';
import { paramsForPeriod, periodProblem } from '../recipes/period';
import { descriptionProblem, parsePeriods, PeriodError, tileIdBound, type Period, type PeriodOrder } from '../periods';

/**
 * The job file of docs/job-file.md#keys. Keys not yet implemented are refused with a clear
 * message rather than ignored: a user who writes `"retries": 5` must not believe it is honoured.
 */

const RecipeSchema = z
  .object({
    preset: z.string().optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    file: z.string().min(1).optional(),
    timeoutSeconds: z.number().positive().max(3600).optional(),
  })
  .strict();

const positive = (what: string) => z.number({ error: `${what} must be a number` }).positive({ error: `${what} must be positive` });

const ExportSchema = z
  .object({
    dataType: z.enum(Object.keys(DATA_TYPES) as [keyof typeof DATA_TYPES, ...(keyof typeof DATA_TYPES)[]]).optional(),
    maxPixels: z.number().int().positive().optional(),
    fileDimensions: z.number().int().positive().optional(),
    shardSize: z.number().int().positive().multipleOf(256).optional(),
    priority: z.number().int().min(0).max(9999).optional(),
    noData: z.number().optional(),
    bands: z.array(z.string().min(1)).min(1).optional(),
    cloudOptimized: z.boolean().optional(),
    skipEmptyTiles: z.boolean().optional(),
    // Pixels outside the ROI become NoData (the image is clipped to the ROI; docs/everyday.md#results).
    maskToRoi: z.boolean().optional(),
  })
  .strict();

export const JobFileSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9-]{1,40}$/, { error: 'name must be 1–40 letters, digits or "-" (no underscore)' }),
    roi: z.union([z.string().min(1), z.object({ path: z.string().min(1), layer: z.string().min(1).optional() }).strict()]),
    grid: z
      .object({
        crs: z.string().regex(/^EPSG:\d+$/i, { error: 'grid.crs must be an EPSG code such as "EPSG:3035"' }),
        scale: positive('grid.scale'),
        tilePixels: z.number().int({ error: 'grid.tilePixels must be a whole number' }).min(1).max(100_000),
      })
      .strict(),
    // listingGraceSeconds: how long Drive may take to list an export's files (docs/ownership.md).
    drive: z.object({ folder: z.string().min(1).max(200), listingGraceSeconds: z.number().positive().max(86_400).optional() }).strict().optional(),
    destination: z
      .object({
        type: z.enum(['drive', 'asset', 'gcs']),
        // Drive and asset jobs: the folder; Cloud Storage jobs (docs/cloud-storage.md): the bucket and prefix.
        folder: z.string().min(1).max(200).optional(),
        bucket: z.string().min(1).max(222).optional(),
        prefix: z.string().max(900).optional(),
        // Asset jobs (README "Earth Engine assets as a destination"): what happens once every tile is done.
        merge: z.boolean().optional(),
        imageMerge: z.enum(['collection', 'mosaic']).optional(),
        mergedAsset: z.string().min(1).max(300).optional(),
      })
      .strict()
      .optional(),
    output: z.string().min(1),
    maxInFlight: z.number().int().min(1).max(3000).default(4),
    ee: z.object({ project: z.string().min(1) }).strict().optional(),
    export: ExportSchema.optional(),
    recipe: RecipeSchema.optional(),
    points: z.union([z.string().min(1), z.object({ path: z.string().min(1), layer: z.string().min(1).optional() }).strict()]).optional(),
    downloads: z.number().int().min(1).max(16).default(3),
    cleanup: z.enum(['delete', 'trash', 'keep']).default('delete'),
    retries: z.number().int().min(0).max(20).default(3),
    splitDepth: z.number().int().min(0).max(8).default(2),
    driveReserveBytes: z.number().int().nonnegative().default(0),
    eecuBudgetHours: z.number().positive().optional(),
    notify: z.object({ webhook: z.url({ protocol: /^https?$/ }) }).strict().optional(),
    // A time series (docs/periods.md): checked by parsePeriods for one-line messages naming the key.
    periods: z.unknown().optional(),
    periodOrder: z.enum(['time-first', 'space-first']).optional(),
    // Direct download (docs/job-file.md#mode): computePixels instead of, or before, batch exports.
    mode: ModeSchema.optional(),
    direct: DirectSchema.optional(),
    poll: z
      .object({ minSeconds: z.number().positive().default(5), maxSeconds: z.number().positive().default(60) })
      .strict()
      .refine((p) => p.minSeconds <= p.maxSeconds, { error: 'poll.minSeconds must not exceed poll.maxSeconds' })
      .default({ minSeconds: 5, maxSeconds: 60 }),
  })
  .strict();

export interface Job {
  readonly name: string;
  /** The job file's absolute path, and its folder (relative paths resolve against it). */
  readonly file: string;
  readonly dir: string;
  readonly roi: { readonly path: string; readonly layer?: string };
  readonly grid: { readonly crs: string; readonly scale: number; readonly tilePixels: number };
  readonly driveFolder: string;
  /** Seconds Drive may take to list a succeeded export's files before the tile fails naming them (default 600). */
  readonly listingGraceSeconds: number;
  /**
   * Asset jobs (`destination: { type: "asset", folder }`): the EE folder (`projects/{p}/assets/…`) the
   * tiles export into as `{folder}/{job}_{tileId}`; no Drive, no downloads.
   */
  readonly assetFolder?: string;
  /** Cloud Storage jobs (`destination: { type: "gcs", bucket, prefix }`, docs/cloud-storage.md). */
  readonly gcs?: GcsDestination;
  /**
   * Asset jobs: the merge after the last tile. `enabled` undefined = the default (on for table jobs and
   * for `imageMerge: "mosaic"`, off for an image collection); `target` the merged asset's name when given.
   */
  readonly assetMerge?: { readonly enabled?: boolean; readonly image: 'collection' | 'mosaic'; readonly target?: string };
  readonly output: string;
  readonly maxInFlight: number;
  readonly project?: string;
  readonly export: z.infer<typeof ExportSchema>;
  /** What each tile exports (absent: the built-in test image). A recipe file's path is absolute. */
  readonly recipe?: { readonly preset: PresetName; readonly params?: Record<string, unknown> } | { readonly file: string; readonly timeoutSeconds?: number };
  /** The point layer of table jobs (absolute path). */
  readonly points?: { readonly path: string; readonly layer?: string };
  readonly downloads: number;
  readonly cleanup: 'delete' | 'trash' | 'keep';
  /** Transient failures of a tile retried this many times (new attempt, new requestId each). */
  readonly retries: number;
  /** How many times a tile that times out or runs out of memory may be split in four. */
  readonly splitDepth: number;
  /** Free Drive space kept untouched: no export is submitted that could eat into it. */
  readonly driveReserveBytes: number;
  readonly eecuBudgetHours?: number;
  readonly webhook?: string;
  /** Hashes of what defines the outputs; a change in these makes a resumed run refuse. */
  readonly fingerprint: Record<string, string>;
  readonly poll: { readonly minSeconds: number; readonly maxSeconds: number };
  /** A time series: the unit of work is (tile, period) (docs/periods.md); absent: one date range. */
  readonly periods?: readonly Period[];
  /** Which units go first: every tile of period 1, then period 2 (`time-first`), or every period of a tile. */
  readonly periodOrder: PeriodOrder;
  /** `<job folder>/.tessera/<name>`: journal, lock and log. */
  readonly stateDir: string;
  /** How tiles are made (docs/job-file.md#mode); absent: `export`. */
  readonly mode?: JobMode;
  /** `direct`/`auto`: computePixels requests in flight at most. */
  readonly direct?: { readonly concurrency: number };
}

export async function loadJobFile(path: string): Promise<Job> {
  const file = resolve(path);
  const bytes = await readBoundedFile(file, { label: `the job file ${path}`, maxBytes: JOB_FILE_MAX_BYTES, hint: 'give a .json job file', missing: `job file not found: ${path}` });
  // Windows editors start UTF-8 files with a byte-order mark, which JSON.parse refuses.
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const at = jsonErrorPosition(text, e as Error);
    throw new UserError(`the job file ${path} is not valid JSON${at ? ` (line ${at.line}, column ${at.column})` : ''}: ${(e as Error).message}`);
  }
  return parseJob(raw, file);
}

export function parseJob(raw: unknown, file: string): Job {
  const parsed = JobFileSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(`job file: ${describeIssue(parsed.error.issues[0]!, raw)}`);
  const j = parsed.data;
  const gcs = j.destination?.type === 'gcs' ? parseGcsDestination(j.destination, j.cleanup) : undefined;
  if (j.destination && j.destination.type !== 'gcs' && (j.destination.bucket !== undefined || j.destination.prefix !== undefined)) {
    throw new UserError('job file: "destination.bucket" and "prefix" belong to Cloud Storage jobs ("type": "gcs")');
  }
  // A Cloud Storage job has no Drive folder; its location reads as a gs:// URL where one is shown.
  const folder = gcs ? `gs://${gcs.bucket}/${gcs.prefix}` : (j.destination?.folder ?? j.drive?.folder);
  if (!folder) throw new UserError('job file: give the Drive folder as "drive": { "folder": … }');
  if (j.drive && j.destination) throw new UserError('job file: give either "drive" or "destination", not both');
  if (j.export?.maskToRoi && j.export.noData === undefined) {
    throw new UserError('job file: "export.maskToRoi" needs "export.noData": the value masked pixels get in the GeoTIFFs (e.g. -9999, or 0 for unsigned types), so they read as NoData and not as zeros');
  }
  const folderProblem = j.destination?.type === 'asset' || gcs ? undefined : driveFolderProblem(j.drive ? 'drive.folder' : 'destination.folder', folder);
  if (folderProblem) throw new UserError(`job file: ${folderProblem}`);
  const assetFolder = j.destination?.type === 'asset' ? folder.replace(/\/+$/, '') : undefined;
  if (assetFolder !== undefined && !/^projects\/[a-z0-9-]+\/assets\/[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(assetFolder)) {
    throw new UserError('job file: "destination.folder" of an asset job must be an asset folder such as "projects/my-project/assets/tiles"');
  }
  if (j.destination && j.destination.type !== 'asset' && (j.destination.merge !== undefined || j.destination.imageMerge !== undefined || j.destination.mergedAsset !== undefined)) {
    throw new UserError('job file: "destination.merge", "imageMerge" and "mergedAsset" belong to asset jobs ("type": "asset")');
  }
  const mergedAsset = j.destination?.mergedAsset?.replace(/\/+$/, '');
  if (mergedAsset !== undefined && (!/^projects\/[a-z0-9-]+\/assets\/[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(mergedAsset) || mergedAsset.split('/')[1] !== assetFolder?.split('/')[1])) {
    throw new UserError('job file: "destination.mergedAsset" must be an asset name in the same project as "destination.folder", such as "projects/my-project/assets/tiles/merged"');
  }
  // Earth Engine cuts files along shards: fileDimensions must be a whole number of them (docs/ownership.md).
  const fileDimensions = j.export?.fileDimensions;
  const shard = j.export?.shardSize ?? 256;
  if (fileDimensions !== undefined && fileDimensions % shard !== 0) {
    throw new UserError(`job file: "export.fileDimensions" (${fileDimensions}) must be a multiple of "export.shardSize" (${shard}${j.export?.shardSize === undefined ? ', its default' : ''}), as Earth Engine requires; use ${Math.max(shard, Math.round(fileDimensions / shard) * shard)}`);
  }
  const periods = j.periods === undefined ? undefined : jobPeriods(j.periods, j);
  const production = productionKeys(j, raw);
  if (j.periodOrder !== undefined && !periods) throw new UserError('job file: "periodOrder" goes with "periods"');
  const dir = dirname(file);
  const roi = typeof j.roi === 'string' ? { path: j.roi } : j.roi;
  const points = j.points === undefined ? undefined : typeof j.points === 'string' ? { path: j.points } : j.points;
  let recipe: Job['recipe'];
  if (j.recipe) {
    const r = j.recipe;
    if ((r.preset === undefined) === (r.file === undefined)) throw new UserError('job file: "recipe" needs either "preset" (with "params") or "file"');
    if (r.file !== undefined) {
      if (r.params) throw new UserError('job file: "recipe.params" goes with a preset, not with a recipe file');
      recipe = { file: resolve(dir, r.file), timeoutSeconds: r.timeoutSeconds };
    } else {
      if (!PRESET_NAMES.includes(r.preset as PresetName)) throw new UserError(`job file: "recipe.preset": unknown preset "${r.preset}" (presets: ${PRESET_NAMES.join(', ')})`);
      recipe = { preset: r.preset as PresetName, params: r.params ?? {} };
      const clash = periods && periodProblem(recipe.preset, recipe.params);
      if (clash) throw new UserError(`job file: ${clash}`);
      // With periods, a preset's dates come from each period: checked here with the first one's.
      checkPresetParams(recipe.preset, paramsForPeriod(recipe.preset, recipe.params, periods?.[0]));
    }
  }
  return {
    name: j.name,
    file,
    dir,
    roi: { path: resolve(dir, roi.path), layer: roi.layer },
    grid: { crs: j.grid.crs.toUpperCase(), scale: j.grid.scale, tilePixels: j.grid.tilePixels },
    driveFolder: folder,
    listingGraceSeconds: j.drive?.listingGraceSeconds ?? 600,
    ...(assetFolder !== undefined ? { assetFolder } : {}),
    ...(gcs ? { gcs } : {}),
    ...(assetFolder !== undefined
      ? { assetMerge: { enabled: j.destination?.merge, image: j.destination?.imageMerge ?? 'collection', ...(mergedAsset !== undefined ? { target: mergedAsset } : {}) } }
      : {}),
    output: resolve(dir, j.output),
    maxInFlight: production.maxInFlight,
    project: j.ee?.project,
    export: j.export ?? {},
    recipe,
    points: points && { path: resolve(dir, points.path), layer: points.layer },
    downloads: j.downloads,
    cleanup: j.cleanup,
    retries: j.retries,
    splitDepth: j.splitDepth,
    driveReserveBytes: j.driveReserveBytes,
    eecuBudgetHours: j.eecuBudgetHours,
    webhook: j.notify?.webhook,
    fingerprint: {
      roi: hash({ path: roi.path, layer: roi.layer ?? null }), // as written: moving the job folder is fine
      grid: hash({ crs: j.grid.crs.toUpperCase(), scale: j.grid.scale, tilePixels: j.grid.tilePixels }),
      export: hash(j.export ?? {}),
      destination: hash(assetFolder !== undefined ? { type: 'asset', folder: assetFolder } : gcs ? { type: 'gcs', ...gcs } : { folder }),
      // Only present with the keys, so journals of jobs without them keep matching.
      ...(j.recipe ? { recipe: hash(j.recipe) } : {}),
      ...(points ? { points: hash(points) } : {}),
    },
    poll: j.poll,
    ...(periods ? { periods } : {}),
    periodOrder: j.periodOrder ?? 'time-first',
    stateDir: resolve(dir, '.tessera', j.name),
    mode: production.mode,
    ...(production.direct ? { direct: production.direct } : {}),
  };
}

function jobPeriods(raw: unknown, j: { name: string; grid: { scale: number; tilePixels: number }; splitDepth: number; retries: number }): Period[] {
  let periods: Period[];
  try {
    periods = parsePeriods(raw);
  } catch (e) {
    if (e instanceof PeriodError) throw new UserError(`job file: ${e.message}`);
    throw e;
  }
  // Checked again with the planned tiles' real ids before anything is sent (docs/periods.md).
  const problem = descriptionProblem({ job: j.name, tileId: tileIdBound(j.grid), splitDepth: j.splitDepth, retries: j.retries, periods });
  if (problem) throw new UserError(`job file: ${problem}`);
  return periods;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const key = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
  let value: unknown = raw;
  for (const k of issue.path) value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[k] : undefined;
  if (value === undefined && issue.path.length) return `"${key}" is missing`;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    const prefix = issue.path.length ? `${issue.path.map(String).join('.')}.` : '';
    const hint = keys.length === 1 ? didYouMean(keys[0]!, knownKeysAt(JobFileSchema, issue.path), prefix) : '';
    return `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${[...issue.path, k].join('.')}"`).join(', ')}${hint}`;
  }
  return `"${key}": ${issue.message}`;
}

function hash(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);
}

/** A preset's parameters (and, for `points`, those of the image it samples), checked before anything runs. */
export function checkPresetParams(name: PresetName, params: unknown): void {
  const r = parsePresetParams(name, params);
  if (!r.ok) throw new UserError(`job file: ${r.message}`);
  if (name === 'points') {
    const inner = (r.value as { image: { preset: PresetName; params?: unknown } }).image;
    const ir = parsePresetParams(inner.preset, inner.params ?? {});
    if (!ir.ok) throw new UserError(`job file: in recipe.params.image: ${ir.message}`);
  }
}
