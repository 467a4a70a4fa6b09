/**
 * A streaming GeoTIFF writer for the emulator's export outputs: uncompressed strips, one plane per band
 * (PlanarConfiguration 2, like EE's band-interleaved files), classic TIFF or BigTIFF beyond 4 GiB.
 * All tags are written before the pixels (the strip layout is known up front), then strips of a bounded
 * number of rows follow, each awaited before the next: memory stays flat whatever the image size, and the
 * size and MD5 Drive reports come out of the same pass.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { epsgCodeOf, resolveCrs } from '../../core/geo/crs';
import { rowIntervals, type Clip, type Intervals } from '../ee/mask';
import type { EeDataType, ExportBand } from '../ee/product';

/** A sub-window of the grid, in whole pixels (EE's split outputs). */
export interface GeoTiffWindow {
  readonly col0: number;
  readonly row0: number;
  readonly width: number;
  readonly height: number;
}

export interface GeoTiffSpec {
  /** Size of the whole grid. */
  readonly width: number;
  readonly height: number;
  readonly bands: readonly ExportBand[];
  /** `EPSG:n` */
  readonly crs: string;
  /** EE order [sx, shx, x0, shy, sy, y0] of the whole grid. */
  readonly crsTransform: readonly [number, number, number, number, number, number];
  /** Write only this part of the grid (default: all of it), georeferenced where it lies. */
  readonly window?: GeoTiffWindow;
  readonly noData?: number;
  /**
   * Masked outside these clips (whole-grid pixel rings, ee/mask.ts): such pixels are written as
   * `noData` (0 without it), the way EE writes masked pixels.
   */
  readonly clips?: readonly Clip[];
  /** Force BigTIFF (tests); otherwise it is used only when a classic TIFF would pass 4 GiB. */
  readonly bigTiff?: boolean;
}

/** A pixel's value from its band index and the world coordinates of its centre in the grid's CRS. */
export type PixelValue = (band: number, x: number, y: number) => number;

export interface WrittenFile {
  readonly size: number;
  /** Lower-case hex, as Drive's `md5Checksum`. */
  readonly md5: string;
}

interface TypeInfo {
  readonly bytes: 1 | 2 | 4 | 8;
  /** TIFF SampleFormat: 1 unsigned, 2 signed, 3 IEEE float. */
  readonly sampleFormat: 1 | 2 | 3;
  readonly min: number;
  readonly max: number;
  readonly array: (buffer: ArrayBuffer, offset: number, length: number) => ArrayLike<number> & { [i: number]: number };
}

const TYPES: Record<EeDataType, TypeInfo> = {
  UInt8: { bytes: 1, sampleFormat: 1, min: 0, max: 255, array: (b, o, n) => new Uint8Array(b, o, n) },
  Int8: { bytes: 1, sampleFormat: 2, min: -128, max: 127, array: (b, o, n) => new Int8Array(b, o, n) },
  UInt16: { bytes: 2, sampleFormat: 1, min: 0, max: 65535, array: (b, o, n) => new Uint16Array(b, o, n) },
  Int16: { bytes: 2, sampleFormat: 2, min: -32768, max: 32767, array: (b, o, n) => new Int16Array(b, o, n) },
  UInt32: { bytes: 4, sampleFormat: 1, min: 0, max: 4294967295, array: (b, o, n) => new Uint32Array(b, o, n) },
  Int32: { bytes: 4, sampleFormat: 2, min: -2147483648, max: 2147483647, array: (b, o, n) => new Int32Array(b, o, n) },
  Float32: { bytes: 4, sampleFormat: 3, min: -Infinity, max: Infinity, array: (b, o, n) => new Float32Array(b, o, n) },
  Float64: { bytes: 8, sampleFormat: 3, min: -Infinity, max: Infinity, array: (b, o, n) => new Float64Array(b, o, n) },
};

