/**
 * What a dashboard reads besides the contract's events (shared/contract.ts): a snapshot of every job it
 * shows, a job's summary, one tile's details, and the envelope of the event stream. The engine host
 * (main/core/engine/host.ts) produces these; the renderer validates them with the schemas below, whatever
 * the transport (HTTP + SSE for `tessera serve`, IPC for the desktop app, in-process for tests).
 */
import { z } from 'zod';
import { EventSchema, JobProgressSchema, QuotaSchema, TileStateSchema } from './contract';
import { PRESET_NAMES, parsePresetParams, type PresetName } from './recipes';

const JobName = z.string().regex(/^[A-Za-z0-9-]{1,40}$/);
const Iso = z.string();

/** A tile on the map: its outline in EPSG:4326 as a flat [lon, lat, lon, lat, …] ring (not closed). */
export const TileViewSchema = z.object({
  id: z.string(),
  state: TileStateSchema,
  attempt: z.number().int().nonnegative(),
  ring: z.array(z.number()),
});
export type TileView = z.infer<typeof TileViewSchema>;

export const LogEntrySchema = z.object({ level: z.enum(['debug', 'info', 'warn', 'error']), message: z.string(), at: Iso });
export type LogEntry = z.infer<typeof LogEntrySchema>;

/** Everything about a job except its tiles; cheap to fetch again. */
export const JobSummarySchema = z.object({
  name: JobName,
  file: z.string(),
  /** Asset jobs: the Earth Engine folder their tiles go to (the assets panel opens there). */
  assetFolder: z.string().nullable().optional(),
  /**
   * Cloud Storage jobs: the bucket and prefix their outputs go to; the dashboard shows this job's objects
   * there instead of the Drive gauge (a bucket has no quota to read). `drive` then counts those objects.
   */
  bucket: z.object({ bucket: z.string(), prefix: z.string() }).nullable().optional(),
  progress: JobProgressSchema,
  /** Drive's storage quota as last read for this job's account; null until read. */
  quota: QuotaSchema.nullable(),
  drive: z.object({
    /** Bytes of this job's outputs still in Drive (listed, not yet cleaned up). */
    pendingBytes: z.number().nonnegative(),
    pendingFiles: z.number().int().nonnegative(),
    /** Tiles exported whose files are not listed yet (their size is not known). */
    unlistedTiles: z.number().int().nonnegative(),
    /** Their likely bytes: the average output of the tiles listed so far (0 before any). */
    unlistedBytes: z.number().nonnegative(),
    reserveBytes: z.number().nonnegative(),
    /** Bytes of this job's outputs downloaded and verified so far (every run). */
    downloadedBytes: z.number().nonnegative(),
    cleanup: z.enum(['delete', 'trash', 'keep']),
  }),
  eecu: z.object({
    usedSeconds: z.number().nonnegative(),
    /** Used so far plus the tiles left at the average so far; null until one tile has run. */
    projectedSeconds: z.number().nonnegative().nullable(),
    budgetSeconds: z.number().nonnegative().nullable(),
  }),
  /** A run of the engine is driving the job now. */
  running: z.boolean(),
  /** How the last run ended (null while it runs, or before the first one). */
  outcome: z.object({ exitCode: z.number().int(), message: z.string().nullable() }).nullable(),
  log: z.array(LogEntrySchema),
  /**
   * What a finished run left on the serving machine (absolute paths; null entries are not there): the
   * output folder, the VRT mosaic and the summary. Absent while the job runs.
   */
  results: z.object({ folder: z.string(), mosaic: z.string().nullable(), summary: z.string().nullable() }).nullable().optional(),
});
export type JobSummary = z.infer<typeof JobSummarySchema>;

export const JobViewSchema = JobSummarySchema.extend({
  tiles: z.array(TileViewSchema),
  /** The ROI outline in EPSG:4326: rings as flat [lon, lat, …] arrays. */
  roi: z.array(z.array(z.number())),
  /** [west, south, east, north] of the ROI and tiles, in degrees; null before the job is planned. */
  bounds: z.tuple([z.number(), z.number(), z.number(), z.number()]).nullable(),
});
export type JobView = z.infer<typeof JobViewSchema>;

export const DashboardSnapshotSchema = z.object({
  /** The stream position this snapshot includes: stream messages with a higher seq come after it. */
  seq: z.number().int().nonnegative(),
  jobs: z.array(JobViewSchema),
});
export type DashboardSnapshot = z.infer<typeof DashboardSnapshotSchema>;

