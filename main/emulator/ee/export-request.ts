import { z } from 'zod';
import { evaluateImageExport, evaluateTableExport, EeEvaluationError, MalformedExpressionError, type AssetLookup } from './evaluator';
import { NotEmulatedError, type ExportProduct } from './product';
import { DRIVE_FULL_MESSAGE } from '../../../shared/messages';

/**
 * Reads an `image:export` / `table:export` body (docs/earth-engine-client.md#exports) into what the task simulation
 * needs. Malformed requests are refused at once (RequestError → 400, like Google); everything that Earth
 * Engine only finds out while running the task (an expression it rejects, too many pixels, something the
 * emulator cannot follow) becomes the task's planned failure instead.
 */
export class RequestError extends Error {}

export type ExportKind = 'EXPORT_IMAGE' | 'EXPORT_FEATURES';

export interface TaskFailure {
  /** google.rpc.Code of the operation's error (Google's real codes for task failures are unverified). */
  readonly code: number;
  readonly message: string;
}

export interface ExportJob {
  readonly type: ExportKind;
  readonly description: string | null;
  readonly requestId: string | null;
  readonly priority: number;
  /** Drive folder name ('' = My Drive's root) and file name prefix. */
  readonly folder: string;
  readonly prefix: string;
  readonly fileFormat: string;
  readonly product: ExportProduct | null;
  /** Pixels (features, for tables) the run time is judged on (0 when the product is unknown). */
  readonly pixels: number;
  readonly failure: TaskFailure | null;
  /** `fileDimensions` of the request (EE's `geoTiffOptions.tileDimensions`). */
  readonly tileDimensions: { readonly width: number; readonly height: number } | null;
  /** `shardSize` (EE's `geoTiffOptions.tileSize`), default 256. */
  readonly tileSize: number;
  readonly skipEmptyFiles: boolean;
  readonly noData: number | null;
  /** Table exports: the columns asked for (`selectors`), in order; null = all. */
  readonly selectors?: readonly string[] | null;
  /** `toAsset` exports: the asset written when the task succeeds (instead of Drive files). */
  readonly asset?: { readonly name: string; readonly overwrite: boolean } | null;
  /** `toCloudStorage` exports: the bucket the files go to (their names are `prefix` + suffix, slashes kept). */
  readonly bucket?: string | null;
}

/** The table formats the emulator writes. */
export const TABLE_FORMATS = ['CSV', 'GEO_JSON'] as const;

/** EE's default maxPixels (REST: "default value is 1e8 pixels"). */
export const DEFAULT_MAX_PIXELS = 1e8;
export const DEFAULT_PRIORITY = 100;
export const DEFAULT_SHARD_SIZE = 256;

export const MESSAGES = {
  timeout: 'Computation timed out.',
  memory: 'User memory limit exceeded.',
  internal: 'Internal error.',
  cancelled: 'Cancelled.',
  tooLarge: (pixels: number, max: number) =>
    `Export too large: specified ${pixels} pixels (max: ${max}). Specify higher maxPixels value if you intend to export a large area.`,
  queueFull: (limit: number) => `Too many tasks already in the queue (${limit}). Please wait for some of them to complete.`,
  /** UNVERIFIED wording, defined once in shared/ so the engine matches the same text. */
  driveFull: DRIVE_FULL_MESSAGE,
  /** UNVERIFIED wording (main/emulator/README.md, "Cloud Storage"): an export to a bucket that does not exist. */
  noBucket: (bucket: string) => `Unable to write to bucket ${bucket}: the bucket does not exist, or the account running the export may not create objects in it.`,
} as const;

const int64 = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform((v) => Number(v));
const noDataValue = z.object({ floatValue: z.number().optional(), integerValue: z.union([z.string(), z.number()]).optional() }).loose();

const bodySchema = z
  .object({
    expression: z.object({ result: z.string(), values: z.record(z.string(), z.unknown()) }).loose(),
    description: z.string().max(1024).optional(),
    requestId: z.string().regex(/^[A-Za-z0-9-]{1,60}$/, 'requestId may contain only letters, digits and "-" (at most 60)').optional(),
    priority: z.number().int().min(0).max(9999).optional(),
    maxPixels: int64.optional(),
    fileExportOptions: z
      .object({
        fileFormat: z.string().optional(),
        driveDestination: z.object({ folder: z.string().optional(), filenamePrefix: z.string().optional() }).loose().optional(),
        cloudStorageDestination: z.object({ bucket: z.string().min(1), filenamePrefix: z.string().optional() }).loose().optional(),
        geoTiffOptions: z
          .object({
            cloudOptimized: z.boolean().optional(),
            skipEmptyFiles: z.boolean().optional(),
            tileDimensions: z.object({ width: z.number().int().positive().optional(), height: z.number().int().positive().optional() }).optional(),
            tileSize: z.number().int().positive().optional(),
            noData: noDataValue.optional(),
          })
          .loose()
          .optional(),
      })
      .loose()
      .optional(),
    assetExportOptions: z
      .object({ earthEngineDestination: z.object({ name: z.string().min(1), overwrite: z.boolean().optional() }).loose() })
      .loose()
      .optional(),
    selectors: z.array(z.string()).optional(),
  })
  .loose();

