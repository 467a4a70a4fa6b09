import { createHash } from 'node:crypto';
import { mkdir, open, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileDataType } from '../geotiff/writer';
import { DEFAULT_SHARD_SIZE, type ExportJob } from './export-request';
import { windowHasValidPixels } from './mask';
import type { EeDataType, ImageProduct, PropertyValue, TableFeature, TableProduct } from './product';
import { writeProductGeoTiff } from './product-geotiff';
import type { Operation, OutputProducer, StagedFile } from './tasks';

/**
 * The files an image export writes, and their writing. EE writes one GeoTIFF `{prefix}.tif` unless the
 * output is too large for one file (or `fileDimensions` asks for smaller files); then each part is
 * `{prefix}-{yMin}-{xMin}.tif` with 10-digit zero-padded pixel offsets, a valid GeoTIFF with its own
 * origin.
 */
export interface FilePart {
  readonly name: string;
  readonly xOff: number;
  readonly yOff: number;
  readonly width: number;
  readonly height: number;
}

const BYTES: Record<EeDataType, number> = { Int8: 1, UInt8: 1, Int16: 2, UInt16: 2, Int32: 4, UInt32: 4, Float32: 4, Float64: 8 };

/**
 * Part size: `fileDimensions` when given; otherwise the largest square, a multiple of the shard size,
 * whose raw pixels fit in `splitBytes` (EE's own threshold is undocumented; docs/emulator.md#options fixes it as
 * an option, default 2 GiB).
 */
export function planImageFiles(product: ImageProduct, job: Pick<ExportJob, 'prefix' | 'tileDimensions' | 'tileSize'> & { skipEmptyFiles?: boolean }, splitBytes: number): FilePart[] {
  const { width, height } = product.grid;
  // EE writes one data type for all bands of a file.
  const bytesPerPixel = product.bands.length * BYTES[fileDataType(product.bands)];
  let partW: number;
  let partH: number;
  if (job.tileDimensions) {
    partW = job.tileDimensions.width;
    partH = job.tileDimensions.height;
  } else if (width * height * bytesPerPixel <= splitBytes) {
    partW = width;
    partH = height;
  } else {
    const shard = job.tileSize || DEFAULT_SHARD_SIZE;
    const edge = Math.max(shard, Math.floor(Math.sqrt(splitBytes / bytesPerPixel) / shard) * shard);
    partW = edge;
    partH = edge;
  }
  let parts: FilePart[];
  if (partW >= width && partH >= height) parts = [{ name: `${job.prefix}.tif`, xOff: 0, yOff: 0, width, height }];
  else {
    parts = [];
    for (let y = 0; y < height; y += partH) {
      for (let x = 0; x < width; x += partW) {
        parts.push({ name: `${job.prefix}-${pad10(y)}-${pad10(x)}.tif`, xOff: x, yOff: y, width: Math.min(partW, width - x), height: Math.min(partH, height - y) });
      }
    }
  }
  // skipEmptyTiles: a file whose pixels are all masked (outside the geometries the image was clipped to)
  // is not written at all. Masks the emulator cannot see (updateMask with an image) never empty a file.
  if (job.skipEmptyFiles && product.clips?.length) {
    const clips = product.clips;
    parts = parts.filter((p) => windowHasValidPixels(clips, p.xOff, p.yOff, p.width, p.height, width));
  }
  return parts;
}

function pad10(n: number): string {
  return String(n).padStart(10, '0');
}

/** Runs at most `limit` jobs at once; the rest wait in arrival order. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * Writes export outputs (GeoTIFFs, CSV or GeoJSON tables) into a staging folder while the task runs, so
 * that large files are ready (and never held in memory) by the time the task succeeds and they move
 * into Drive. With `durable`, each file is fsynced before it can be adopted by Drive.
 */
export class ImageOutputProducer implements OutputProducer {
  private readonly gate = new Semaphore(4);

  constructor(
    private readonly stagingDir: string,
    private readonly splitBytes: () => number,
    private readonly durable = false,
  ) {}

