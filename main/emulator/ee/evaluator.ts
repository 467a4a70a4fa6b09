/**
 * Follows the expression graph of an `image:export` request far enough to know what the export produces:
 * its pixel grid, band names, data types and clip masks; of a `table:export`, its features (constant ones
 * and points sampled from an image); of a `value:compute`, small values (constants, band names). It is a
 * small table of the functions Tessera's recipes and tests use, not an Earth Engine: pixel values are never
 * computed (synthetic values stand in), and a function outside the table is refused (NotEmulatedError)
 * rather than guessed.
 *
 * Three kinds of failure, for the server to map:
 * - MalformedExpressionError: the body is not an expression at all (400 INVALID_ARGUMENT);
 * - EeEvaluationError: a well-formed graph Earth Engine itself would reject while running the task
 *   (a band pattern matching nothing, a missing argument…); its message imitates EE's;
 * - NotEmulatedError (product.ts): a graph EE might run but the emulator cannot follow.
 */
import { epsgCodeOf, resolveCrs, transformer, type Crs } from '../../core/geo/crs';
import { algorithm } from './algorithms';
import { syntheticValue } from '../geotiff/writer';
import { pointInClips, type Clip, type Ring } from './mask';
import { NotEmulatedError, type EeDataType, type ExportBand, type ExportGrid, type GeoJsonGeometry, type ImageProduct, type PropertyValue, type TableFeature, type TableProduct } from './product';

export class MalformedExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedExpressionError';
  }
}

export class EeEvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EeEvaluationError';
  }
}

/** Derives the product of `POST /v1/projects/{p}/image:export` from its JSON body. */
/**
 * The project's own assets, for `Collection.loadTable` (a TABLE asset's features) and
 * `ImageCollection.load` of an IMAGE_COLLECTION asset (its images' bands and grids), `Image.load` of an
 * IMAGE asset. Without it (or for
 * a name it does not know) those loads fall back to the built-in test data sets.
 */
export interface AssetLookup {
  /** A TABLE asset's features, or null when there is no such live TABLE. */
  table(name: string): readonly TableFeature[] | null;
  /** The IMAGE children of an IMAGE_COLLECTION asset, or null when there is no such collection. */
  collection(name: string): readonly { bands: readonly { id: string; dataType: string }[]; grid: ExportGrid | null }[] | null;
  /** A live IMAGE asset's bands and grid (`ee.Image(id)`), or null when there is none. */
  image?(name: string): { bands: readonly { id: string; dataType: string }[]; grid: ExportGrid | null } | null;
}

export function evaluateImageExport(body: unknown, assets?: AssetLookup): ImageProduct {
  if (!isRecord(body)) throw new MalformedExpressionError('the request body is not a JSON object');
  if (body.grid !== undefined) throw new NotEmulatedError('the export request field "grid"');
  const format = isRecord(body.fileExportOptions) ? body.fileExportOptions.fileFormat : undefined;
  if (format !== undefined && format !== 'GEO_TIFF') throw new NotEmulatedError(`file format ${String(format)}`);
  const expression = body.expression;
  if (!isRecord(expression) || typeof expression.result !== 'string' || !isRecord(expression.values)) {
    throw new MalformedExpressionError('"expression" must be {result, values}');
  }
  const result = new Graph(expression.values, assets).ref(expression.result, undefined);
  if (result instanceof CollectionV) throw new NotEmulatedError('exporting an ImageCollection as an image');
  if (!(result instanceof ImageV)) throw new EeEvaluationError('Export: the exported object is not an Image.');
  if (result.bands.length === 0) throw new EeEvaluationError('Export: the image has no bands.');
  const grid = result.grid ?? gridFromFootprint(result);
  const product: ImageProduct = {
    kind: 'image',
    grid,
    bands: result.bands.map((b): ExportBand => ({ name: b.name, dataType: dataTypeOf(b.type) })),
    pixels: grid.width * grid.height,
  };
  return result.clips.length ? { ...product, clips: result.clips.map((c) => clipInGrid(c, grid)) } : product;
}

/**
 * The image of a `computePixels` request in the request's own pixel grid (ee/compute-pixels.ts): its
 * bands and clip masks as an export of the same image in that grid would write them.
 */
export function evaluateImageInGrid(expression: unknown, grid: ExportGrid, assets?: AssetLookup): ImageProduct {
  const result = evaluateExpression(expression, assets);
  if (result instanceof CollectionV) throw new NotEmulatedError('computePixels of an ImageCollection');
  if (!(result instanceof ImageV)) throw new EeEvaluationError('computePixels: the expression is not an Image.');
  if (result.bands.length === 0) throw new EeEvaluationError('computePixels: the image has no bands.');
  const product: ImageProduct = {
    kind: 'image',
    grid,
    bands: result.bands.map((b): ExportBand => ({ name: b.name, dataType: dataTypeOf(b.type) })),
    pixels: grid.width * grid.height,
  };
  return result.clips.length ? { ...product, clips: result.clips.map((c) => clipInGrid(c, grid)) } : product;
}

/**
 * Derives the features of `POST /v1/projects/{p}/table:export` from its JSON body: constant features
 * and points sampled from an image (`Image.sampleRegions`), with synthetic band values that match the
 * pixels an image export of the same image would write.
 */
export function evaluateTableExport(body: unknown, assets?: AssetLookup): TableProduct {
  if (!isRecord(body)) throw new MalformedExpressionError('the request body is not a JSON object');
  const result = evaluateExpression(body.expression, assets);
  if (result instanceof CollectionV) throw new NotEmulatedError('exporting an ImageCollection as a table');
  if (!(result instanceof FeatureCollectionV)) throw new EeEvaluationError('Export: the exported object is not a FeatureCollection.');
  return { kind: 'table', features: result.features.map((f, i) => tableFeature(f, f.id ?? String(i))) };
}

/**
 * `POST /v1/projects/{p}/value:compute` (`getInfo` / `evaluate`): the value of a small expression as
 * JSON — constants, lists, band names, an image's description, features. Anything else is not emulated.
 */
export function evaluateValue(body: unknown, assets?: AssetLookup): unknown {
  if (!isRecord(body)) throw new MalformedExpressionError('the request body is not a JSON object');
  return toInfo(evaluateExpression(body.expression, assets));
}

function evaluateExpression(expression: unknown, assets?: AssetLookup): Value {
  if (!isRecord(expression) || typeof expression.result !== 'string' || !isRecord(expression.values)) {
    throw new MalformedExpressionError('"expression" must be {result, values}');
  }
  return new Graph(expression.values, assets).ref(expression.result, undefined);
}

/** Every function the evaluator follows; the emulator's algorithm catalog holds exactly these. */
export function supportedFunctions(): string[] {
  return Object.keys(FUNCTIONS).sort();
}

// ---------------------------------------------------------------------------------------------------
// Values

type Affine = readonly [number, number, number, number, number, number];

/** EE's PixelType, reduced to what decides the exported data type. */
type PixelType = { readonly precision: 'int'; readonly min: number; readonly max: number } | { readonly precision: 'float' | 'double' };

interface Band {
  readonly name: string;
  readonly type: PixelType;
}

class ProjectionV {
  constructor(
    /** `EPSG:n` */
    readonly crs: string,
    /** Pixel → CRS affine, EE order; undefined = identity (coordinates are CRS units). */
    readonly transform?: Affine,
  ) {}
}

interface Path {
  readonly points: readonly (readonly [number, number])[];
  readonly closed: boolean;
}

class GeometryV {
  constructor(
    readonly paths: readonly Path[],
    readonly projection: ProjectionV,
    /** GeoJSON type, when known (Point and MultiPoint cannot be told from paths alone). */
    readonly type?: string,
  ) {}
}

class FeatureV {
  constructor(
    readonly geometry: GeometryV | undefined,
    readonly properties: { readonly [key: string]: Value } = {},
    /** `system:index` once the feature is in a collection. */
    readonly id?: string,
  ) {}
}

/** A FeatureCollection the evaluator holds feature by feature (constant features, samples). */
class FeatureCollectionV {
  constructor(readonly features: readonly FeatureV[]) {}
}