/** One data type for the whole file (EE writes one): the narrowest that holds every band's values. */
export function fileDataType(bands: readonly ExportBand[]): EeDataType {
  const types = [...new Set(bands.map((b) => b.dataType))];
  if (types.length === 0) throw new Error('a GeoTIFF needs at least one band');
  if (types.length === 1) return types[0] as EeDataType;
  if (types.includes('Float64')) return 'Float64';
  const ints = types.filter((t) => TYPES[t].sampleFormat !== 3);
  const min = Math.min(...ints.map((t) => TYPES[t].min));
  const max = Math.max(...ints.map((t) => TYPES[t].max));
  if (types.includes('Float32')) return max <= 65535 && min >= -32768 ? 'Float32' : 'Float64';
  const fit = (['UInt8', 'Int8', 'UInt16', 'Int16', 'UInt32', 'Int32'] as const).find((t) => TYPES[t].min <= min && TYPES[t].max >= max);
  return fit ?? 'Float64';
}

/** Rows per strip aim at this many bytes: small enough to stay light, large enough for few writes. */
const STRIP_BYTES = 256 * 1024;

export async function writeGeoTiff(path: string, spec: GeoTiffSpec, value: PixelValue): Promise<WrittenFile> {
  const win = spec.window ?? { col0: 0, row0: 0, width: spec.width, height: spec.height };
  checkSpec(spec, win);
  const dataType = fileDataType(spec.bands);
  const type = TYPES[dataType];
  const rowBytes = win.width * type.bytes;
  const rowsPerStrip = Math.max(1, Math.min(win.height, Math.floor(STRIP_BYTES / rowBytes)));
  const stripsPerBand = Math.ceil(win.height / rowsPerStrip);
  const stripCount = stripsPerBand * spec.bands.length;
  const stripBytes = (s: number): number => Math.min(rowsPerStrip, win.height - (s % stripsPerBand) * rowsPerStrip) * rowBytes;
  const dataBytes = rowBytes * win.height * spec.bands.length;

  const [sx, shx, gx0, shy, sy, gy0] = spec.crsTransform;
  // World transform of the window's pixel (0, 0) corner.
  const origin: Transform = [sx, shx, gx0 + win.col0 * sx + win.row0 * shx, shy, sy, gy0 + win.col0 * shy + win.row0 * sy];
  const tags = geoTiffTags(spec, win, dataType, rowsPerStrip, stripCount, origin);

  const counts = Array.from({ length: stripCount }, (_, s) => stripBytes(s));
  const zeros = new Array<number>(stripCount).fill(0);
  let big = spec.bigTiff ?? false;
  const encode = (offsets: number[]): Buffer => {
    setTag(tags, STRIP_OFFSETS, offsets, big);
    setTag(tags, STRIP_BYTE_COUNTS, counts, big);
    return encodeTags(tags, big);
  };
  if (!big && alignData(encode(zeros).length) + dataBytes > 0xffffffff) big = true;
  const dataStart = alignData(encode(zeros).length);
  const offsets: number[] = [];
  for (let s = 0, at = dataStart; s < stripCount; s++) {
    offsets.push(at);
    at += counts[s] as number;
  }
  const header = encode(offsets);

  const md5 = createHash('md5');
  const file = await open(path, 'w');
  let size = 0;
  const write = async (buf: Uint8Array): Promise<void> => {
    md5.update(buf);
    let done = 0;
    while (done < buf.length) done += (await file.write(buf, done, buf.length - done)).bytesWritten;
    size += buf.length;
  };
  try {
    await write(Buffer.concat([header, Buffer.alloc(dataStart - header.length)]));
    // One strip buffer, reused: each write completes before the buffer is filled again.
    const strip = Buffer.alloc(rowsPerStrip * rowBytes);
    const pixels = type.array(strip.buffer, strip.byteOffset, rowsPerStrip * win.width);
    const fill = spec.noData ?? 0;
    const masked = type.sampleFormat === 3 ? fill : Math.min(type.max, Math.max(type.min, Number.isNaN(fill) ? 0 : Math.round(fill)));
    const swap = endianness() === 'BE';
    // Valid columns of each row of the window (computed once, used for every band).
    const rowMasks: (Intervals | null)[] | null = spec.clips?.length ? new Array<Intervals | null>(win.height).fill(null) : null;
    const maskOf = (r: number): Intervals => {
      const m = rowMasks as (Intervals | null)[];
      return (m[r] ??= rowIntervals(spec.clips as readonly Clip[], win.row0 + r, spec.width));
    };
    for (let band = 0; band < spec.bands.length; band++) {
      for (let s = 0; s < stripsPerBand; s++) {
        const row0 = s * rowsPerStrip;
        const rows = Math.min(rowsPerStrip, win.height - row0);
        let i = 0;
        for (let r = 0; r < rows; r++) {
          // From whole-grid indices, so a pixel gets the same coordinates in every window that holds it.
          const gr = win.row0 + row0 + r + 0.5;
          for (let c = 0; c < win.width; c++) {
            const gc = win.col0 + c + 0.5;
            let v = value(band, gx0 + gc * sx + gr * shx, gy0 + gc * shy + gr * sy);
            if (type.sampleFormat !== 3) {
              v = Number.isNaN(v) ? fill : Math.round(v);
              v = v < type.min ? type.min : v > type.max ? type.max : v;
            }
            pixels[i++] = v;
          }
          if (rowMasks) {
            // Overwrite the masked columns of this row with the fill value.
            const rowStart = i - win.width;
            let c = 0;
            for (const [a, b] of maskOf(row0 + r)) {
              const from = Math.max(0, a - win.col0);
              const to = Math.min(win.width, b - win.col0);
              if (to <= from) continue;
              for (; c < from; c++) pixels[rowStart + c] = masked;
              c = Math.max(c, to);
            }
            for (; c < win.width; c++) pixels[rowStart + c] = masked;
          }
        }
        const bytes = strip.subarray(0, rows * rowBytes);
        if (swap) swapBytes(bytes, type.bytes);
        await write(bytes);
      }
    }
  } finally {
    await file.close();
  }
  return { size, md5: md5.digest('hex') };
}

