/** Pixel types, band lists and the image, collection and reducer algorithms' band bookkeeping. */
import { NotEmulatedError, type EeDataType } from './product';
import { CollectionV, EeEvaluationError, ImageV, ReducerV } from './values';
import type { Band, PixelType, Value } from './values';
import type { Args } from './graph';

export function toImage(v: Value, wrong: () => Error): ImageV {
  if (v instanceof ImageV) return v;
  // EE promotes numbers (and lists of numbers) to constant images wherever an Image is expected.
  if (typeof v === 'number' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number'))) {
    return constantImage(v as number | number[]);
  }
  throw wrong();
}

// ---------------------------------------------------------------------------------------------------
// Pixel types

const INT_RANGES: readonly (readonly [EeDataType, number, number])[] = [
  ['UInt8', 0, 255],
  ['Int8', -128, 127],
  ['UInt16', 0, 65535],
  ['Int16', -32768, 32767],
  ['UInt32', 0, 4294967295],
  ['Int32', -2147483648, 2147483647],
];

export function intType(dataType: EeDataType): PixelType {
  const r = INT_RANGES.find(([t]) => t === dataType);
  if (!r) throw new Error(`not an integer type: ${dataType}`);
  return { precision: 'int', min: r[1], max: r[2] };
}

export const FLOAT: PixelType = { precision: 'float' };
export const DOUBLE: PixelType = { precision: 'double' };
export const BOOLEAN: PixelType = { precision: 'int', min: 0, max: 1 };
const INT64: PixelType = { precision: 'int', min: -(2 ** 63), max: 2 ** 63 - 1 };

/** The smallest GeoTIFF type holding a pixel type (EE picks the file type the same way). */
export function dataTypeOf(t: PixelType): EeDataType {
  if (t.precision !== 'int') return t.precision === 'double' ? 'Float64' : 'Float32';
  const { min, max } = t;
  const hit = INT_RANGES.find(([, lo, hi]) => min >= lo && max <= hi);
  // 64-bit integers have no EeDataType: they travel as Float64, like GDAL's export of Int64 to classic tools.
  return hit ? hit[0] : 'Float64';
}

/** "The type of the output pixels is the union of the input types" (EE's catalog, Image.add etc.). */
export function union(a: PixelType, b: PixelType): PixelType {
  if (a.precision === 'int' && b.precision === 'int') return { precision: 'int', min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) };
  return a.precision === 'double' || b.precision === 'double' ? DOUBLE : FLOAT;
}

function constantType(v: number): PixelType {
  return Number.isInteger(v) ? { precision: 'int', min: v, max: v } : DOUBLE;
}

// ---------------------------------------------------------------------------------------------------
// Images

export function constantImage(value: number | readonly number[]): ImageV {
  if (typeof value === 'number') return new ImageV([{ name: 'constant', type: constantType(value) }]);
  return new ImageV(value.map((v, i) => ({ name: `constant_${i}`, type: constantType(v) })));
}

/** EE's select: each selector is an index or a name matched as a whole-name regular expression. */
export function selectBands(fn: string, image: ImageV, selectors: readonly (string | number)[]): Band[] {
  const out: Band[] = [];
  for (const sel of selectors) {
    if (typeof sel === 'number') {
      const band = Number.isInteger(sel) ? image.bands[sel] : undefined;
      if (!band) throw new EeEvaluationError(`${fn}: Band index ${sel} out of bounds (the image has ${image.bands.length} bands).`);
      out.push(band);
      continue;
    }
    const re = bandPattern(sel);
    const hits = image.bands.filter((b) => b.name === sel || re?.test(b.name));
    if (hits.length === 0) {
      const names = image.bands.map((b) => b.name).join(', ');
      throw new EeEvaluationError(`${fn}: Pattern '${sel}' did not match any bands. Available bands: [${names}]`);
    }
    out.push(...hits);
  }
  return out;
}