class ImageV {
  constructor(
    readonly bands: readonly Band[],
    /** The pixel grid an operation fixed (reproject, setDefaultProjection). */
    readonly projection?: ProjectionV,
    /** The last clip geometry. */
    readonly footprint?: GeometryV,
    /** The export grid, once clipToBoundsAndScale fixed it. */
    readonly grid?: ExportGrid,
    /** Every geometry the image was clipped to (Image.clip): the image is masked outside any of them. */
    readonly clips: readonly GeometryV[] = [],
  ) {}

  with(change: { bands?: readonly Band[]; projection?: ProjectionV; footprint?: GeometryV; grid?: ExportGrid | null; clips?: readonly GeometryV[] }): ImageV {
    const grid = change.grid === null ? undefined : (change.grid ?? this.grid);
    return new ImageV(change.bands ?? this.bands, change.projection ?? this.projection, change.footprint ?? this.footprint, grid, change.clips ?? this.clips);
  }
}

/** A collection of feature collections (`ee.FeatureCollection(list)` of collections), for `flatten`. */
class NestedCollectionV {
  constructor(readonly collections: readonly FeatureCollectionV[]) {}
}

/** A collection is followed through one representative image: all its images share the band structure. */
class CollectionV {
  constructor(readonly template: ImageV | undefined) {}
}

interface ReducerOutput {
  readonly name: string;
  readonly type: (input: PixelType) => PixelType;
}

class ReducerV {
  constructor(readonly outputs: readonly ReducerOutput[]) {}
}

/** Values that only matter for which images a collection holds (filters, dates), never for bands. */
class OpaqueV {
  constructor(readonly kind: string) {}
}

class FunctionV {
  constructor(
    readonly argumentNames: readonly string[],
    readonly body: string,
    readonly env: Env,
  ) {}
}

type EeObject = ImageV | CollectionV | FeatureCollectionV | NestedCollectionV | GeometryV | FeatureV | ProjectionV | ReducerV | OpaqueV | FunctionV;
type Value = null | boolean | number | string | readonly Value[] | { readonly [key: string]: Value } | EeObject;
type Env = ReadonlyMap<string, Value> | undefined;

