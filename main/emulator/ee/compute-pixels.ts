import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { eeError, type Reply } from '../http/reply';
import type { EmuRequest } from '../http/router';
import { EeEvaluationError, evaluateImageInGrid, MalformedExpressionError, type AssetLookup } from './evaluator';
import { NotEmulatedError, type EeDataType, type ExportGrid, type ImageProduct } from './product';
import { writeProductGeoTiff } from './product-geotiff';

/**
 * `POST /v1/projects/{project}/image:computePixels` (docs/emulator.md#computepixels): the pixels of an
 * expression in the request's own grid, answered as GeoTIFF bytes by the same evaluator and writer as
 * exports, so a tile fetched this way holds what its export would write. Google's limits are enforced as
 * it documents them: the request size (48 MiB by default, Google's wording), 32768 pixels per side, 1024
 * bands; concurrent requests per project (429 above them); compute time from the pixel count in real
 * time; and the interactive deadline (`computeTimeoutPixels`).
 */
export interface ComputeSettings {
  computeMaxBytes(): number;
  computeConcurrency(): number;
  computePixelsPerSecond(): number;
  computeTimeoutPixels(): number | null;
  /** EE's timeout wording (the same option as for tasks). */
  timeoutMessage(): string;
}

/** Google: "at most 32K pixels in either dimension and at most 1024 bands". */
const MAX_DIMENSION = 32768;
const MAX_BANDS = 1024;

const BYTES: Record<EeDataType, number> = { Int8: 1, UInt8: 1, Int16: 2, UInt16: 2, Int32: 4, UInt32: 4, Float32: 4, Float64: 8 };

const finite = z.number().finite();
const bodySchema = z
  .object({
    expression: z.object({ result: z.string(), values: z.record(z.string(), z.unknown()) }).loose(),
    fileFormat: z.string().optional(),
    bandIds: z.array(z.string().min(1)).optional(),
    grid: z
      .object({
        dimensions: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }).loose(),
        // proto3 JSON may leave zero fields out: a missing value is 0.
        affineTransform: z
          .object({ scaleX: finite.optional(), shearX: finite.optional(), translateX: finite.optional(), shearY: finite.optional(), scaleY: finite.optional(), translateY: finite.optional() })
          .loose(),
        crsCode: z.string().optional(),
        crsWkt: z.string().optional(),
      })
      .loose()
      .optional(),
    visualizationOptions: z.unknown().optional(),
    workloadTag: z.string().optional(),
  })
  .loose();

export const COMPUTE_MESSAGES = {
  /** Google's wording (seen verbatim on computePixels and getDownloadURL). */
  tooLarge: (bytes: number, max: number) => `Total request size (${bytes} bytes) must be less than or equal to ${max} bytes.`,
  /** Wording as EE's older getDownloadURL answer, with computePixels' documented 32768. */
  tooWide: (w: number, h: number) => `Pixel grid dimensions (${w}x${h}) must be less than or equal to ${MAX_DIMENSION}.`,
  /** UNVERIFIED wording. */
  tooManyBands: (n: number) => `Too many bands requested (${n}); at most ${MAX_BANDS} bands may be requested.`,
  /** UNVERIFIED wording: Google's exact body for the concurrent-request quota is not published. */
  concurrency: (project: string, limit: number) =>
    `Too many concurrent requests for project ${project}: the limit of concurrent interactive requests (${limit}) is reached. Please retry later.`,
} as const;

/**
 * Request bytes as Google counts them: pixels × bands × bytes per pixel of each band, plus one mask byte
 * per band (the accounting Xee found Earth Engine to use; the harsher of the two readings).
 */
export function requestBytes(width: number, height: number, bands: readonly { dataType: EeDataType }[]): number {
  return width * height * bands.reduce((s, b) => s + BYTES[b.dataType] + 1, 0);
}

export class ComputePixels {
  /** Requests being computed, per project. */
  private readonly active = new Map<string, number>();
  private readonly stopped = new AbortController();
  private seq = 0;

  constructor(
    private readonly settings: ComputeSettings,
    private readonly workDir: string,
    private readonly assets: () => AssetLookup | undefined,
  ) {}

  /** Ends the waits of requests still computing (the emulator stops). */
  close(): void {
    this.stopped.abort();
  }

