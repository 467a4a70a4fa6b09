/**
 * Google's own descriptions of its JSON, read from the unmodified client packages, to check the
 * emulator's answers against (test/emulator/fidelity.test.ts):
 * - Earth Engine: the request/response classes generated into `@google/earthengine` (`ee.api.*`), whose
 *   class metadata names every key, the nested classes (objects, arrays of objects), free-form maps and
 *   enums. Scalar types are not in it: a scalar key must hold a JSON scalar or a list of scalars.
 * - Drive: `@googleapis/drive`'s discovery-derived TypeScript types (`drive_v3.Schema$File`, …) in
 *   build/v3.d.ts, read with the TypeScript compiler: every property with its type.
 */
import { join } from 'node:path';
import ts from 'typescript';

export type Problem = string;

// ---- Earth Engine ---------------------------------------------------------------------------------------

interface EeClassMetadata {
  keys: string[];
  objects: Record<string, new () => EeSerializable>;
  arrays: Record<string, new () => EeSerializable>;
  objectMaps: Record<string, unknown>;
  enums: Record<string, Record<string, unknown>>;
}
interface EeSerializable {
  getClassMetadata(): EeClassMetadata;
}

type EeApi = Record<string, new () => EeSerializable>;

/** `ee.api` of the unmodified client. */
export function eeApi(): EeApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('@google/earthengine') as { api: EeApi }).api;
}

/**
 * Fields typed `google.protobuf.Value` in Earth Engine's REST reference (any JSON): the generated metadata
 * lists them as plain keys. `AlgorithmArgument.defaultValue`, `ComputeValueResponse.result`,
 * `ValueNode.constantValue`.
 */
const ANY_JSON = new Set(['defaultValue', 'result', 'constantValue']);

