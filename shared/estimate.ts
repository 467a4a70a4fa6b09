/**
 * Output-size figures every front end shows the same way (`tessera grid`, `run`, the wizard): bytes per
 * pixel from the recipe's bands and their types, the Float64 warning, and the maxPixels a tile's export
 * really carries. No Node imports.
 */

export const DATA_TYPE_BYTES = { Int8: 1, UInt8: 1, Int16: 2, UInt16: 2, Int32: 4, UInt32: 4, Float32: 4, Float64: 8 } as const;
export type DataTypeName = keyof typeof DATA_TYPE_BYTES;

/** Earth Engine's default `maxPixels` for an export. */
export const EE_DEFAULT_MAX_PIXELS = 1e8;

/** One band of the exported image: its name and type as `tessera recipes check` words it ("Float64", "UInt16 [0, 10000]"). */
export interface BandInfo {
  readonly id: string;
  readonly type: string;
}

/** The bytes a band's type takes per pixel (a type Earth Engine did not tell: 8, the worst case). */
export function bytesOfType(type: string): number {
  const name = /^[A-Za-z]+\d*/.exec(type)?.[0] ?? '';
  if (name in DATA_TYPE_BYTES) return DATA_TYPE_BYTES[name as DataTypeName];
  if (/^int\b/i.test(type)) return 8; // an integer range wider than Int32: EE writes Float64
  return 8;
}

/** The output of a tile, pixel by pixel: how many bands, the widest type, and the uncompressed bytes per pixel. */
export interface OutputShape {
  readonly bands: number;
  readonly dataType: DataTypeName;
  readonly bytesPerPixel: number;
  /** Bands of type Float64 (the recipe's own, when no export.dataType casts them). */
  readonly float64Bands: readonly string[];
  /** Where the figures come from: the recipe's real bands (asked from Earth Engine) or what the preset declares. */
  readonly source: 'recipe' | 'preset' | 'built-in';
}

export function shapeOfBands(bands: readonly BandInfo[], source: OutputShape['source'] = 'recipe'): OutputShape {
  let widest: DataTypeName = 'UInt8';
  let bytes = 0;
  for (const b of bands) {
    const n = bytesOfType(b.type);
    bytes += n;
    const name = (/^[A-Za-z]+\d*/.exec(b.type)?.[0] ?? 'Float64') as DataTypeName;
    if (n > DATA_TYPE_BYTES[widest] || (n === DATA_TYPE_BYTES[widest] && name.startsWith('Float'))) widest = name in DATA_TYPE_BYTES ? name : 'Float64';
  }
  return { bands: bands.length, dataType: widest, bytesPerPixel: bytes, float64Bands: bands.filter((b) => bytesOfType(b.type) === 8).map((b) => b.id), source };
}

/**
 * What a preset (or the built-in image) exports, without asking Earth Engine: its bands from the
 * parameters and its type as the preset builds it (s2-median: Float64, Earth Engine's median of scaled
 * integers; landsat-stm: Float32; an asset: unknown, so Float64). `export.bands` / `export.dataType` win.
 */
export function presetShape(preset: string | undefined, params: Record<string, unknown>, exp: { bands?: readonly string[]; dataType?: DataTypeName }): OutputShape {
  const count = (v: unknown, d: number) => (Array.isArray(v) ? v.length : d);
  let names: string[];
  let type: DataTypeName;
  switch (preset) {
    case undefined:
      names = ['a', 'b'];
      type = 'Float32';
      break;
    case 's2-median':
      names = Array.isArray(params.bands) ? (params.bands as string[]) : ['B2', 'B3', 'B4', 'B8'];
      type = 'Float64';
      break;
    case 'landsat-stm':
      names = Array.from({ length: count(params.indices, 1) * count(params.metrics, 5) }, (_, k) => `band${k + 1}`);
      type = 'Float32';
      break;
    default:
      names = Array.isArray(params.bands) ? (params.bands as string[]) : ['band1'];
      type = 'Float64';
  }
  if (exp.bands) names = [...exp.bands];
  if (exp.dataType) type = exp.dataType;
  return shapeOfBands(names.map((id) => ({ id, type })), preset === undefined ? 'built-in' : 'preset');
}

/** The export's data type after `export.dataType`: the recipe's bands, cast. */
export function castShape(shape: OutputShape, dataType: DataTypeName | undefined): OutputShape {
  if (!dataType) return shape;
  return { ...shape, dataType, bytesPerPixel: shape.bands * DATA_TYPE_BYTES[dataType], float64Bands: dataType === 'Float64' ? shape.float64Bands : [] };
}

/** The warning for a recipe that exports Float64 without a cast, naming the key that fixes it; undefined otherwise. */
export function float64Warning(shape: OutputShape, dataTypeSet: boolean): string | undefined {
  if (dataTypeSet || shape.float64Bands.length === 0) return undefined;
  const names = shape.float64Bands.slice(0, 6).join(', ') + (shape.float64Bands.length > 6 ? ', …' : '');
  return `the recipe exports Float64 (8 bytes per pixel and band: ${names}); set "export.dataType" to "Float32" (half the size) or an integer type if the values allow`;
}

/**
 * The maxPixels a tile's export carries: `export.maxPixels` when set, else the tile's own pixel count
 * (at least Earth Engine's default), so a large tile is never refused for its size alone.
 */
export function maxPixelsSent(pixelsPerTile: number, configured: number | undefined): number {
  return configured ?? Math.max(EE_DEFAULT_MAX_PIXELS, pixelsPerTile);
}

/** Advice when a tile's export would be refused for maxPixels (only when export.maxPixels is set too low). */
export function maxPixelsProblem(pixelsPerTile: number, configured: number | undefined): string | undefined {
  if (configured === undefined || pixelsPerTile <= configured) return undefined;
  return `each tile has ${pixelsPerTile.toLocaleString('en')} pixels, above "export.maxPixels" (${configured.toLocaleString('en')}): Earth Engine would refuse every export; raise export.maxPixels or remove it (Tessera then sends each tile's own pixel count), or use a smaller tilePixels`;
}