export const TileDetailSchema = z.object({
  job: JobName,
  id: z.string(),
  crs: z.string(),
  crsTransform: z.array(z.number()),
  dimensions: z.array(z.number()),
  state: TileStateSchema,
  attempt: z.number().int().nonnegative(),
  retriesUsed: z.number().int().nonnegative(),
  description: z.string().nullable(),
  /** Earth Engine operation name of the last attempt. */
  operation: z.string().nullable(),
  /** Earth Engine's message (or the engine's) for the last failure. */
  error: z.string().nullable(),
  /** How the tile's pixels came (docs/direct-download.md): a direct request or a batch export; absent until known. */
  via: z.enum(['direct', 'export']).optional(),
  eecuSeconds: z.number().nonnegative().nullable(),
  notBefore: Iso.nullable(),
  history: z.array(z.object({ state: TileStateSchema, at: Iso })),
  files: z.array(z.object({ id: z.string(), name: z.string(), size: z.number(), md5: z.string(), verified: z.boolean(), cleaned: z.boolean() })),
  ring: z.array(z.number()),
});
export type TileDetail = z.infer<typeof TileDetailSchema>;

/**
 * The stream: after (re)connecting, a `hello` with the current position; then the contract's events, and
 * tiles added to a job (its first plan, the children of a split) with their outlines. A client that sees
 * `hello` fetches a snapshot and applies the messages with a higher `seq`.
 */
export const StreamMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('hello'), seq: z.number().int().nonnegative() }),
  z.object({ kind: z.literal('event'), seq: z.number().int().nonnegative(), event: EventSchema }),
  z.object({ kind: z.literal('tiles'), seq: z.number().int().nonnegative(), job: JobName, tiles: z.array(TileViewSchema) }),
  /** The set of jobs changed (one was added or removed): fetch a snapshot. */
  z.object({ kind: z.literal('jobs'), seq: z.number().int().nonnegative() }),
]);
export type StreamMessage = z.infer<typeof StreamMessageSchema>;

/** What a command returns: `status` gives the job's progress; the others just acknowledge. */
export const CommandResultSchema = z.object({ ok: z.literal(true), progress: JobProgressSchema.optional() });
export type CommandResult = z.infer<typeof CommandResultSchema>;

// ---- the job wizard -------------------------------------------------------------------------------------------
// The same schemas validate the wizard's form in the renderer and the request in the host.

const RoiRef = z.object({ path: z.string().trim().min(1, 'choose an ROI file'), layer: z.string().min(1).optional() }).strict();
const GridFields = z
  .object({
    crs: z.string().trim().regex(/^EPSG:\d{4,6}$/, 'a CRS like EPSG:32632'),
    scale: z.number({ error: 'a pixel size' }).positive('a pixel size above 0'),
    tilePixels: z.number({ error: 'a tile size in pixels' }).int('a whole number of pixels').min(1).max(1_000_000),
  })
  .strict();