function checkSpec(spec: GeoTiffSpec, win: GeoTiffWindow): void {
  const whole = (n: number): boolean => Number.isInteger(n) && n >= 0;
  if (!whole(spec.width) || !whole(spec.height) || spec.width === 0 || spec.height === 0) throw new Error('the grid needs a positive whole size');
  if (!whole(win.col0) || !whole(win.row0) || !whole(win.width) || !whole(win.height) || win.width === 0 || win.height === 0) {
    throw new Error('the window needs whole, positive pixel numbers');
  }
  if (win.col0 + win.width > spec.width || win.row0 + win.height > spec.height) throw new Error('the window lies outside the grid');
  if (spec.bands.length === 0 || spec.bands.length > 65535) throw new Error('a GeoTIFF needs 1 to 65535 bands');
  if (spec.crsTransform.length !== 6 || !spec.crsTransform.every(Number.isFinite)) throw new Error('crsTransform needs 6 finite numbers');
}

/** Strip data starts on a 16-byte boundary after the tags. */
function alignData(n: number): number {
  return Math.ceil(n / 16) * 16;
}

function swapBytes(b: Buffer, size: number): void {
  if (size === 2) b.swap16();
  else if (size === 4) b.swap32();
  else if (size === 8) b.swap64();
}

// ---------------------------------------------------------------------------------------------------
// Tags

type Transform = [number, number, number, number, number, number];

const ASCII = 2;
const SHORT = 3;
const LONG = 4;
const DOUBLE = 12;
const LONG8 = 16;
type TagType = typeof ASCII | typeof SHORT | typeof LONG | typeof DOUBLE | typeof LONG8;
const TYPE_BYTES: Record<TagType, number> = { [ASCII]: 1, [SHORT]: 2, [LONG]: 4, [DOUBLE]: 8, [LONG8]: 8 };

interface Tag {
  readonly id: number;
  type: TagType;
  values: readonly number[] | string;
}

const STRIP_OFFSETS = 273;
const STRIP_BYTE_COUNTS = 279;