  async produce(op: Operation): Promise<StagedFile[]> {
    const product = op.job.product;
    if (!product) throw new Error(`task ${op.name} has nothing to write`);
    await mkdir(this.stagingDir, { recursive: true });
    const opId = op.name.slice(op.name.lastIndexOf('/') + 1);
    if (product.kind === 'table') {
      const ext = op.job.fileFormat === 'GEO_JSON' ? 'geojson' : 'csv';
      const name = `${op.job.prefix}.${ext}`;
      const path = join(this.stagingDir, `${opId}-a${op.attempt}-${encodeURIComponent(name)}`); // a bucket prefix has slashes
      const text = ext === 'csv' ? tableCsv(product, op.job.selectors ?? null) : tableGeoJson(product, op.job.selectors ?? null);
      const bytes = Buffer.from(text, 'utf8');
      const fh = await open(path, 'w');
      try {
        await fh.writeFile(bytes);
        if (this.durable) await fh.sync();
      } finally {
        await fh.close();
      }
      return [{ name, mimeType: ext === 'csv' ? 'text/csv' : 'application/vnd.geo+json', path, size: bytes.length, md5: createHash('md5').update(bytes).digest('hex') }];
    }
    const parts = planImageFiles(product, op.job, this.splitBytes());
    const files: StagedFile[] = [];
    try {
      for (const part of parts) {
        // Attempt in the name: a retried task never writes over files of an attempt still being discarded.
        const path = join(this.stagingDir, `${opId}-a${op.attempt}-${encodeURIComponent(part.name)}`);
        const { size, md5 } = await this.gate.run(() =>
          writeProductGeoTiff(path, product, {
            window: { col0: part.xOff, row0: part.yOff, width: part.width, height: part.height },
            ...(op.job.noData !== null ? { noData: op.job.noData } : {}),
          }),
        );
        if (this.durable) await syncFile(path);
        files.push({ name: part.name, mimeType: 'image/tiff', path, size, md5 });
      }
    } catch (e) {
      await this.discard(files);
      throw e;
    }
    return files;
  }

  async discard(files: readonly StagedFile[]): Promise<void> {
    await Promise.all(files.map((f) => unlink(f.path).catch(() => undefined)));
  }

  async clear(): Promise<void> {
    await rm(this.stagingDir, { recursive: true, force: true });
  }
}

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Tables

/** What EE writes for a feature without geometry (seen in its CSV exports; unverified for GeoJSON). */
const NO_GEOMETRY = { type: 'MultiPoint', coordinates: [] };

/**
 * Columns of a table export: `selectors` when given (in that order), else `system:index`, the
 * properties in alphabetical order, then `.geo` — EE's layout as seen in its CSV exports.
 */
export function tableColumns(product: TableProduct, selectors: readonly string[] | null): string[] {
  if (selectors && selectors.length) return [...selectors];
  const props = new Set<string>();
  for (const f of product.features) for (const k of Object.keys(f.properties)) props.add(k);
  return ['system:index', ...[...props].sort(), '.geo'];
}

function cell(f: TableFeature, column: string): PropertyValue | undefined {
  if (column === 'system:index') return f.id;
  if (column === '.geo') return JSON.stringify(f.geometry ?? NO_GEOMETRY);
  return f.properties[column];
}

function csvField(v: PropertyValue | undefined): string {
  if (v === undefined || v === null) return '';
  const text = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV with a header row; one row per feature. */
export function tableCsv(product: TableProduct, selectors: readonly string[] | null): string {
  const columns = tableColumns(product, selectors);
  const lines = [columns.map((c) => csvField(c)).join(',')];
  for (const f of product.features) lines.push(columns.map((c) => csvField(cell(f, c))).join(','));
  return `${lines.join('\n')}\n`;
}

/** A GeoJSON FeatureCollection; `selectors` pick the properties (and `.geo` whether geometry is kept). */
export function tableGeoJson(product: TableProduct, selectors: readonly string[] | null): string {
  const pick = selectors && selectors.length ? selectors.filter((c) => c !== '.geo' && c !== 'system:index') : null;
  const withGeometry = !pick || (selectors ?? []).includes('.geo');
  const features = product.features.map((f) => {
    const properties: Record<string, PropertyValue> = {};
    for (const k of pick ?? Object.keys(f.properties).sort()) properties[k] = f.properties[k] ?? null;
    return { type: 'Feature', geometry: withGeometry ? f.geometry : null, id: f.id, properties };
  });
  return `${JSON.stringify({ type: 'FeatureCollection', features })}\n`;
}
