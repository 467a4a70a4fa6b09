import { mkdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileDataType, syntheticValue, writeGeoTiff } from '../geotiff/writer';
import { DEFAULT_SHARD_SIZE, type ExportJob } from './export-request';
import type { EeDataType, ImageProduct } from './product';
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
 * whose raw pixels fit in `splitBytes` (EE's own threshold is undocumented; CONTRACTS.md §6 fixes it as
 * an option, default 2 GiB).
 */
export function planImageFiles(product: ImageProduct, job: Pick<ExportJob, 'prefix' | 'tileDimensions' | 'tileSize'>, splitBytes: number): FilePart[] {
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
  if (partW >= width && partH >= height) return [{ name: `${job.prefix}.tif`, xOff: 0, yOff: 0, width, height }];
  const parts: FilePart[] = [];
  for (let y = 0; y < height; y += partH) {
    for (let x = 0; x < width; x += partW) {
      parts.push({ name: `${job.prefix}-${pad10(y)}-${pad10(x)}.tif`, xOff: x, yOff: y, width: Math.min(partW, width - x), height: Math.min(partH, height - y) });
    }
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
 * Writes image outputs into a staging folder while the task runs, so that large files are ready (and
 * never held in memory) by the time the task succeeds and they move into Drive.
 */
export class ImageOutputProducer implements OutputProducer {
  private readonly gate = new Semaphore(4);

  constructor(
    private readonly stagingDir: string,
    private readonly splitBytes: () => number,
  ) {}

  async produce(op: Operation): Promise<StagedFile[]> {
    const product = op.job.product;
    if (!product) throw new Error(`task ${op.name} has no image to write`);
    const parts = planImageFiles(product, op.job, this.splitBytes());
    await mkdir(this.stagingDir, { recursive: true });
    const opId = op.name.slice(op.name.lastIndexOf('/') + 1);
    const files: StagedFile[] = [];
    try {
      for (const part of parts) {
        // Attempt in the name: a retried task never writes over files of an attempt still being discarded.
        const path = join(this.stagingDir, `${opId}-a${op.attempt}-${part.name}`);
        const { size, md5 } = await this.gate.run(() =>
          writeGeoTiff(
            path,
            {
              width: product.grid.width,
              height: product.grid.height,
              bands: product.bands,
              crs: product.grid.crs,
              crsTransform: product.grid.crsTransform,
              window: { col0: part.xOff, row0: part.yOff, width: part.width, height: part.height },
              ...(op.job.noData !== null ? { noData: op.job.noData } : {}),
            },
            // Values follow world coordinates, so neighbouring tiles and the parts of a split output
            // continue each other, and no two tiles have the same bytes.
            (band, x, y) => syntheticValue(band, x, y, product.bands[band]?.dataType ?? 'Float32'),
          ),
        );
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