function geoTiffTags(spec: GeoTiffSpec, win: GeoTiffWindow, dataType: EeDataType, rowsPerStrip: number, strips: number, t: Transform): Tag[] {
  const n = spec.bands.length;
  const type = TYPES[dataType];
  const code = epsgCodeOf(spec.crs);
  if (code === undefined) throw new Error(`the GeoTIFF writer needs an EPSG code, got "${spec.crs}"`);
  const geographic = resolveCrs(spec.crs).geographic;
  const tags: Tag[] = [
    { id: 256, type: LONG, values: [win.width] },
    { id: 257, type: LONG, values: [win.height] },
    { id: 258, type: SHORT, values: new Array<number>(n).fill(type.bytes * 8) },
    { id: 259, type: SHORT, values: [1] }, // no compression
    { id: 262, type: SHORT, values: [1] }, // BlackIsZero
    { id: STRIP_OFFSETS, type: LONG, values: new Array<number>(strips).fill(0) },
    { id: 277, type: SHORT, values: [n] },
    { id: 278, type: LONG, values: [rowsPerStrip] },
    { id: STRIP_BYTE_COUNTS, type: LONG, values: new Array<number>(strips).fill(0) },
    { id: 284, type: SHORT, values: [2] }, // one plane per band
    { id: 339, type: SHORT, values: new Array<number>(n).fill(type.sampleFormat) },
  ];
  if (n > 1) tags.push({ id: 338, type: SHORT, values: new Array<number>(n - 1).fill(0) }); // ExtraSamples: unspecified
  const [sx, shx, x0, shy, sy, y0] = t;
  if (shx === 0 && shy === 0 && sx > 0 && sy < 0) {
    tags.push({ id: 33550, type: DOUBLE, values: [sx, -sy, 0] }); // ModelPixelScale
    tags.push({ id: 33922, type: DOUBLE, values: [0, 0, 0, x0, y0, 0] }); // ModelTiepoint
  } else {
    tags.push({ id: 34264, type: DOUBLE, values: [sx, shx, 0, x0, shy, sy, 0, y0, 0, 0, 0, 0, 0, 0, 0, 1] }); // ModelTransformation
  }
  // GeoKeyDirectory: version 1.1.0, then (key, location 0 = inline, count 1, value).
  const keys: [number, number][] = [
    [1024, geographic ? 2 : 1], // GTModelTypeGeoKey
    [1025, 1], // GTRasterTypeGeoKey: PixelIsArea
    [geographic ? 2048 : 3072, code], // GeographicTypeGeoKey / ProjectedCSTypeGeoKey
  ];
  tags.push({ id: 34735, type: SHORT, values: [1, 1, 0, keys.length, ...keys.flatMap(([k, v]) => [k, 0, 1, v])] });
  const items = spec.bands.map((b, i) => `  <Item name="DESCRIPTION" sample="${i}" role="description">${xmlEscape(b.name)}</Item>\n`);
  tags.push({ id: 42112, type: ASCII, values: `<GDALMetadata>\n${items.join('')}</GDALMetadata>` });
  if (spec.noData !== undefined) tags.push({ id: 42113, type: ASCII, values: noDataText(spec.noData, type) });
  return tags.sort((a, b) => a.id - b.id);
}

function noDataText(v: number, type: TypeInfo): string {
  if (Number.isNaN(v)) return 'nan';
  if (type.sampleFormat !== 3) return String(Math.round(v));
  return v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v);
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function setTag(tags: Tag[], id: number, values: number[], big: boolean): void {
  const tag = tags.find((t) => t.id === id);
  if (!tag) throw new Error(`no tag ${id}`);
  tag.type = big ? LONG8 : LONG;
  tag.values = values;
}