/** Ask the host for the grid of an ROI: the layers of the file, the tile count and the estimates. */
export const GridPreviewRequestSchema = z
  .object({
    roi: RoiRef,
    grid: GridFields,
    bands: z.number().int().min(1).max(5000).optional(),
    dataType: z.enum(['Int8', 'UInt8', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Float32', 'Float64']).optional(),
    maxPixels: z.number().positive().optional(),
  })
  .strict();
export type GridPreviewRequest = z.infer<typeof GridPreviewRequestSchema>;

export const GridPreviewSchema = z.object({
  layers: z.array(z.object({ name: z.string(), geometryType: z.string(), featureCount: z.number().int().nonnegative() })),
  layer: z.string(),
  tiles: z.number().int().nonnegative(),
  pixelsPerTile: z.number().nonnegative(),
  bytesPerTile: z.number().nonnegative(),
  totalPixels: z.number().nonnegative(),
  totalBytes: z.number().nonnegative(),
  maxPixels: z.number().positive(),
  /** A tile has more pixels than `maxPixels`: its export would be refused. */
  overMaxPixels: z.boolean(),
  warnings: z.array(z.string()),
  /** Outlines (EPSG:4326, flat rings) of the first tiles, at most 5,000, for the map. */
  preview: z.array(z.array(z.number())),
});
export type GridPreview = z.infer<typeof GridPreviewSchema>;

/** A new job (docs/job-file.md) and where to save it; the host writes it, adds the job and (by default) starts it. */
export const NewJobRequestSchema = z
  .object({
    file: z.string().trim().min(1, 'where to save the job file').regex(/\.json$/, 'a path ending in .json'),
    job: z
      .object({
        name: z.string().regex(/^[A-Za-z0-9-]{1,40}$/, 'letters, digits and - (no _), at most 40'),
        roi: RoiRef,
        grid: GridFields,
        recipe: z.union([z.object({ preset: z.string().min(1), params: z.record(z.string(), z.unknown()).default({}) }).strict(), z.object({ file: z.string().min(1) }).strict()]).optional(),
        // Where the exports go: a Drive folder, or a Cloud Storage bucket and prefix (docs/cloud-storage.md); one of the two.
        drive: z.object({ folder: z.string().trim().min(1, 'a Drive folder') }).strict().optional(),
        destination: z.object({ type: z.literal('gcs'), bucket: z.string().trim().min(1, 'a Cloud Storage bucket'), prefix: z.string().trim().optional() }).strict().optional(),
        output: z.string().trim().min(1, 'a local folder'),
        // How tiles are made (docs/direct-download.md); absent: export.
        mode: z.enum(['export', 'direct', 'auto']).optional(),
        maxInFlight: z.number().int().min(1).max(3000).optional(),
        driveReserveBytes: z.number().int().nonnegative().optional(),
        eecuBudgetHours: z.number().positive().optional(),
      })
      .strict(),
    start: z.boolean().default(true),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.job.drive === !v.job.destination) ctx.addIssue({ code: 'custom', path: ['job', 'drive', 'folder'], message: 'a Drive folder or a Cloud Storage bucket (one of them)' });
    const r = v.job.recipe;
    if (!r || !('preset' in r)) return;
    if (!(PRESET_NAMES as string[]).includes(r.preset)) {
      ctx.addIssue({ code: 'custom', path: ['job', 'recipe', 'preset'], message: `no preset "${r.preset}" (${PRESET_NAMES.join(', ')})` });
      return;
    }
    const p = parsePresetParams(r.preset as PresetName, r.params);
    if (!p.ok) ctx.addIssue({ code: 'custom', path: ['job', 'recipe', 'params'], message: p.message });
  });
export type NewJobRequest = z.input<typeof NewJobRequestSchema>;

export const NewJobResultSchema = z.object({ ok: z.literal(true), name: JobName, file: z.string() });
export type NewJobResult = z.infer<typeof NewJobResultSchema>;

/** Check a recipe for the wizard's ROI and grid as `tessera recipes check` does: the first tile built, nothing exported. */
export const RecipeCheckRequestSchema = z
  .object({
    recipe: z.union([z.object({ preset: z.string().min(1), params: z.record(z.string(), z.unknown()).default({}) }).strict(), z.object({ file: z.string().trim().min(1, 'a recipe file') }).strict()]),
    roi: RoiRef,
    grid: GridFields,
  })
  .strict();
export type RecipeCheckRequest = z.input<typeof RecipeCheckRequestSchema>;

/** The check's answer: `ok: false` with the recipe's error (file line included) when it does not build. */
export const RecipeCheckSchema = z.union([
  z.object({
    ok: z.literal(true),
    label: z.string(),
    tile: z.string(),
    kind: z.enum(['image', 'table']),
    logs: z.array(z.string()),
    bands: z.array(z.object({ id: z.string(), type: z.string() })),
    features: z.string().optional(),
    points: z.number().int().nonnegative().nullable().optional(),
    note: z.string().optional(),
  }),
  z.object({ ok: z.literal(false), message: z.string() }),
]);
export type RecipeCheck = z.infer<typeof RecipeCheckSchema>;

/** Files the browser sends to `tessera serve` for the wizard (ROI or recipe), and where the host kept them. */
export const UPLOAD_MAX_BYTES = 200 * 1024 * 1024;
export const UPLOAD_EXTENSIONS = ['.gpkg', '.geojson', '.json', '.js'] as const;
export const UploadResultSchema = z.object({ ok: z.literal(true), path: z.string(), name: z.string(), size: z.number().int().nonnegative() });
export type UploadResult = z.infer<typeof UploadResultSchema>;

/** What the desktop app's open-file dialog is for: an ROI (GeoPackage, GeoJSON) or a recipe (.js). */
/** The desktop's file dialogs: open an ROI or a recipe, or choose where to save the job file. */
export const ChooseFileRequestSchema = z.object({ kind: z.enum(['roi', 'recipe', 'job']) }).strict();
export type FileKind = ChooseFileRequest['kind'];
export type ChooseFileRequest = z.infer<typeof ChooseFileRequestSchema>;