/**
 * Runs the evaluator on an export's expression: a malformed expression is the request's fault (400);
 * what the emulator cannot evaluate, or what EE itself would refuse, fails the task instead.
 */
function evaluated<P extends ExportProduct>(run: () => P): { product: P | null; failure: TaskFailure | null } {
  try {
    return { product: run(), failure: null };
  } catch (e) {
    if (e instanceof MalformedExpressionError) throw new RequestError(e.message);
    if (e instanceof NotEmulatedError) return { product: null, failure: { code: 12, message: e.message } };
    if (e instanceof EeEvaluationError) return { product: null, failure: { code: 3, message: e.message } };
    throw e;
  }
}

export function readExportRequest(raw: unknown, type: ExportKind, assets?: AssetLookup): ExportJob {
  const parsed = bodySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'body';
    throw new RequestError(`Invalid value at '${where}': ${issue?.message ?? 'invalid request'}`);
  }
  const b = parsed.data;
  const fx = b.fileExportOptions;
  const geo = fx?.geoTiffOptions;
  const tileSize = geo?.tileSize ?? DEFAULT_SHARD_SIZE;
  let tileDimensions: ExportJob['tileDimensions'] = null;
  if (geo?.tileDimensions && (geo.tileDimensions.width !== undefined || geo.tileDimensions.height !== undefined)) {
    const width = geo.tileDimensions.width ?? geo.tileDimensions.height ?? tileSize;
    const height = geo.tileDimensions.height ?? width;
    if (width % tileSize !== 0 || height % tileSize !== 0) {
      // Wording unverified; the rule is from the docs ("Must be a multiple of shardSize").
      throw new RequestError(`fileDimensions (${height}x${width}) must be a multiple of shardSize (${tileSize}).`);
    }
    tileDimensions = { width, height };
  }
  const nd = geo?.noData;
  const noData = nd === undefined ? null : nd.floatValue ?? (nd.integerValue === undefined ? null : Number(nd.integerValue));

  let failure: TaskFailure | null = null;
  let product: ExportProduct | null = null;
  const drive = fx?.driveDestination;
  const asset = b.assetExportOptions ? { name: b.assetExportOptions.earthEngineDestination.name, overwrite: b.assetExportOptions.earthEngineDestination.overwrite ?? false } : null;
  if (asset && fx !== undefined) throw new RequestError('Invalid value: exactly one destination (fileExportOptions or assetExportOptions) is required.');
  if (asset) {
    // checked when the task ends (assets.ts)
  } else if (fx?.cloudStorageDestination !== undefined) {
    // The bucket is checked when the task ends (tasks.ts): the harsher reading, the task runs its time first.
  } else if (!drive) throw new RequestError('Invalid value: exactly one destination (fileExportOptions or assetExportOptions) is required.');

  if (!failure && type === 'EXPORT_IMAGE') {
    const image = evaluated(() => evaluateImageExport(raw, assets));
    ({ product, failure } = image);
    const maxPixels = b.maxPixels ?? DEFAULT_MAX_PIXELS;
    if (image.product && image.product.pixels > maxPixels) failure = { code: 3, message: MESSAGES.tooLarge(image.product.pixels, maxPixels) };
  } else if (!failure) {
    const format = asset ? 'CSV' : (fx?.fileFormat ?? 'CSV');
    if (!(TABLE_FORMATS as readonly string[]).includes(format)) failure = notEmulated(`table file format ${format}`);
    else ({ product, failure } = evaluated(() => evaluateTableExport(raw, assets)));
  }

  const defaultFormat = type === 'EXPORT_IMAGE' ? 'GEO_TIFF' : 'CSV';
  return {
    type,
    description: b.description ?? null,
    requestId: b.requestId ?? null,
    priority: b.priority ?? DEFAULT_PRIORITY,
    folder: drive?.folder ?? '',
    // EE names the file after the task when no prefix is given.
    prefix: fx?.cloudStorageDestination?.filenamePrefix || drive?.filenamePrefix || b.description || (type === 'EXPORT_IMAGE' ? 'myExportImageTask' : 'myExportTableTask'),
    fileFormat: fx?.fileFormat ?? defaultFormat,
    product,
    pixels: product === null ? 0 : product.kind === 'image' ? product.pixels : product.features.length,
    failure,
    tileDimensions,
    tileSize,
    skipEmptyFiles: geo?.skipEmptyFiles ?? false,
    noData,
    selectors: type === 'EXPORT_FEATURES' ? (b.selectors ?? null) : null,
    asset,
    bucket: fx?.cloudStorageDestination?.bucket ?? null,
  };
}

function notEmulated(what: string): TaskFailure {
  return { code: 12, message: new NotEmulatedError(what).message };
}