function isScalar(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function enumValues(e: Record<string, unknown>): Set<string> {
  const values = typeof e.values === 'function' ? (e.values as () => unknown[])() : Object.values(e).filter((x) => typeof x === 'string');
  return new Set(values.map(String));
}

/**
 * Checks a JSON value against an `ee.api` class. `special` gives the class of a free-form map by its owner
 * (an Operation's `metadata` is an OperationMetadata with its `@type`).
 */
export function checkEe(value: unknown, ctor: new () => EeSerializable, path: string, special: (ctor: new () => EeSerializable, key: string) => (new () => EeSerializable) | undefined = () => undefined): Problem[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected an object (${ctor.name || 'ee.api class'}), got ${JSON.stringify(value)?.slice(0, 80)}`];
  const md = new ctor().getClassMetadata();
  const out: Problem[] = [];
  for (const [key, v] of Object.entries(value)) {
    const at = `${path}.${key}`;
    if (key === '@type' && path.endsWith('.metadata')) continue;
    if (!md.keys.includes(key)) {
      out.push(`${at}: not a field of the generated class (fields: ${md.keys.join(', ')})`);
      continue;
    }
    if (v === null || v === undefined) continue;
    const nested = special(ctor, key);
    if (nested) out.push(...checkEe(v, nested, at, special));
    else if (md.objects[key]) out.push(...checkEe(v, md.objects[key]!, at, special));
    else if (md.arrays[key]) {
      if (!Array.isArray(v)) out.push(`${at}: expected a list`);
      else v.forEach((item, k) => out.push(...checkEe(item, md.arrays[key]!, `${at}[${k}]`, special)));
    } else if (key in md.objectMaps) {
      if (typeof v !== 'object' || Array.isArray(v)) out.push(`${at}: expected a map (object)`);
    } else if (md.enums[key]) {
      const allowed = enumValues(md.enums[key]!);
      const values = Array.isArray(v) ? v : [v];
      for (const x of values) if (!allowed.has(String(x))) out.push(`${at}: ${JSON.stringify(x)} is not one of ${[...allowed].join(', ')}`);
    } else if (ANY_JSON.has(key)) {
      // a google.protobuf.Value: any JSON
    } else if (!(isScalar(v) || (Array.isArray(v) && v.every(isScalar)))) {
      out.push(`${at}: expected a scalar or a list of scalars, got ${JSON.stringify(v).slice(0, 80)}`);
    }
  }
  return out;
}

// ---- Drive ------------------------------------------------------------------------------------------------

export type DriveType =
  | { kind: 'string' | 'number' | 'boolean' | 'any' }
  | { kind: 'array'; of: DriveType }
  | { kind: 'object'; name: string; props: () => Map<string, DriveType>; index?: DriveType };

/** The `drive_v3.Schema$*` interfaces of @googleapis/drive, from its .d.ts, by name. */
export function driveSchemas(): (name: string) => DriveType {
  const file = join(require.resolve('@googleapis/drive'), '..', 'v3.d.ts');
  const program = ts.createProgram([file], { noEmit: true, strict: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const decls = new Map<string, ts.InterfaceDeclaration>();
  const visit = (n: ts.Node): void => {
    if (ts.isInterfaceDeclaration(n) && n.name.text.startsWith('Schema$')) decls.set(n.name.text, n);
    ts.forEachChild(n, visit);
  };
  visit(source);
  const cache = new Map<ts.Type, DriveType>();
  const typeOf = (t: ts.Type): DriveType => {
    const cached = cache.get(t);
    if (cached) return cached;
    if (t.isUnion()) {
      const parts = t.types.filter((p) => !(p.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)));
      if (parts.length === 1) return typeOf(parts[0]!);
      if (parts.every((p) => p.flags & ts.TypeFlags.BooleanLiteral)) return { kind: 'boolean' };
      return { kind: 'any' };
    }
    if (t.flags & (ts.TypeFlags.String | ts.TypeFlags.StringLiteral)) return { kind: 'string' };
    if (t.flags & (ts.TypeFlags.Number | ts.TypeFlags.NumberLiteral)) return { kind: 'number' };
    if (t.flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) return { kind: 'boolean' };
    if (t.flags & ts.TypeFlags.Any || t.flags & ts.TypeFlags.Unknown) return { kind: 'any' };
    if (checker.isArrayType(t)) return { kind: 'array', of: typeOf(checker.getTypeArguments(t as ts.TypeReference)[0]!) };
    const name = t.symbol?.name && t.symbol.name !== '__type' ? t.symbol.name : 'inline object';
    let props: Map<string, DriveType> | undefined;
    const index = t.getStringIndexType();
    const out: DriveType = {
      kind: 'object',
      name,
      props: () => {
        props ??= new Map(t.getProperties().map((p) => [p.name, typeOf(checker.getTypeOfSymbolAtLocation(p, source))]));
        return props;
      },
      ...(index ? { index: typeOf(index) } : {}),
    };
    cache.set(t, out);
    return out;
  };
  return (name: string) => {
    const d = decls.get(name);
    if (!d) throw new Error(`@googleapis/drive has no ${name}`);
    return typeOf(checker.getTypeAtLocation(d));
  };
}

/** Checks a JSON value against a Drive type: unknown fields and wrong types are problems. */
export function checkDrive(value: unknown, type: DriveType, path: string): Problem[] {
  if (value === null || type.kind === 'any') return [];
  switch (type.kind) {
    case 'string':
    case 'number':
    case 'boolean':
      return typeof value === type.kind ? [] : [`${path}: expected a ${type.kind}, got ${JSON.stringify(value)?.slice(0, 80)}`];
    case 'array':
      return Array.isArray(value) ? value.flatMap((v, k) => checkDrive(v, type.of, `${path}[${k}]`)) : [`${path}: expected a list`];
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object (${type.name})`];
      const props = type.props();
      const out: Problem[] = [];
      for (const [key, v] of Object.entries(value)) {
        const t = props.get(key) ?? type.index;
        if (!t) out.push(`${path}.${key}: not a field of ${type.name}`);
        else out.push(...checkDrive(v, t, `${path}.${key}`));
      }
      return out;
    }
  }
}

// ---- Google's error body (both services; https://cloud.google.com/apis/design/errors) ---------------------

export function checkGoogleError(value: unknown, path: string, drive: boolean): Problem[] {
  const e = (value as { error?: unknown })?.error;
  if (typeof e !== 'object' || e === null) return [`${path}: an error without {"error": {…}}`];
  const out: Problem[] = [];
  const allowed = new Set(['code', 'message', 'status', 'details', ...(drive ? ['errors'] : [])]);
  for (const [k, v] of Object.entries(e)) {
    if (!allowed.has(k)) out.push(`${path}.error.${k}: not a field of Google's error body`);
    else if (k === 'code' && typeof v !== 'number') out.push(`${path}.error.code: expected a number`);
    else if ((k === 'message' || k === 'status') && typeof v !== 'string') out.push(`${path}.error.${k}: expected a string`);
    else if ((k === 'details' || k === 'errors') && !Array.isArray(v)) out.push(`${path}.error.${k}: expected a list`);
  }
  if (drive) {
    for (const [i, item] of ((e as { errors?: unknown[] }).errors ?? []).entries()) {
      for (const k of Object.keys(item as object)) if (!['message', 'domain', 'reason', 'location', 'locationType', 'extendedHelp'].includes(k)) out.push(`${path}.error.errors[${i}].${k}: not a field of Drive's error item`);
    }
  }
  return out;
}