  /** Runs outside the emulator's lock: it reads the assets synchronously and changes no shared state. */
  async handle(req: EmuRequest): Promise<Reply> {
    const project = req.params.project as string;
    const parsed = this.read(req);
    if ('status' in parsed) return parsed;
    const { product } = parsed;
    const limit = this.settings.computeConcurrency();
    const active = this.active.get(project) ?? 0;
    if (active >= limit) return eeError(429, COMPUTE_MESSAGES.concurrency(project, limit));
    this.active.set(project, active + 1);
    try {
      const perSecond = this.settings.computePixelsPerSecond();
      const timeoutPixels = this.settings.computeTimeoutPixels();
      if (timeoutPixels !== null && product.pixels > timeoutPixels) {
        // EE computes until its deadline, then gives up: the caller waits as long as that took.
        await this.wait((timeoutPixels / perSecond) * 1000);
        return eeError(400, this.settings.timeoutMessage());
      }
      await this.wait((product.pixels / perSecond) * 1000);
      if (this.stopped.signal.aborted) return eeError(503, 'The service is currently unavailable.');
      return { status: 200, headers: { 'Content-Type': 'image/tiff' }, body: await this.geoTiff(product) };
    } finally {
      const left = (this.active.get(project) ?? 1) - 1;
      if (left > 0) this.active.set(project, left);
      else this.active.delete(project);
    }
  }

  /** The request as the product to write, or Google's 400 for what it refuses. */
  private read(req: EmuRequest): { product: ImageProduct } | Reply {
    let raw: unknown;
    try {
      const text = req.body.toString('utf8');
      if (text.trim() === '') return eeError(400, 'Invalid JSON payload received. Unexpected end of string.');
      raw = JSON.parse(text);
    } catch {
      return eeError(400, 'Invalid JSON payload received. Unexpected token.');
    }
    const r = bodySchema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      return eeError(400, `Invalid value at '${issue?.path.join('.') || 'body'}': ${issue?.message ?? 'invalid request'}`);
    }
    const b = r.data;
    // Only GeoTIFF is emulated; Google's other formats (PNG, JPEG, NPY…) are refused, never faked.
    if (b.fileFormat !== 'GEO_TIFF') return eeError(400, new NotEmulatedError(`computePixels fileFormat ${b.fileFormat ?? '(unspecified)'}; only GEO_TIFF`).message);
    if (!b.grid) return eeError(400, new NotEmulatedError('computePixels without a grid (the native projection)').message);
    if (b.grid.crsWkt !== undefined || !b.grid.crsCode) return eeError(400, new NotEmulatedError('computePixels grids without crsCode (crsWkt)').message);
    const { width, height } = b.grid.dimensions;
    if (width > MAX_DIMENSION || height > MAX_DIMENSION) return eeError(400, COMPUTE_MESSAGES.tooWide(width, height));
    const t = b.grid.affineTransform;
    const grid: ExportGrid = {
      crs: b.grid.crsCode.toUpperCase(),
      crsTransform: [t.scaleX ?? 0, t.shearX ?? 0, t.translateX ?? 0, t.shearY ?? 0, t.scaleY ?? 0, t.translateY ?? 0],
      width,
      height,
    };
    let product: ImageProduct;
    try {
      product = evaluateImageInGrid(b.expression, grid, this.assets());
    } catch (e) {
      if (e instanceof NotEmulatedError || e instanceof EeEvaluationError || e instanceof MalformedExpressionError) return eeError(400, e.message);
      throw e;
    }
    if (b.bandIds) {
      const bands = [];
      for (const id of b.bandIds) {
        const band = product.bands.find((x) => x.name === id);
        if (!band) return eeError(400, `Image.select: Pattern '${id}' did not match any bands. Available bands: [${product.bands.map((x) => x.name).join(', ')}]`);
        bands.push(band);
      }
      product = { ...product, bands };
    }
    if (product.bands.length > MAX_BANDS) return eeError(400, COMPUTE_MESSAGES.tooManyBands(product.bands.length));
    const bytes = requestBytes(width, height, product.bands);
    const max = this.settings.computeMaxBytes();
    if (bytes > max) return eeError(400, COMPUTE_MESSAGES.tooLarge(bytes, max));
    return { product };
  }

  private wait(ms: number): Promise<void> {
    const signal = this.stopped.signal;
    if (ms <= 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** The same writer as exports; masked pixels are 0 ("Masked or missing data will be encoded as zeroes"). */
  private async geoTiff(product: ImageProduct): Promise<Buffer> {
    await mkdir(this.workDir, { recursive: true });
    const path = join(this.workDir, `pixels-${process.pid}-${++this.seq}.tif`);
    try {
      await writeProductGeoTiff(path, product);
      return await readFile(path);
    } finally {
      await rm(path, { force: true });
    }
  }
}