function isEeObject(v: Value): v is EeObject {
  return (
    v instanceof ImageV || v instanceof CollectionV || v instanceof FeatureCollectionV || v instanceof NestedCollectionV || v instanceof GeometryV || v instanceof FeatureV ||
    v instanceof ProjectionV || v instanceof ReducerV || v instanceof OpaqueV || v instanceof FunctionV
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------------
// The graph: `{result, values}` with hoisted, shared values

const MAX_DEPTH = 2000;

class Graph {
  private readonly cache = new Map<string, Value>();
  private readonly evaluating = new Set<string>();
  private depth = 0;

  constructor(
    private readonly values: Record<string, unknown>,
    readonly assets?: AssetLookup,
  ) {}

  ref(key: string, env: Env): Value {
    if (!Object.prototype.hasOwnProperty.call(this.values, key)) {
      throw new MalformedExpressionError(`valueReference "${key}" names no value`);
    }
    // Values outside any function body do not depend on arguments: evaluate each once.
    if (env === undefined) {
      const hit = this.cache.get(key);
      if (hit !== undefined) return hit;
      if (this.evaluating.has(key)) throw new MalformedExpressionError(`valueReference "${key}" refers to itself`);
      this.evaluating.add(key);
      try {
        const v = this.node(this.values[key], undefined);
        this.cache.set(key, v);
        return v;
      } finally {
        this.evaluating.delete(key);
      }
    }
    return this.node(this.values[key], env);
  }

  node(n: unknown, env: Env): Value {
    if (++this.depth > MAX_DEPTH) throw new MalformedExpressionError('the expression is nested too deeply');
    try {
      return this.nodeInner(n, env);
    } finally {
      this.depth--;
    }
  }

  private nodeInner(n: unknown, env: Env): Value {
    if (!isRecord(n)) throw new MalformedExpressionError('a ValueNode must be an object');
    const kinds = Object.keys(n);
    if (kinds.length !== 1) throw new MalformedExpressionError(`a ValueNode has exactly one field, got ${kinds.join(', ') || 'none'}`);
    const kind = kinds[0] as string;
    const v = n[kind];
    switch (kind) {
      case 'constantValue':
        return constant(v);
      case 'integerValue':
        if (typeof v !== 'string' && typeof v !== 'number') throw new MalformedExpressionError('integerValue must be a string');
        return Number(v);
      case 'valueReference':
        if (typeof v !== 'string') throw new MalformedExpressionError('valueReference must be a string');
        return this.ref(v, env);
      case 'arrayValue':
        if (!isRecord(v) || !Array.isArray(v.values ?? [])) throw new MalformedExpressionError('arrayValue must be {values: [...]}');
        return ((v.values ?? []) as unknown[]).map((x) => this.node(x, env));
      case 'dictionaryValue': {
        if (!isRecord(v) || !isRecord(v.values ?? {})) throw new MalformedExpressionError('dictionaryValue must be {values: {...}}');
        const out: Record<string, Value> = {};
        for (const [k, x] of Object.entries((v.values ?? {}) as Record<string, unknown>)) out[k] = this.node(x, env);
        return out;
      }
      case 'functionDefinitionValue': {
        if (!isRecord(v) || typeof v.body !== 'string') throw new MalformedExpressionError('functionDefinitionValue needs a body');
        const names = v.argumentNames ?? [];
        if (!Array.isArray(names) || !names.every((x) => typeof x === 'string')) {
          throw new MalformedExpressionError('functionDefinitionValue.argumentNames must be strings');
        }
        return new FunctionV(names as string[], v.body, env);
      }
      case 'argumentReference': {
        if (typeof v !== 'string') throw new MalformedExpressionError('argumentReference must be a string');
        if (!env?.has(v)) throw new MalformedExpressionError(`argumentReference "${v}" is not an argument of an enclosing function`);
        return env.get(v) as Value;
      }
      case 'functionInvocationValue':
        return this.invoke(v, env);
      case 'bytesValue':
        throw new NotEmulatedError('bytesValue');
      default:
        throw new MalformedExpressionError(`unknown ValueNode kind "${kind}"`);
    }
  }

  private invoke(v: unknown, env: Env): Value {
    if (!isRecord(v)) throw new MalformedExpressionError('functionInvocationValue must be an object');
    const rawArgs = v.arguments ?? {};
    if (!isRecord(rawArgs)) throw new MalformedExpressionError('functionInvocationValue.arguments must be an object');
    const args: Record<string, Value> = {};
    for (const [k, x] of Object.entries(rawArgs)) args[k] = this.node(x, env);
    if (typeof v.functionName === 'string') {
      const fn = FUNCTIONS[v.functionName];
      if (!fn || !Object.prototype.hasOwnProperty.call(FUNCTIONS, v.functionName)) {
        throw new NotEmulatedError(`function ${v.functionName}`);
      }
      return fn(new Args(v.functionName, args, this));
    }
    if (typeof v.functionReference === 'string') {
      const target = this.ref(v.functionReference, env);
      if (!(target instanceof FunctionV)) throw new EeEvaluationError('functionReference does not name a function');
      return this.call(target, args);
    }
    throw new MalformedExpressionError('functionInvocationValue needs functionName or functionReference');
  }

  call(fn: FunctionV, args: Readonly<Record<string, Value>>): Value {
    const env = new Map(fn.env ?? []);
    for (const name of fn.argumentNames) env.set(name, args[name] ?? null);
    return this.ref(fn.body, env);
  }
}

function constant(v: unknown): Value {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(constant);
  if (isRecord(v)) {
    const out: Record<string, Value> = {};
    for (const [k, x] of Object.entries(v)) out[k] = constant(x);
    return out;
  }
  throw new MalformedExpressionError('constantValue must be JSON');
}

// ---------------------------------------------------------------------------------------------------
// Arguments of one call, checked against the function's catalog signature

class Args {
  constructor(
    readonly fn: string,
    private readonly raw: Readonly<Record<string, Value>>,
    readonly graph: Graph,
  ) {
    const sig = algorithm(fn);
    if (!sig) throw new NotEmulatedError(`function ${fn} (missing from the emulator's catalog)`);
    const known = new Set((sig.arguments ?? []).map((a) => a.argumentName));
    for (const name of Object.keys(raw)) {
      if (!known.has(name)) throw new EeEvaluationError(`${fn}: Unrecognized argument '${name}'.`);
    }
    for (const a of sig.arguments ?? []) {
      if (!a.optional && (raw[a.argumentName] === undefined || raw[a.argumentName] === null)) {
        throw new EeEvaluationError(`${fn}: Parameter '${a.argumentName}' is required.`);
      }
    }
  }

  has(name: string): boolean {
    return this.raw[name] !== undefined && this.raw[name] !== null;
  }

  value(name: string): Value {
    return this.raw[name] ?? null;
  }

  wrong(name: string, expected: string): EeEvaluationError {
    return new EeEvaluationError(`${this.fn}, argument '${name}': Invalid type. Expected type: ${expected}.`);
  }

  image(name: string): ImageV {
    return toImage(this.value(name), () => this.wrong(name, 'Image<unknown bands>'));
  }

  optImage(name: string): ImageV | undefined {
    return this.has(name) ? this.image(name) : undefined;
  }

  images(name: string): ImageV[] {
    const v = this.value(name);
    if (!Array.isArray(v)) throw this.wrong(name, 'List<Image>');
    return (v as Value[]).map((x) => toImage(x, () => this.wrong(name, 'List<Image>')));
  }

  collection(name: string): CollectionV {
    const v = this.value(name);
    if (v instanceof CollectionV) return v;
    if (v instanceof FeatureCollectionV) throw new NotEmulatedError(`${this.fn} on a FeatureCollection`);
    throw this.wrong(name, 'ImageCollection');
  }

  features(name: string): FeatureCollectionV {
    const v = this.value(name);
    if (v instanceof FeatureCollectionV) return v;
    throw this.wrong(name, 'FeatureCollection');
  }

  geometry(name: string): GeometryV {
    const v = this.value(name);
    if (v instanceof GeometryV) return v;
    if (v instanceof FeatureV && v.geometry) return v.geometry;
    if (isRecord(v) && !isEeObject(v as Value) && typeof v.type === 'string') return geometryFromGeoJson(v);
    throw this.wrong(name, 'Geometry');
  }

  optGeometry(name: string): GeometryV | undefined {
    return this.has(name) ? this.geometry(name) : undefined;
  }

  projection(name: string): ProjectionV {
    const v = this.value(name);
    if (v instanceof ProjectionV) return v;
    if (typeof v === 'string') return new ProjectionV(normalizeCrs(v));
    throw this.wrong(name, 'Projection');
  }

  optProjection(name: string): ProjectionV | undefined {
    return this.has(name) ? this.projection(name) : undefined;
  }

  reducer(name: string): ReducerV {
    const v = this.value(name);
    if (v instanceof ReducerV) return v;
    throw this.wrong(name, 'Reducer');
  }

  function(name: string): FunctionV {
    const v = this.value(name);
    if (v instanceof FunctionV) return v;
    throw new NotEmulatedError(`${this.fn} with a '${name}' that is not a function definition`);
  }

  number(name: string): number {
    const v = this.value(name);
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    throw this.wrong(name, 'Number');
  }

  optNumber(name: string): number | undefined {
    return this.has(name) ? this.number(name) : undefined;
  }

  boolean(name: string, fallback: boolean): boolean {
    if (!this.has(name)) return fallback;
    const v = this.value(name);
    if (typeof v === 'boolean') return v;
    throw this.wrong(name, 'Boolean');
  }

  string(name: string): string {
    const v = this.value(name);
    if (typeof v === 'string') return v;
    throw this.wrong(name, 'String');
  }

  /** A list of strings; EE also takes a single string where a list is expected. */
  strings(name: string): string[] {
    const v = this.value(name);
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    throw this.wrong(name, 'List<String>');
  }

  optStrings(name: string): string[] | undefined {
    return this.has(name) ? this.strings(name) : undefined;
  }

  numbers(name: string): number[] {
    const v = this.value(name);
    if (typeof v === 'number') return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
    throw this.wrong(name, 'List<Number>');
  }

  affine(name: string): Affine | undefined {
    if (!this.has(name)) return undefined;
    const t = this.numbers(name);
    if (t.length !== 6 || !t.every(Number.isFinite)) throw this.wrong(name, 'List<Float> of 6 numbers');
    return t as unknown as Affine;
  }

  /** Band selectors: names / regular expressions and indices. */
  selectors(name: string): (string | number)[] {
    const v = this.value(name);
    const list = Array.isArray(v) ? (v as Value[]) : [v];
    if (!list.every((x) => typeof x === 'string' || typeof x === 'number')) throw this.wrong(name, 'List<Object>');
    return list as (string | number)[];
  }
}

function toImage(v: Value, wrong: () => Error): ImageV {
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

function intType(dataType: EeDataType): PixelType {
  const r = INT_RANGES.find(([t]) => t === dataType);
  if (!r) throw new Error(`not an integer type: ${dataType}`);
  return { precision: 'int', min: r[1], max: r[2] };
}

const FLOAT: PixelType = { precision: 'float' };
const DOUBLE: PixelType = { precision: 'double' };
const BOOLEAN: PixelType = { precision: 'int', min: 0, max: 1 };
const INT64: PixelType = { precision: 'int', min: -(2 ** 63), max: 2 ** 63 - 1 };

/** The smallest GeoTIFF type holding a pixel type (EE picks the file type the same way). */
function dataTypeOf(t: PixelType): EeDataType {
  if (t.precision !== 'int') return t.precision === 'double' ? 'Float64' : 'Float32';
  const { min, max } = t;
  const hit = INT_RANGES.find(([, lo, hi]) => min >= lo && max <= hi);
  // 64-bit integers have no EeDataType: they travel as Float64, like GDAL's export of Int64 to classic tools.
  return hit ? hit[0] : 'Float64';
}

/** "The type of the output pixels is the union of the input types" (EE's catalog, Image.add etc.). */
function union(a: PixelType, b: PixelType): PixelType {
  if (a.precision === 'int' && b.precision === 'int') return { precision: 'int', min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) };
  return a.precision === 'double' || b.precision === 'double' ? DOUBLE : FLOAT;
}

function constantType(v: number): PixelType {
  return Number.isInteger(v) ? { precision: 'int', min: v, max: v } : DOUBLE;
}

// ---------------------------------------------------------------------------------------------------
// Images

function constantImage(value: number | readonly number[]): ImageV {
  if (typeof value === 'number') return new ImageV([{ name: 'constant', type: constantType(value) }]);
  return new ImageV(value.map((v, i) => ({ name: `constant_${i}`, type: constantType(v) })));
}

/** EE's select: each selector is an index or a name matched as a whole-name regular expression. */
function selectBands(fn: string, image: ImageV, selectors: readonly (string | number)[]): Band[] {
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
function appendBands(target: readonly Band[], added: readonly Band[]): Band[] {
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
function pairwise(fn: string, a: ImageV, b: ImageV, type: (x: PixelType, y: PixelType) => PixelType): ImageV {
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
function keepNames(fn: string, input: ImageV, merged: ImageV): ImageV {
  if (merged.bands.length !== input.bands.length) {
    throw new EeEvaluationError(`${fn}: the second image must have 1 band or as many bands as the input (${input.bands.length}).`);
  }
  return input.with({ bands: input.bands.map((b, i) => ({ name: b.name, type: (merged.bands[i] as Band).type })) });
}

function binary(type: (x: PixelType, y: PixelType) => PixelType): (a: Args) => Value {
  return (a) => pairwise(a.fn, a.image('image1'), a.image('image2'), type);
}

function unary(type: (x: PixelType) => PixelType): (a: Args) => Value {
  return (a) => {
    const img = a.image('value');
    return img.with({ bands: img.bands.map((b) => ({ name: b.name, type: type(b.type) })) });
  };
}

function cast(type: PixelType): (a: Args) => Value {
  return unary(() => type);
}

/** A pixel type from EE's type names, for the cast functions. */
const CASTS: Record<string, PixelType> = {
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

function datasetBands(id: string, image: boolean): readonly Band[] {
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

function template(fn: string, c: CollectionV): ImageV {
  if (!c.template) throw new EeEvaluationError(`${fn}: the collection has no images.`);
  return c.template;
}

function retype(image: ImageV, type: (t: PixelType) => PixelType): ImageV {
  return image.with({ bands: image.bands.map((b) => ({ name: b.name, type: type(b.type) })) });
}

const same = (t: PixelType): PixelType => t;
const toDouble = (): PixelType => DOUBLE;
const sumType = (t: PixelType): PixelType => (t.precision === 'int' ? INT64 : t);
const countType = (): PixelType => intType('Int32');

/** `ImageCollection.median()` and friends: band names kept (EE's shortcut reducers). */
function shortcut(type: (t: PixelType) => PixelType): (a: Args) => Value {
  return (a) => retype(template(a.fn, a.collection('collection')), type);
}

function reducer(name: string, type: (t: PixelType) => PixelType): (a: Args) => Value {
  return () => new ReducerV([{ name, type }]);
}

// ---------------------------------------------------------------------------------------------------
// Geometry and projections

/** EE's metres per degree at the equator: how `scale` (always metres) becomes degrees in EPSG:4326. */
const METRES_PER_DEGREE = (6378137 * 2 * Math.PI) / 360;
const WGS84_PROJECTION = new ProjectionV('EPSG:4326');

function normalizeCrs(spec: string): string {
  const code = epsgCodeOf(spec);
  if (code === undefined) throw new NotEmulatedError(`CRS "${spec.length > 60 ? `${spec.slice(0, 60)}…` : spec}" (only EPSG codes are emulated)`);
  return `EPSG:${code}`;
}

function crsOf(id: string): Crs {
  try {
    return resolveCrs(id);
  } catch (e) {
    throw new NotEmulatedError(`CRS ${id} (${(e as Error).message})`);
  }
}

function geometryArgs(a: Args, closed: boolean, type?: string): GeometryV {
  const projection = a.optProjection('crs') ?? WGS84_PROJECTION;
  return new GeometryV(pathsOf(a.value('coordinates'), closed, a.fn), projection, type);
}

function isPoint(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length >= 2 && v.every((x) => typeof x === 'number');
}

/** Nested coordinate lists → paths of points; a flat list of numbers is read as x, y pairs. */
function pathsOf(coords: unknown, closed: boolean, fn: string): Path[] {
  if (!Array.isArray(coords)) throw new EeEvaluationError(`${fn}: Invalid coordinates.`);
  if (coords.length === 0) return [];
  if (coords.every((x) => typeof x === 'number')) {
    if (coords.length % 2 !== 0) throw new EeEvaluationError(`${fn}: Invalid number of coordinates: ${coords.length}.`);
    const points: [number, number][] = [];
    for (let i = 0; i < coords.length; i += 2) points.push([coords[i] as number, coords[i + 1] as number]);
    return [{ points, closed }];
  }
  if (coords.every(isPoint)) return [{ points: coords.map((p) => [p[0], p[1]] as [number, number]), closed }];
  return coords.flatMap((c) => pathsOf(c, closed, fn));
}

function rectangle(a: Args): GeometryV {
  const g = geometryArgs(a, true);
  const pts = g.paths.flatMap((p) => p.points);
  if (pts.length !== 2) throw new EeEvaluationError(`${a.fn}: a rectangle needs 2 corners, got ${pts.length}.`);
  const [[x0, y0], [x1, y1]] = pts as [[number, number], [number, number]];
  return new GeometryV([{ points: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], closed: true }], g.projection, 'Polygon');
}

function geometryFromGeoJson(g: Record<string, unknown>): GeometryV {
  if (g.type === 'GeometryCollection' && Array.isArray(g.geometries)) {
    const parts = g.geometries.filter(isRecord).map(geometryFromGeoJson);
    return new GeometryV(parts.flatMap((p) => p.paths), WGS84_PROJECTION, 'GeometryCollection');
  }
  const closed = g.type === 'Polygon' || g.type === 'MultiPolygon';
  return new GeometryV(pathsOf(g.coordinates, closed, 'Geometry'), WGS84_PROJECTION, g.type as string);
}

function applyAffine(t: Affine, x: number, y: number): [number, number] {
  return [t[0] * x + t[1] * y + t[2], t[3] * x + t[4] * y + t[5]];
}

function invertAffine(t: Affine): Affine {
  const [a, b, c, d, e, f] = t;
  const det = a * e - b * d;
  if (det === 0 || !Number.isFinite(det)) throw new EeEvaluationError('Projection: the transform is not invertible.');
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det];
}

function sameAffine(a: Affine | undefined, b: Affine | undefined): boolean {
  if (!a || !b) return a === b;
  return a.every((v, i) => v === b[i]);
}

/** Edges are densified before a change of CRS so that bounds follow curved projected edges. */
const DENSIFY = 16;

/** The geometry's points (edges densified) in the CRS units of `crs`. */
function pointsIn(g: GeometryV, crs: string): [number, number][] {
  const toCrs = (p: readonly [number, number]): [number, number] =>
    g.projection.transform ? applyAffine(g.projection.transform, p[0], p[1]) : [p[0], p[1]];
  if (g.projection.crs === crs) return g.paths.flatMap((p) => p.points.map(toCrs));
  const t = transformer(crsOf(g.projection.crs), crsOf(crs));
  const out: [number, number][] = [];
  for (const path of g.paths) {
    const pts = path.points.map(toCrs);
    const edges = path.closed && pts.length > 1 ? pts.length : pts.length - 1;
    if (pts.length === 1) out.push(t(...(pts[0] as [number, number])));
    for (let i = 0; i < edges; i++) {
      const [x0, y0] = pts[i] as [number, number];
      const [x1, y1] = pts[(i + 1) % pts.length] as [number, number];
      for (let k = 0; k < DENSIFY; k++) out.push(t(x0 + ((x1 - x0) * k) / DENSIFY, y0 + ((y1 - y0) * k) / DENSIFY));
    }
    if (!path.closed && pts.length > 1) out.push(t(...(pts[pts.length - 1] as [number, number])));
  }
  if (out.some(([x, y]) => !Number.isFinite(x) || !Number.isFinite(y))) {
    throw new NotEmulatedError(`a region that ${crs} cannot represent`);
  }
  return out;
}

interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

function boundsOf(points: readonly (readonly [number, number])[]): Bounds {
  if (points.length === 0) throw new EeEvaluationError('Image.clipToBoundsAndScale: the region is empty.');
  const b = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
  for (const [x, y] of points) {
    b.minX = Math.min(b.minX, x);
    b.maxX = Math.max(b.maxX, x);
    b.minY = Math.min(b.minY, y);
    b.maxY = Math.max(b.maxY, y);
  }
  return b;
}

/** Pixel size in CRS units for EE's `scale`, which is always in metres. */
function scaleInUnits(crs: string, scale: number): number {
  if (!(scale > 0)) throw new EeEvaluationError(`scale must be positive, got ${scale}.`);
  const c = crsOf(crs);
  if (c.geographic) return scale / METRES_PER_DEGREE;
  if (c.unit === 'metre') return scale;
  throw new NotEmulatedError(`a scale in ${crs}, whose unit is ${c.unit}`);
}

// ---------------------------------------------------------------------------------------------------
// Grids

/** Tolerance for pixel edges that floating point puts a hair off a whole pixel. */
const EPS = 1e-6;

const clean = (v: number): number => v + 0; // turns −0 into 0

function grid(crs: string, t: Affine, width: number, height: number): ExportGrid {
  return { crs, crsTransform: t.map(clean) as unknown as Affine, width, height };
}

/** The pixels of `projection`'s grid that the geometry's bounds touch. */
function gridCovering(projection: ProjectionV, g: GeometryV): ExportGrid {
  const t = projection.transform ?? ([1, 0, 0, 0, 1, 0] as const);
  let pixelPoints: [number, number][];
  if (g.projection.crs === projection.crs && sameAffine(g.projection.transform, t)) {
    // The usual tile export: a Rectangle in the very projection of the reprojected image.
    pixelPoints = g.paths.flatMap((p) => p.points.map(([x, y]) => [x, y] as [number, number]));
  } else {
    const inv = invertAffine(t);
    pixelPoints = pointsIn(g, projection.crs).map(([x, y]) => applyAffine(inv, x, y));
  }
  const b = boundsOf(pixelPoints);
  const col0 = Math.floor(b.minX + EPS);
  const row0 = Math.floor(b.minY + EPS);
  const width = Math.max(1, Math.ceil(b.maxX - EPS) - col0);
  const height = Math.max(1, Math.ceil(b.maxY - EPS) - row0);
  const [x0, y0] = [t[0] * col0 + t[1] * row0 + t[2], t[3] * col0 + t[4] * row0 + t[5]];
  return grid(projection.crs, [t[0], t[1], x0, t[3], t[4], y0], width, height);
}

function clipToBoundsAndScale(a: Args): ImageV {
  const input = a.image('input');
  const geometry = a.optGeometry('geometry') ?? input.footprint;
  if (!geometry) throw new NotEmulatedError('Image.clipToBoundsAndScale without a geometry');
  const scale = a.optNumber('scale');
  const width = a.optNumber('width');
  const height = a.optNumber('height');
  const maxDimension = a.optNumber('maxDimension');
  const crs = input.projection?.crs ?? WGS84_PROJECTION.crs;
  let out: ExportGrid;
  if (scale !== undefined) {
    // Pixels of `scale` anchored at the CRS origin, as the grid of setDefaultProjection's [1,0,0,0,-1,0] at that scale.
    const s = scaleInUnits(crs, scale);
    const b = boundsOf(pointsIn(geometry, crs));
    const col0 = Math.floor(b.minX / s + EPS);
    const col1 = Math.ceil(b.maxX / s - EPS);
    const top = Math.ceil(b.maxY / s - EPS);
    const bottom = Math.floor(b.minY / s + EPS);
    out = grid(crs, [s, 0, col0 * s, 0, -s, top * s], Math.max(1, col1 - col0), Math.max(1, top - bottom));
  } else if (width !== undefined || height !== undefined || maxDimension !== undefined) {
    // Dimensions without scale: the bounds are resized to the requested size.
    const b = boundsOf(pointsIn(geometry, crs));
    const [w, h] = sizeFor(a.fn, b, width, height, maxDimension);
    out = grid(crs, [(b.maxX - b.minX) / w, 0, b.minX, 0, -(b.maxY - b.minY) / h, b.maxY], w, h);
  } else {
    if (!input.projection?.transform) {
      throw new NotEmulatedError('Image.clipToBoundsAndScale without scale or dimensions on an image without a fixed pixel grid');
    }
    out = gridCovering(input.projection, geometry);
  }
  return input.with({ footprint: geometry, grid: out });
}

function sizeFor(fn: string, b: Bounds, width?: number, height?: number, maxDimension?: number): [number, number] {
  const bw = b.maxX - b.minX;
  const bh = b.maxY - b.minY;
  const whole = (v: number): number => Math.max(1, Math.round(v));
  if (width !== undefined && height !== undefined) return [whole(width), whole(height)];
  if (bw <= 0 || bh <= 0) throw new EeEvaluationError(`${fn}: the region has no area.`);
  if (width !== undefined) return [whole(width), whole((width * bh) / bw)];
  if (height !== undefined) return [whole((height * bw) / bh), whole(height)];
  const m = maxDimension as number;
  return bw >= bh ? [whole(m), whole((m * bh) / bw)] : [whole((m * bw) / bh), whole(m)];
}

/** An export without clipToBoundsAndScale: a clipped image in a fixed pixel grid (crs + crsTransform + region). */
function gridFromFootprint(image: ImageV): ExportGrid {
  if (image.projection?.transform && image.footprint) return gridCovering(image.projection, image.footprint);
  if (!image.footprint) throw new NotEmulatedError('an export without a region or dimensions (the image footprint is unknown)');
  throw new NotEmulatedError('an export with a region but neither scale nor crsTransform (native resolution)');
}

function projectionArgs(a: Args): ImageV {
  const image = a.image('image');
  const crs = a.projection('crs');
  const transform = a.affine('crsTransform');
  const scale = a.optNumber('scale');
  if (transform && scale !== undefined) throw new EeEvaluationError(`${a.fn}: Cannot specify both crsTransform and scale.`);
  let t = transform ?? crs.transform;
  if (scale !== undefined) {
    const s = scaleInUnits(crs.crs, scale);
    t = [s, 0, 0, 0, -s, 0];
  }
  return image.with({ projection: new ProjectionV(crs.crs, t), grid: null });
}

// ---------------------------------------------------------------------------------------------------
// The table

const passThrough = (name: string) => (a: Args): Value => a.value(name);
const filter = (): Value => new OpaqueV('Filter');

const FUNCTIONS: Record<string, (a: Args) => Value> = {
  // Images from nothing or from the catalog
  'Image.constant': (a) => {
    const v = a.value('value');
    if (typeof v === 'number' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number'))) {
      return constantImage(v as number | number[]);
    }
    throw new NotEmulatedError('Image.constant of a value that is not a number or a list of numbers');
  },
  'Image.load': (a) => {
    const own = a.graph.assets?.image?.(assetName(a.string('id')));
    return own ? assetImage(own) : new ImageV(datasetBands(a.string('id'), true));
  },
  'ImageCollection.load': (a) => {
    const id = a.string('id');
    const images = a.graph.assets?.collection(assetName(id));
    if (images) return new CollectionV(images[0] ? assetImage(images[0]) : undefined);
    return new CollectionV(new ImageV(datasetBands(id, false)));
  },
  // ee.FeatureCollection('projects/p/assets/table'): the features a table export to that asset wrote.
  'Collection.loadTable': (a) => {
    const id = a.string('tableId');
    const features = a.graph.assets?.table(assetName(id));
    if (!features) throw new EeEvaluationError(`${a.fn}: Collection asset '${id}' not found.`);
    return new FeatureCollectionV(features.map((f) => new FeatureV(f.geometry ? geometryFromGeoJson(f.geometry as unknown as Record<string, unknown>) : undefined, f.properties as Record<string, Value>, f.id)));
  },
  // fc1.merge(fc2): EE prefixes system:index with "1_" / "2_".
  'Collection.merge': (a) => {
    const c1 = a.features('collection1');
    const c2 = a.features('collection2');
    return new FeatureCollectionV([...c1.features.map((f, i) => reindex(f, `1_${f.id ?? i}`)), ...c2.features.map((f, i) => reindex(f, `2_${f.id ?? i}`))]);
  },
  // ee.FeatureCollection(listOfCollections).flatten(): "{outer}_{inner}" system:index.
  'Collection.flatten': (a) => {
    const c = a.value('collection');
    if (c instanceof FeatureCollectionV) {
      if (c.features.length === 0) return c;
      throw new NotEmulatedError(`${a.fn} of a collection of features (not of collections)`);
    }
    if (!(c instanceof NestedCollectionV)) throw a.wrong('collection', 'FeatureCollection');
    return new FeatureCollectionV(c.collections.flatMap((inner, i) => inner.features.map((f, k) => reindex(f, `${i}_${f.id ?? k}`))));
  },

  // Bands
  'Image.select': (a) => {
    const input = a.image('input');
    const bands = selectBands(a.fn, input, a.selectors('bandSelectors'));
    const names = a.optStrings('newNames');
    if (names && names.length !== bands.length) {
      throw new EeEvaluationError(`${a.fn}: The number of new names (${names.length}) does not match the number of selected bands (${bands.length}).`);
    }
    return input.with({ bands: bands.map((b, i) => ({ name: names?.[i] ?? b.name, type: b.type })) });
  },
  'Image.rename': (a) => {
    const input = a.image('input');
    const names = a.strings('names');
    if (names.length !== input.bands.length) {
      throw new EeEvaluationError(`${a.fn}: Can't rename ${input.bands.length} bands to ${names.length} names.`);
    }
    return input.with({ bands: input.bands.map((b, i) => ({ name: names[i] as string, type: b.type })) });
  },
  'Image.addBands': (a) => {
    const dst = a.image('dstImg');
    const src = a.image('srcImg');
    const names = a.optStrings('names');
    const added = names ? selectBands(a.fn, src, names) : src.bands;
    if (!a.boolean('overwrite', false)) return dst.with({ bands: appendBands(dst.bands, added) });
    const replaced = new Map(added.map((b) => [b.name, b]));
    const kept = dst.bands.map((b) => replaced.get(b.name) ?? b);
    const dstNames = new Set(dst.bands.map((b) => b.name));
    return dst.with({ bands: appendBands(kept, added.filter((b) => !dstNames.has(b.name))) });
  },
  'Image.cat': (a) => {
    const [first, ...rest] = a.images('images');
    if (!first) throw new EeEvaluationError(`${a.fn}: no images to combine.`);
    return rest.reduce((acc, img) => acc.with({ bands: appendBands(acc.bands, img.bands) }), first);
  },
  'Image.normalizedDifference': (a) => {
    const input = a.image('input');
    const names = a.optStrings('bandNames');
    if (names && names.length !== 2) throw new EeEvaluationError(`${a.fn}: Need exactly 2 bands, got ${names.length}.`);
    const bands = names ? selectBands(a.fn, input, names) : input.bands.slice(0, 2);
    if (bands.length !== 2) throw new EeEvaluationError(`${a.fn}: Need 2 bands, the image has ${input.bands.length}.`);
    return input.with({ bands: [{ name: 'nd', type: FLOAT }] });
  },

  // Arithmetic and comparisons
  'Image.add': binary(union),
  'Image.subtract': binary(union),
  'Image.multiply': binary(union),
  // The catalog says "union" here too, but an integer quotient is fractional: EE users get floats.
  'Image.divide': binary((x, y) => (x.precision === 'int' && y.precision === 'int' ? FLOAT : union(x, y))),
  'Image.max': binary(union),
  'Image.min': binary(union),
  'Image.pow': binary((x, y) => (x.precision === 'double' || y.precision === 'double' ? DOUBLE : FLOAT)),
  'Image.and': binary(() => BOOLEAN),
  'Image.bitwiseAnd': binary(union),
  'Image.bitwiseOr': binary(union),
  'Image.rightShift': binary(union),
  'Image.or': binary(() => BOOLEAN),
  'Image.lt': binary(() => BOOLEAN),
  'Image.lte': binary(() => BOOLEAN),
  'Image.gt': binary(() => BOOLEAN),
  'Image.gte': binary(() => BOOLEAN),
  'Image.eq': binary(() => BOOLEAN),
  'Image.neq': binary(() => BOOLEAN),
  'Image.not': unary(() => BOOLEAN),
  'Image.abs': unary((t) => (t.precision === 'int' ? { precision: 'int', min: 0, max: Math.max(Math.abs(t.min), Math.abs(t.max)) } : t)),
  'Image.sqrt': unary((t) => (t.precision === 'double' ? DOUBLE : FLOAT)),

  // Casts (EE has several names for most)
  ...Object.fromEntries(
    Object.entries(CASTS).flatMap(([name, type]) => {
      const camel = `to${name[0]?.toUpperCase()}${name.slice(1)}`;
      return [[`Image.${name}`, cast(type)], [`Image.${camel}`, cast(type)]];
    }),
  ),

  // Masks, clips, projections
  'Image.updateMask': (a) => {
    a.image('mask');
    return a.image('image');
  },
  'Image.mask': (a) => {
    const image = a.image('image');
    return a.has('mask') ? image : retype(image, () => FLOAT);
  },
  'Image.unmask': (a) => {
    const input = a.image('input');
    const value = a.optImage('value');
    return value ? keepNames(a.fn, input, pairwise(a.fn, input, value, union)) : input;
  },
  'Image.where': (a) => {
    const input = a.image('input');
    pairwise(a.fn, input, a.image('test'), union);
    return keepNames(a.fn, input, pairwise(a.fn, input, a.image('value'), union));
  },
  'Image.clip': (a) => {
    const input = a.image('input');
    const geometry = a.geometry('geometry');
    return input.with({ footprint: geometry, clips: [...input.clips, geometry] });
  },
  'Image.bandNames': (a) => a.image('image').bands.map((b) => b.name),
  'Image.sampleRegions': sampleRegions,
  'Image.clipToBoundsAndScale': clipToBoundsAndScale,
  'Image.reproject': projectionArgs,
  'Image.setDefaultProjection': projectionArgs,

  // Properties never change bands
  'Element.set': passThrough('object'),
  'Element.setMulti': passThrough('object'),
  'Element.copyProperties': passThrough('destination'),
  'Image.copyProperties': passThrough('destination'),

  // Collections
  'ImageCollection.fromImages': (a) => new CollectionV(a.images('images')[0]),
  'ImageCollection.merge': (a) => {
    const c1 = a.collection('collection1');
    return c1.template ? c1 : a.collection('collection2');
  },
  'Collection.filter': (a) => a.collection('collection'),
  'Collection.limit': (a) => (a.value('collection') instanceof FeatureCollectionV ? limitFeatures(a) : a.collection('collection')),
  'Collection.first': (a) => {
    const c = a.value('collection');
    if (c instanceof FeatureCollectionV) return c.features[0] ?? null;
    return template(a.fn, a.collection('collection'));
  },
  'Collection.size': (a) => {
    const c = a.value('collection');
    if (c instanceof FeatureCollectionV) return c.features.length;
    a.collection('collection');
    throw new NotEmulatedError('Collection.size of an ImageCollection');
  },
  // ee.FeatureCollection([features]): system:index "0", "1", …
  Collection: (a) => {
    const list = a.value('features');
    if (!Array.isArray(list)) throw new EeEvaluationError(`${a.fn}, argument 'features': Invalid type. Expected type: List<Element>.`);
    if (list.length > 0 && (list as Value[]).every((x) => x instanceof FeatureCollectionV)) return new NestedCollectionV(list as FeatureCollectionV[]);
    return new FeatureCollectionV((list as Value[]).map((f, i) => {
      if (f instanceof FeatureV) return new FeatureV(f.geometry, f.properties, String(i));
      if (f instanceof GeometryV) return new FeatureV(f, {}, String(i));
      throw new NotEmulatedError(`${a.fn} of elements that are not features`);
    }));
  },
  'Collection.map': (a) => {
    const c = a.collection('collection');
    if (!c.template) return c;
    const fn = a.function('baseAlgorithm');
    const name = fn.argumentNames[0];
    if (name === undefined || fn.argumentNames.length !== 1) throw new EeEvaluationError(`${a.fn}: the mapped function must take one argument.`);
    const out = a.graph.call(fn, { [name]: c.template });
    if (out === null && a.boolean('dropNulls', false)) return c;
    if (!(out instanceof ImageV)) throw new NotEmulatedError('Collection.map over images returning something other than an image');
    return new CollectionV(out);
  },
  'ImageCollection.mosaic': shortcut(same),
  'ImageCollection.qualityMosaic': (a) => {
    const t = template(a.fn, a.collection('collection'));
    selectBands(a.fn, t, [a.string('qualityBand')]);
    return t;
  },
  'reduce.min': shortcut(same),
  'reduce.max': shortcut(same),
  'reduce.mode': shortcut(same),
  'reduce.mean': shortcut(toDouble),
  'reduce.median': shortcut(toDouble),
  'reduce.sum': shortcut(sumType),
  'reduce.product': shortcut(toDouble),
  'reduce.count': shortcut(countType),
  'reduce.and': shortcut(() => BOOLEAN),
  'reduce.or': shortcut(() => BOOLEAN),
  'ImageCollection.reduce': (a) => {
    const t = template(a.fn, a.collection('collection'));
    const r = a.reducer('reducer');
    // Single-input reducers prefix each output with the band name: B4_p10, B4_p90, B3_p10, …
    const bands = t.bands.flatMap((b) => r.outputs.map((o) => ({ name: `${b.name}_${o.name}`, type: o.type(b.type) })));
    return t.with({ bands });
  },
  'Reducer.mean': reducer('mean', toDouble),
  'Reducer.median': reducer('median', toDouble),
  'Reducer.min': reducer('min', same),
  'Reducer.max': reducer('max', same),
  'Reducer.mode': reducer('mode', same),
  'Reducer.first': reducer('first', same),
  'Reducer.firstNonNull': reducer('first', same),
  'Reducer.sum': reducer('sum', sumType),
  'Reducer.count': reducer('count', countType),
  'Reducer.stdDev': reducer('stdDev', toDouble),
  'Reducer.minMax': () => new ReducerV([{ name: 'min', type: same }, { name: 'max', type: same }]),
  'Reducer.percentile': (a) => {
    const ps = a.numbers('percentiles');
    const names = a.optStrings('outputNames');
    if (names && names.length !== ps.length) throw new EeEvaluationError(`${a.fn}: outputNames must match percentiles.`);
    return new ReducerV(ps.map((p, i) => ({ name: names?.[i] ?? `p${p}`, type: toDouble })));
  },

  // Filters and dates only choose images; they never change bands.
  'Filter.dateRangeContains': filter,
  'Filter.intersects': filter,
  'Filter.equals': filter,
  'Filter.notEquals': filter,
  'Filter.lessThan': filter,
  'Filter.lessThanOrEquals': filter,
  'Filter.greaterThan': filter,
  'Filter.greaterThanOrEquals': filter,
  'Filter.and': filter,
  'Filter.or': filter,
  'Filter.not': filter,
  'Filter.calendarRange': filter,
  'Filter.inList': filter,
  'Filter.stringContains': filter,
  'Filter.stringStartsWith': filter,
  'Filter.notNull': filter,
  Date: () => new OpaqueV('Date'),
  DateRange: () => new OpaqueV('DateRange'),

  // Geometry
  Projection: (a) => {
    if (a.has('transformWkt')) throw new NotEmulatedError('Projection with transformWkt');
    const crs = a.value('crs');
    const base = crs instanceof ProjectionV ? crs.crs : typeof crs === 'string' ? normalizeCrs(crs) : undefined;
    if (!base) throw new EeEvaluationError(`${a.fn}, argument 'crs': Invalid type. Expected type: String.`);
    return new ProjectionV(base, a.affine('transform'));
  },
  Feature: (a) => {
    const metadata = a.value('metadata');
    if (metadata !== null && (!isRecord(metadata) || isEeObject(metadata as Value))) throw a.wrong('metadata', 'Dictionary<Object>');
    return new FeatureV(a.optGeometry('geometry'), (metadata ?? {}) as Record<string, Value>);
  },
  'GeometryConstructors.Point': (a) => geometryArgs(a, false, 'Point'),
  'GeometryConstructors.MultiPoint': (a) => geometryArgs(a, false, 'MultiPoint'),
  'GeometryConstructors.LineString': (a) => geometryArgs(a, false, 'LineString'),
  'GeometryConstructors.MultiLineString': (a) => geometryArgs(a, false, 'MultiLineString'),
  'GeometryConstructors.LinearRing': (a) => geometryArgs(a, true, 'LinearRing'),
  'GeometryConstructors.Polygon': (a) => geometryArgs(a, true, 'Polygon'),
  'GeometryConstructors.MultiPolygon': (a) => geometryArgs(a, true, 'MultiPolygon'),
  'GeometryConstructors.Rectangle': rectangle,
  'GeometryConstructors.BBox': (a) => {
    const [w, s, e, n] = ['west', 'south', 'east', 'north'].map((k) => a.number(k)) as [number, number, number, number];
    return new GeometryV([{ points: [[w, s], [e, s], [e, n], [w, n]], closed: true }], WGS84_PROJECTION);
  },
  'Geometry.bounds': (a) => {
    const g = a.geometry('geometry');
    const target = a.optProjection('proj') ?? WGS84_PROJECTION;
    const b = boundsOf(pointsIn(g, target.crs));
    const points: [number, number][] = [[b.minX, b.minY], [b.maxX, b.minY], [b.maxX, b.maxY], [b.minX, b.maxY]];
    return new GeometryV([{ points, closed: true }], new ProjectionV(target.crs));
  },
};

// ---------------------------------------------------------------------------------------------------
// Masks, features, samples and getInfo

/** Transforms between two CRSs, built once (sampling converts every point). */
const TRANSFORMS = new Map<string, (x: number, y: number) => [number, number]>();
function crsTransform(from: string, to: string): (x: number, y: number) => [number, number] {
  const key = `${from}>${to}`;
  let t = TRANSFORMS.get(key);
  if (!t) TRANSFORMS.set(key, (t = transformer(crsOf(from), crsOf(to))));
  return t;
}

/** The closed paths of a geometry as rings in `crs` (edges densified across a change of CRS). */
function ringsIn(g: GeometryV, crs: string): [number, number][][] {
  return g.paths.filter((p) => p.closed && p.points.length >= 3).map((p) => pointsIn(new GeometryV([p], g.projection), crs));
}

/** A clip geometry as rings in the export grid's pixel coordinates (mask.ts). */
function clipInGrid(g: GeometryV, out: ExportGrid): Clip {
  const inv = invertAffine(out.crsTransform);
  return ringsIn(g, out.crs).map((ring): Ring => ring.map(([x, y]) => applyAffine(inv, x, y)));
}

/** Whether a point given in `crs` lies inside every geometry the image was clipped to. */
function insideClips(image: ImageV, crs: string, x: number, y: number): boolean {
  for (const g of image.clips) {
    const [gx, gy] = g.projection.crs === crs ? [x, y] : crsTransform(crs, g.projection.crs)(x, y);
    // The clip's own coordinates: undo its projection's transform, if it has one.
    const [px, py] = g.projection.transform ? applyAffine(invertAffine(g.projection.transform), gx, gy) : [gx, gy];
    const rings = g.paths.filter((p) => p.closed && p.points.length >= 3).map((p) => p.points);
    if (!pointInClips([rings], px, py)) return false;
  }
  return true;
}

/** A geometry's vertices (no densifying) in `crs`. */
function verticesIn(g: GeometryV, crs: string): [number, number][][] {
  const t = g.projection.crs === crs ? null : crsTransform(g.projection.crs, crs);
  return g.paths.map((p) =>
    p.points.map((q) => {
      const [x, y] = g.projection.transform ? applyAffine(g.projection.transform, q[0], q[1]) : [q[0], q[1]];
      return t ? t(x, y) : [x, y];
    }),
  );
}

/** GeoJSON in EPSG:4326, as EE writes `.geo` (multi-polygons come out one polygon per ring: holes are not told apart). */
function toGeoJson(g: GeometryV): GeoJsonGeometry {
  const paths = verticesIn(g, 'EPSG:4326');
  const ring = (p: [number, number][]): [number, number][] => (p.length && (p[0]?.[0] !== p[p.length - 1]?.[0] || p[0]?.[1] !== p[p.length - 1]?.[1]) ? [...p, p[0] as [number, number]] : p);
  const points = paths.flat();
  const type = g.type ?? (paths.every((p) => p.length === 1) ? (points.length === 1 ? 'Point' : 'MultiPoint') : g.paths.every((p) => p.closed) ? 'MultiPolygon' : 'MultiLineString');
  switch (type) {
    case 'Point':
      return { type, coordinates: points[0] ?? [] };
    case 'MultiPoint':
    case 'LineString':
    case 'LinearRing':
      return { type: type === 'LinearRing' ? 'LineString' : type, coordinates: type === 'LinearRing' ? ring(points) : points };
    case 'MultiLineString':
      return { type, coordinates: paths };
    case 'Polygon':
      return { type, coordinates: paths.map(ring) };
    default:
      return { type: 'MultiPolygon', coordinates: paths.map((p) => [ring(p)]) };
  }
}

/** Collection.limit on features: an optional sort by a property, then the first `limit`. */
function limitFeatures(a: Args): FeatureCollectionV {
  const c = a.features('collection');
  let features = [...c.features];
  if (a.has('key')) {
    const key = a.string('key');
    const dir = a.boolean('ascending', true) ? 1 : -1;
    const get = (f: FeatureV): Value => (key === 'system:index' ? (f.id ?? null) : (f.properties[key] ?? null));
    features.sort((x, y) => {
      const [p, q] = [get(x), get(y)];
      if (p === q) return 0;
      if (p === null) return 1;
      if (q === null) return -1;
      return (p < q ? -1 : 1) * dir;
    });
  }
  if (a.has('limit')) features = features.slice(0, Math.max(0, Math.floor(a.number('limit'))));
  return new FeatureCollectionV(features);
}

/**
 * `image.sampleRegions({collection, properties, scale, projection, geometries})` over points: one
 * feature per point (`{id}_{k}` for the k-th point of a feature), with the feature's properties (or
 * those named) and one property per band, the synthetic value of the pixel the point falls in. The
 * pixel grid is the one EE samples in: `projection` and/or `scale` when given, else the image's own
 * (a reprojected image's grid, or EE's default of 1° pixels in EPSG:4326). Points where the image is
 * masked (outside its clips) are dropped, as EE drops samples whose values are all null.
 */
function sampleRegions(a: Args): FeatureCollectionV {
  const image = a.image('image');
  const collection = a.features('collection');
  const keep = a.optStrings('properties');
  const geometries = a.boolean('geometries', false);
  const scale = a.optNumber('scale');
  const projection = a.optProjection('projection');
  const crs = projection?.crs ?? image.projection?.crs ?? WGS84_PROJECTION.crs;
  let t: Affine;
  if (scale !== undefined) {
    const s = scaleInUnits(crs, scale);
    t = [s, 0, 0, 0, -s, 0];
  } else {
    t = projection?.transform ?? (projection ? undefined : image.projection?.transform) ?? [1, 0, 0, 0, -1, 0];
  }
  const inv = invertAffine(t);
  const types = image.bands.map((b) => dataTypeOf(b.type));
  const out: FeatureV[] = [];
  collection.features.forEach((f, i) => {
    const g = f.geometry;
    if (!g) return;
    if (g.type !== 'Point' && g.type !== 'MultiPoint' && !(g.paths.length === 1 && g.paths[0]?.points.length === 1 && !g.paths[0].closed)) {
      throw new NotEmulatedError(`${a.fn} over features that are not points`);
    }
    const base: Record<string, Value> = {};
    for (const [k, v] of Object.entries(f.properties)) if (!keep || keep.includes(k)) base[k] = v;
    verticesIn(g, crs).flat().forEach(([x, y], k) => {
      const [col, row] = applyAffine(inv, x, y).map((v) => Math.floor(v + EPS)) as [number, number];
      const [cx, cy] = applyAffine(t, col + 0.5, row + 0.5);
      if (!insideClips(image, crs, cx, cy)) return;
      const props: Record<string, Value> = { ...base };
      image.bands.forEach((b, band) => {
        const v = syntheticValue(band, cx, cy, types[band] as EeDataType);
        props[b.name] = types[band] === 'Float32' ? Math.fround(v) : v;
      });
      const point = geometries ? new GeometryV([{ points: [[cx, cy]], closed: false }], new ProjectionV(crs), 'Point') : undefined;
      out.push(new FeatureV(point, props, `${f.id ?? i}_${k}`));
    });
  });
  return new FeatureCollectionV(out);
}

function reindex(f: FeatureV, id: string): FeatureV {
  return new FeatureV(f.geometry, f.properties, id);
}

/** `projects/p/assets/x` as given; a bare or legacy id is not one of the project's assets. */
function assetName(id: string): string {
  return id.replace(/\/+$/, '');
}

const DATA_TYPE_BY_NAME: Record<string, EeDataType> = { Int8: 'Int8', UInt8: 'UInt8', Int16: 'Int16', UInt16: 'UInt16', Int32: 'Int32', UInt32: 'UInt32', Float32: 'Float32', Float64: 'Float64' };

/** An IMAGE asset of a collection as the evaluator's image: its bands and native grid. */
function assetImage(img: { bands: readonly { id: string; dataType: string }[]; grid: ExportGrid | null }): ImageV {
  const bands = img.bands.map((b): Band => {
    const t = DATA_TYPE_BY_NAME[b.dataType] ?? 'Float32';
    return { name: b.id, type: t === 'Float32' ? FLOAT : t === 'Float64' ? DOUBLE : intType(t) };
  });
  const projection = img.grid ? new ProjectionV(img.grid.crs, img.grid.crsTransform) : undefined;
  return new ImageV(bands, projection);
}

function tableFeature(f: FeatureV, id: string): TableFeature {
  const properties: Record<string, PropertyValue> = {};
  for (const [k, v] of Object.entries(f.properties)) properties[k] = plainValue(v);
  return { id, geometry: f.geometry ? toGeoJson(f.geometry) : null, properties };
}

/** A JSON value, or NotEmulatedError for Earth Engine objects the emulator cannot describe. */
function plainValue(v: Value): PropertyValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (Array.isArray(v)) return (v as Value[]).map(plainValue);
  if (isEeObject(v as Value)) throw new NotEmulatedError(`a property holding ${describe(v as EeObject)}`);
  const out: Record<string, PropertyValue> = {};
  for (const [k, x] of Object.entries(v as Record<string, Value>)) out[k] = plainValue(x);
  return out;
}

function describe(v: EeObject): string {
  return v instanceof ImageV ? 'an Image' : v instanceof CollectionV ? 'an ImageCollection' : v instanceof NestedCollectionV ? 'a collection of collections' : v instanceof ProjectionV ? 'a Projection'
    : v instanceof ReducerV ? 'a Reducer' : v instanceof FunctionV ? 'a function' : v instanceof OpaqueV ? `a ${v.kind}` : 'an object';
}

/** What `getInfo` returns for a value (EE's JSON forms of images, features and collections). */
function toInfo(v: Value): unknown {
  if (v instanceof ImageV) {
    const crs = v.projection?.crs ?? WGS84_PROJECTION.crs;
    const transform = v.projection?.transform ?? [1, 0, 0, 0, 1, 0];
    return {
      type: 'Image',
      bands: v.bands.map((b) => ({ id: b.name, data_type: { type: 'PixelType', ...b.type }, crs, crs_transform: [...transform] })),
      properties: {},
    };
  }
  if (v instanceof FeatureV) return featureInfo(v, v.id);
  if (v instanceof FeatureCollectionV) {
    const columns: Record<string, string> = { 'system:index': 'String' };
    for (const f of v.features) for (const [k, x] of Object.entries(f.properties)) columns[k] ??= typeof x === 'number' ? (Number.isInteger(x) ? 'Integer' : 'Float') : typeof x === 'string' ? 'String' : 'Object';
    return { type: 'FeatureCollection', columns, features: v.features.map((f, i) => featureInfo(f, f.id ?? String(i))) };
  }
  if (v instanceof GeometryV) return toGeoJson(v);
  if (v !== null && typeof v === 'object' && isEeObject(v as Value)) throw new NotEmulatedError(`getInfo of ${describe(v as EeObject)}`);
  if (Array.isArray(v)) return (v as Value[]).map(toInfo);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, Value>)) out[k] = toInfo(x);
    return out;
  }
  return v;
}

function featureInfo(f: FeatureV, id: string | undefined): Record<string, unknown> {
  const t = tableFeature(f, id ?? '');
  return { type: 'Feature', geometry: t.geometry, ...(id !== undefined ? { id } : {}), properties: t.properties };
}
