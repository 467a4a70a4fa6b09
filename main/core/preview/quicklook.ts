import { fromFile } from 'geotiff';
import { encode } from 'fast-png';
import { bandSetKey, percentileStretch, toByte, type Stretch } from './stretch';

/**
 * A quicklook of one unit's output (docs/previews.md): at most `maxSize` pixels on its long side, PNG,
 * one band drawn grey, three or more as RGB (the first three), nodata and NaN transparent. A unit split
 * by Earth Engine into several files is assembled from its parts where each lies in the unit's grid.
 * GeoTIFFs are read with `geotiff` (its own nearest-neighbour resampling, so a large file is never read
 * whole) and the PNG written with `fast-png`.
 */
export const QUICKLOOK_MAX_PIXELS = 256;

/** The unit's grid (journal order [sx, shx, x0, shy, sy, y0] and [width, height]); default: the first file's. */
export interface UnitGrid {
  readonly crsTransform: readonly [number, number, number, number, number, number];
  readonly dimensions: readonly [number, number];
}

export interface Quicklook {
  readonly png: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** The stretch used: the one given, or computed from this unit (the caller keeps it for the job). */
  readonly stretch: Stretch;
}

interface Part {
  readonly path: string;
  readonly col0: number;
  readonly row0: number;
  readonly width: number;
  readonly height: number;
}

export async function renderQuicklook(paths: readonly string[], grid?: UnitGrid, known?: Stretch, maxSize = QUICKLOOK_MAX_PIXELS): Promise<Quicklook> {
  if (paths.length === 0) throw new Error('a quicklook needs at least one GeoTIFF');
  const first = await describe(paths[0]!);
  const [sx, , x0, , sy, y0] = grid?.crsTransform ?? [first.resX, 0, first.originX, 0, first.resY, first.originY];
  const [gw, gh] = grid?.dimensions ?? [first.width, first.height];
  const scale = Math.min(1, maxSize / Math.max(gw, gh));
  const width = Math.max(1, Math.round(gw * scale));
  const height = Math.max(1, Math.round(gh * scale));
  const bandSet = bandSetKey(first.bands, first.sampleFormat, first.bits);
  const picked = first.bands >= 3 ? [0, 1, 2] : [0];
  const planes = picked.map(() => new Float64Array(width * height).fill(Number.NaN));

  const parts: Part[] = [];
  for (const path of paths) {
    const d = path === paths[0] ? first : await describe(path);
    if (bandSetKey(d.bands, d.sampleFormat, d.bits) !== bandSet) throw new Error(`${path}: its bands differ from the unit's other files`);
    parts.push({ path, col0: Math.round((d.originX - x0) / sx), row0: Math.round((d.originY - y0) / sy), width: d.width, height: d.height });
  }
  for (const part of parts) {
    const tx0 = clamp(Math.floor(part.col0 * scale), width);
    const tx1 = clamp(Math.floor((part.col0 + part.width) * scale), width);
    const ty0 = clamp(Math.floor(part.row0 * scale), height);
    const ty1 = clamp(Math.floor((part.row0 + part.height) * scale), height);
    if (tx1 <= tx0 || ty1 <= ty0) continue;
    const tiff = await fromFile(part.path);
    try {
      const image = await tiff.getImage();
      const noData = image.getGDALNoData();
      const rasters = await image.readRasters({ samples: picked, width: tx1 - tx0, height: ty1 - ty0, resampleMethod: 'nearest', interleave: false });
      const rw = tx1 - tx0;
      picked.forEach((_, b) => {
        const src = rasters[b] as ArrayLike<number>;
        const dst = planes[b]!;
        for (let y = ty0; y < ty1; y++) {
          for (let x = tx0; x < tx1; x++) {
            const v = src[(y - ty0) * rw + (x - tx0)]!;
            dst[y * width + x] = noData !== null && v === noData ? Number.NaN : v;
          }
        }
      });
    } finally {
      await tiff.close();
    }
  }

  const stretch: Stretch = known && known.bandSet === bandSet && known.bands.length === picked.length ? known : { bandSet, bands: planes.map((p) => percentileStretch(p, Number.isFinite)) };
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    let valid = true;
    for (const p of planes) if (!Number.isFinite(p[i]!)) valid = false;
    if (!valid) continue; // stays transparent
    const r = toByte(planes[0]![i]!, stretch.bands[0]!);
    rgba[4 * i] = r;
    rgba[4 * i + 1] = planes.length === 3 ? toByte(planes[1]![i]!, stretch.bands[1]!) : r;
    rgba[4 * i + 2] = planes.length === 3 ? toByte(planes[2]![i]!, stretch.bands[2]!) : r;
    rgba[4 * i + 3] = 255;
  }
  return { png: encode({ width, height, data: rgba, channels: 4, depth: 8 }), width, height, stretch };
}

/** The band set of a GeoTIFF (band count and sample type): the key of its stretch. */
export async function bandSetOf(path: string): Promise<string> {
  const d = await describe(path);
  return bandSetKey(d.bands, d.sampleFormat, d.bits);
}

interface Described {
  width: number;
  height: number;
  bands: number;
  sampleFormat: string;
  bits: number;
  originX: number;
  originY: number;
  resX: number;
  resY: number;
}

async function describe(path: string): Promise<Described> {
  const tiff = await fromFile(path);
  try {
    const image = await tiff.getImage();
    const [originX, originY] = image.getOrigin();
    const [resX, resY] = image.getResolution();
    const format = image.getSampleFormat(0);
    return {
      width: image.getWidth(),
      height: image.getHeight(),
      bands: image.getSamplesPerPixel(),
      sampleFormat: format === 3 ? 'f' : format === 2 ? 'i' : 'u',
      bits: image.getBitsPerSample(0),
      originX: originX!,
      originY: originY!,
      resX: resX!,
      resY: resY!,
    };
  } finally {
    await tiff.close();
  }
}

function clamp(v: number, n: number): number {
  return Math.max(0, Math.min(n, v));
}