function bandPattern(sel: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${sel})$`);
  } catch {
    return undefined; // not a valid pattern: it can still match a band name literally
  }
}

/** Appends bands, suffixing a name already taken with `_1`, `_2`, … as EE's cat and addBands do. */
export function appendBands(target: readonly Band[], added: readonly Band[]): Band[] {
  const out = [...target];
  const taken = new Set(out.map((b) => b.name));
  for (const b of added) {
    let name = b.name;
    for (let i = 1; taken.has(name); i++) name = `${b.name}_${i}`;
    taken.add(name);
    out.push({ name, type: b.type });
  }
  return out;
}

/** EE's band matching for two-image operators (catalog text of Image.add and friends). */
export function pairwise(fn: string, a: ImageV, b: ImageV, type: (x: PixelType, y: PixelType) => PixelType): ImageV {
  const n1 = a.bands.length;
  const n2 = b.bands.length;
  if (n1 !== n2 && n1 !== 1 && n2 !== 1) {
    throw new EeEvaluationError(`${fn}: Images must contain the same number of bands or only 1 band. Got ${n1} and ${n2}.`);
  }
  const n = Math.max(n1, n2);
  const named = n2 > n1 ? b : a;
  const bands: Band[] = [];
  for (let i = 0; i < n; i++) {
    const x = a.bands[n1 === 1 ? 0 : i] as Band;
    const y = b.bands[n2 === 1 ? 0 : i] as Band;
    bands.push({ name: (named.bands[i] as Band).name, type: type(x.type, y.type) });
  }
  // The result is masked wherever either input is.
  return a.with({ bands, projection: a.projection ?? b.projection, clips: [...a.clips, ...b.clips.filter((c) => !a.clips.includes(c))] });
}

/** Operators that keep the input's bands (unmask, where) and take only the widened types from pairwise(). */
export function keepNames(fn: string, input: ImageV, merged: ImageV): ImageV {
  if (merged.bands.length !== input.bands.length) {
    throw new EeEvaluationError(`${fn}: the second image must have 1 band or as many bands as the input (${input.bands.length}).`);
  }
  return input.with({ bands: input.bands.map((b, i) => ({ name: b.name, type: (merged.bands[i] as Band).type })) });
}

export function binary(type: (x: PixelType, y: PixelType) => PixelType): (a: Args) => Value {
  return (a) => pairwise(a.fn, a.image('image1'), a.image('image2'), type);
}

export function unary(type: (x: PixelType) => PixelType): (a: Args) => Value {
  return (a) => {
    const img = a.image('value');
    return img.with({ bands: img.bands.map((b) => ({ name: b.name, type: type(b.type) })) });
  };
}

export function cast(type: PixelType): (a: Args) => Value {
  return unary(() => type);
}

/** A pixel type from EE's type names, for the cast functions. */
export const CASTS: Record<string, PixelType> = {
  uint8: intType('UInt8'), byte: intType('UInt8'),
  int8: intType('Int8'),
  uint16: intType('UInt16'),
  int16: intType('Int16'), short: intType('Int16'),
  uint32: intType('UInt32'),
  int32: intType('Int32'), int: intType('Int32'),
  int64: INT64, long: INT64,
  float: FLOAT,
  double: DOUBLE,
};

// Earth Engine's band lists of the collections the recipes use (EE data catalog), in EE's band order.
const S2_SR_BANDS = bandList([
  ['UInt16', 'B1 B2 B3 B4 B5 B6 B7 B8 B8A B9 B11 B12 AOT WVP'],
  ['UInt8', 'SCL TCI_R TCI_G TCI_B MSK_CLDPRB MSK_SNWPRB'],
  ['UInt16', 'QA10'],
  ['UInt32', 'QA20'],
  ['UInt16', 'QA60'],
  ['UInt8', 'MSK_CLASSI_OPAQUE MSK_CLASSI_CIRRUS MSK_CLASSI_SNOW_ICE'],
]);
const LANDSAT_C2_L2_BANDS = bandList([
  ['UInt16', 'SR_B1 SR_B2 SR_B3 SR_B4 SR_B5 SR_B6 SR_B7'],
  ['UInt8', 'SR_QA_AEROSOL'],
  ['UInt16', 'ST_B10'],
  ['Int16', 'ST_ATRAN ST_CDIST ST_DRAD ST_EMIS ST_EMSD ST_QA ST_TRAD ST_URAD'],
  ['UInt16', 'QA_PIXEL QA_RADSAT'],
]);
const DATASETS: Record<string, readonly Band[]> = {
  'COPERNICUS/S2_SR_HARMONIZED': S2_SR_BANDS,
  'LANDSAT/LC08/C02/T1_L2': LANDSAT_C2_L2_BANDS,
  'LANDSAT/LC09/C02/T1_L2': LANDSAT_C2_L2_BANDS,
};

function bandList(groups: readonly (readonly [EeDataType, string])[]): Band[] {
  return groups.flatMap(([t, names]) => names.split(' ').map((name) => ({ name, type: intType(t) })));
}

/** Seeded test assets (image assets a project owns), for recipes that load an existing asset. */
const TEST_ASSETS: Record<string, readonly Band[]> = {
  'projects/tessera-test/assets/dem': [{ name: 'elevation', type: intType('Int16') }],
};

export function datasetBands(id: string, image: boolean): readonly Band[] {
  // Own keys only: an id such as "__proto__" or "constructor" is an unknown dataset, not Object.prototype.
  const own = (table: Record<string, readonly Band[]>, key: string) => (Object.hasOwn(table, key) ? table[key] : undefined);
  const exact = own(image ? TEST_ASSETS : DATASETS, id);
  if (exact) return exact;
  // An image of a known collection: `COPERNICUS/S2_SR_HARMONIZED/20230601T102559_20230601T102602_T32UPU`.
  const parent = image ? own(DATASETS, id.slice(0, id.lastIndexOf('/'))) : undefined;
  if (parent) return parent;
  throw new NotEmulatedError(`${image ? 'image' : 'collection'} ${id}`);
}

// ---------------------------------------------------------------------------------------------------
// Collections and reducers

export function template(fn: string, c: CollectionV): ImageV {
  if (!c.template) throw new EeEvaluationError(`${fn}: the collection has no images.`);
  return c.template;
}

export function retype(image: ImageV, type: (t: PixelType) => PixelType): ImageV {
  return image.with({ bands: image.bands.map((b) => ({ name: b.name, type: type(b.type) })) });
}

export const same = (t: PixelType): PixelType => t;
export const toDouble = (): PixelType => DOUBLE;
export const sumType = (t: PixelType): PixelType => (t.precision === 'int' ? INT64 : t);
export const countType = (): PixelType => intType('Int32');

/** `ImageCollection.median()` and friends: band names kept (EE's shortcut reducers). */
export function shortcut(type: (t: PixelType) => PixelType): (a: Args) => Value {
  return (a) => retype(template(a.fn, a.collection('collection')), type);
}

export function reducer(name: string, type: (t: PixelType) => PixelType): (a: Args) => Value {
  return () => new ReducerV([{ name, type }]);
}