/** Header, the one IFD and the tag values that do not fit in their entries, as bytes. */
function encodeTags(tags: readonly Tag[], big: boolean): Buffer {
  const headerSize = big ? 16 : 8;
  const entrySize = big ? 20 : 12;
  const inline = big ? 8 : 4;
  const ifdSize = (big ? 8 : 2) + tags.length * entrySize + (big ? 8 : 4);
  const payloads = tags.map((t) => payload(t));
  let total = headerSize + ifdSize;
  const at: number[] = [];
  for (const p of payloads) {
    if (p.length > inline) {
      total = Math.ceil(total / 8) * 8; // values on 8-byte boundaries (TIFF needs only 2)
      at.push(total);
      total += p.length;
    } else {
      at.push(-1);
    }
  }
  const buf = Buffer.alloc(total);
  buf.write('II', 0, 'latin1');
  if (big) {
    buf.writeUInt16LE(43, 2);
    buf.writeUInt16LE(8, 4); // offset size
    buf.writeUInt16LE(0, 6);
    buf.writeBigUInt64LE(BigInt(headerSize), 8);
  } else {
    buf.writeUInt16LE(42, 2);
    buf.writeUInt32LE(headerSize, 4);
  }
  let p = headerSize;
  if (big) buf.writeBigUInt64LE(BigInt(tags.length), p);
  else buf.writeUInt16LE(tags.length, p);
  p += big ? 8 : 2;
  tags.forEach((t, i) => {
    const data = payloads[i] as Buffer;
    const count = typeof t.values === 'string' ? data.length : t.values.length;
    buf.writeUInt16LE(t.id, p);
    buf.writeUInt16LE(t.type, p + 2);
    if (big) buf.writeBigUInt64LE(BigInt(count), p + 4);
    else buf.writeUInt32LE(count, p + 4);
    const valueAt = p + (big ? 12 : 8);
    const offset = at[i] as number;
    if (offset < 0) data.copy(buf, valueAt);
    else {
      if (big) buf.writeBigUInt64LE(BigInt(offset), valueAt);
      else buf.writeUInt32LE(offset, valueAt);
      data.copy(buf, offset);
    }
    p += entrySize;
  });
  // next IFD offset: 0 (already zero)
  return buf;
}

function payload(t: Tag): Buffer {
  if (typeof t.values === 'string') return Buffer.from(`${t.values}\0`, 'latin1');
  const size = TYPE_BYTES[t.type];
  const b = Buffer.alloc(t.values.length * size);
  t.values.forEach((v, i) => {
    const o = i * size;
    if (t.type === SHORT) b.writeUInt16LE(v, o);
    else if (t.type === LONG) b.writeUInt32LE(v, o);
    else if (t.type === DOUBLE) b.writeDoubleLE(v, o);
    else b.writeBigUInt64LE(BigInt(v), o);
  });
  return b;
}

// ---------------------------------------------------------------------------------------------------
// Synthetic pixels

/** The value range synthetic pixels span, per type: plausible numbers, not the type's extremes. */
const SYNTHETIC_RANGE: Record<EeDataType, readonly [number, number]> = {
  UInt8: [0, 255],
  Int8: [-128, 127],
  UInt16: [0, 10000],
  Int16: [-10000, 10000],
  UInt32: [0, 1_000_000],
  Int32: [-1_000_000, 1_000_000],
  Float32: [-1, 1],
  Float64: [-1, 1],
};

/** A continuous zig-zag in [0, 1] with period 1. */
function wave(t: number): number {
  const f = t - Math.floor(t);
  return f < 0.5 ? 2 * f : 2 - 2 * f;
}

/**
 * A deterministic pixel value: smooth waves over world coordinates, shifted per band, in a plausible range
 * of the type. It depends only on (band, x, y), so neighbouring tiles and split parts mosaic seamlessly.
 * Projected coordinates (metres) get ~20 km waves; coordinates within ±400 units of the origin, i.e.
 * longitude/latitude, get ~0.2° waves instead, blended continuously so there is no seam in between.
 */
export function syntheticValue(bandIndex: number, x: number, y: number, dataType: EeDataType): number {
  const coarse = wave((0.8 * x + 0.6 * y) / 20000 + 0.173 * bandIndex);
  const fine = wave((0.6 * x - 0.8 * y) / 0.2 + 0.311 * bandIndex);
  const w = Math.min(1, Math.max(0, (400 - Math.max(Math.abs(x), Math.abs(y))) / 40));
  const [lo, hi] = SYNTHETIC_RANGE[dataType];
  const v = lo + (hi - lo) * (w * fine + (1 - w) * coarse);
  if (TYPES[dataType].sampleFormat === 3) return v;
  return Math.min(hi, Math.max(lo, Math.round(v)));
}
