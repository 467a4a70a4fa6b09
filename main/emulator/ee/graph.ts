/** Walks an expression graph (`{result, values}`) and checks each call's arguments against the catalog. */
import { algorithm } from './algorithms';
import { NotEmulatedError } from './product';
import { CollectionV, EeEvaluationError, FeatureCollectionV, FeatureV, FunctionV, GeometryV, ImageV, MalformedExpressionError, ProjectionV, ReducerV, isEeObject, isRecord } from './values';
import type { Affine, AssetLookup, Env, Value } from './values';
import { toImage } from './images';
import { geometryFromGeoJson, normalizeCrs } from './geometry';
import { FUNCTIONS } from './functions';

// ---------------------------------------------------------------------------------------------------
// The graph: `{result, values}` with hoisted, shared values

const MAX_DEPTH = 2000;

export class Graph {
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

export class Args {
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

  /** An optional argument: undefined when absent (or null), else read as `read` (this.number, this.geometry, …) reads it. */
  optional<K extends 'image' | 'geometry' | 'projection' | 'number' | 'strings'>(read: K, name: string): ReturnType<Args[K]> | undefined {
    return this.has(name) ? (this[read](name) as ReturnType<Args[K]>) : undefined;
  }

  wrong(name: string, expected: string): EeEvaluationError {
    return new EeEvaluationError(`${this.fn}, argument '${name}': Invalid type. Expected type: ${expected}.`);
  }

  image(name: string): ImageV {
    return toImage(this.value(name), () => this.wrong(name, 'Image<unknown bands>'));
  }

  images(name: string): ImageV[] {
    const v = this.value(name);
    if (!Array.isArray(v)) throw this.wrong(name, 'List<Image>');
    return (v as Value[]).map((x) => toImage(x, () => this.wrong(name, 'List<Image>')));
  }

  /** The argument when it is a value of `type`; else EE's "Invalid type" naming `expected`. */
  private instance<T>(name: string, type: abstract new (...args: never[]) => T, expected: string): T {
    const v = this.value(name);
    if (v instanceof type) return v;
    throw this.wrong(name, expected);
  }

  collection(name: string): CollectionV {
    if (this.value(name) instanceof FeatureCollectionV) throw new NotEmulatedError(`${this.fn} on a FeatureCollection`);
    return this.instance(name, CollectionV, 'ImageCollection');
  }

  features(name: string): FeatureCollectionV {
    return this.instance(name, FeatureCollectionV, 'FeatureCollection');
  }

  /** A geometry, a feature's geometry, or GeoJSON. */
  geometry(name: string): GeometryV {
    const v = this.value(name);
    if (v instanceof FeatureV && v.geometry) return v.geometry;
    if (isRecord(v) && !isEeObject(v as Value) && typeof v.type === 'string') return geometryFromGeoJson(v);
    return this.instance(name, GeometryV, 'Geometry');
  }

  /** A projection, or a CRS code. */
  projection(name: string): ProjectionV {
    const v = this.value(name);
    if (typeof v === 'string') return new ProjectionV(normalizeCrs(v));
    return this.instance(name, ProjectionV, 'Projection');
  }

  reducer(name: string): ReducerV {
    return this.instance(name, ReducerV, 'Reducer');
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
