/* eslint-disable @typescript-eslint/no-require-imports */
/**
 * A custom recipe's child process (bundled alone into out/recipe/child.cjs: Node's permission model lets it
 * read that one file and nothing else). It builds one tile's expression at a time with the bundled Earth
 * Engine client and answers the serialized expression; it holds no credentials, reaches no network
 * (lockdown.ts), and cannot compute (offline-xhr.ts). docs/security.md, "Recipes", has the whole model.
 */
import vm from 'node:vm';
import { lockDownNetwork } from './lockdown';
import { setOfflineTransport } from './offline-xhr';
import { NO_COMPUTE, type BuildRequest, type FromChild, type ToChild } from './protocol';

lockDownNetwork();

const send = (m: FromChild): void => void process.send?.(m);
let algorithmsWaiting: { resolve: (body: string) => void; reject: (e: Error) => void } | undefined;
/** The build in progress fails at once when its recipe tries to compute (it might never return otherwise). */
let refuseCurrent: ((message: string) => void) | undefined;

setOfflineTransport({
  algorithms: (url) =>
    new Promise<string>((resolve, reject) => {
      algorithmsWaiting = { resolve, reject };
      send({ type: 'algorithms', url });
    }),
  refused: () => refuseCurrent?.(NO_COMPUTE),
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Ee = any;
const ee: Ee = require('@google/earthengine');
let ready: Promise<void> | undefined;
let compiled: { source: string; fn: (...args: unknown[]) => void } | undefined;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function labelOf(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

function where(file: string, e: unknown): string {
  const m = new RegExp(escapeRe(file) + ':(\\d+)(?::(\\d+))?').exec(String((e as Error | undefined)?.stack ?? ''));
  return m ? `${labelOf(file)}:${m[1]}${m[2] ? `:${m[2]}` : ''}` : labelOf(file);
}

function show(v: unknown): string {
  try {
    if (typeof v === 'string') return v;
    const o = v as { serialize?: unknown; name?: () => string; constructor?: { name?: string } } | null;
    if (o && typeof o.serialize === 'function') return o.name ? o.name() : `<${o.constructor?.name ?? 'object'}>`;
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** An exception's message; the permission model's refusals say what recipes may not do. */
function explain(e: unknown): string {
  const message = (e as Error | undefined)?.message ?? String(e);
  if ((e as NodeJS.ErrnoException | undefined)?.code === 'ERR_ACCESS_DENIED') {
    return `${message} (ERR_ACCESS_DENIED: a recipe may not read or write files, start processes or workers; it only builds an expression)`;
  }
  return message;
}

function fail(message: string, kind: string): Error {
  return Object.assign(new Error(message), { kind });
}

/** Map.addLayer(…), Export.image.toDrive(…): any depth, every call only logged. */
function noop(name: string, logs: string[]): unknown {
  return new Proxy(function () {}, {
    get: (_t, k) => (typeof k === 'symbol' || k === 'then' ? undefined : noop(`${name}.${String(k)}`, logs)),
    apply: (_t, _self, args: unknown[]) => {
      logs.push(`${name}(${args.map(show).join(', ')}) ignored: ${name.startsWith('Export') ? 'Tessera exports each tile itself' : 'no map here'}`);
      return undefined;
    },
  });
}

function compile(file: string, source: string): (...args: unknown[]) => void {
  if (compiled?.source === source) return compiled.fn;
  try {
    const fn = vm.compileFunction(source, ['module', 'exports', 'require', 'print', 'Map', 'Export', 'ee'], { filename: file }) as (...args: unknown[]) => void;
    compiled = { source, fn };
    return fn;
  } catch (e) {
    const m = new RegExp(escapeRe(file) + ':(\\d+)').exec(String((e as Error).stack ?? ''));
    throw fail(`${labelOf(file)}${m ? `:${m[1]}` : ''}: syntax error: ${(e as Error).message}`, 'syntax');
  }
}

async function build(msg: BuildRequest): Promise<FromChild> {
  const { file } = msg;
  const label = labelOf(file);
  const fn = compile(file, msg.source);
  ready ??= new Promise<void>((ok, bad) =>
    ee.initialize(msg.baseUrl, null, ok, (e: Error) => bad(new Error(`Earth Engine: ${e.message}`)), null, msg.project),
  );
  await ready;
  // Sent (and flushed) before the recipe runs: a recipe that then blocks its thread is still timed.
  await new Promise<void>((flushed) => process.send?.({ type: 'running', id: msg.id } satisfies FromChild, undefined, {}, () => flushed()));
  const logs: string[] = [];
  const module = { exports: {} as unknown };
  const req = (name: unknown) => {
    if (/^users\//.test(String(name))) throw new Error(`require('${String(name)}'): Code Editor modules (users/…) cannot be loaded by Tessera; paste the module's code into the recipe file`);
    throw new Error(`require('${String(name)}') is not available in a recipe; everything the recipe needs must be in its file`);
  };
  const print = (...args: unknown[]) => logs.push(`print: ${args.map(show).join(' ')}`);
  try {
    fn(module, module.exports, req, print, noop('Map', logs), noop('Export', logs), ee);
  } catch (e) {
    throw fail(`${where(file, e)}: ${explain(e)}`, 'runtime');
  }
  const recipe = module.exports;
  if (typeof recipe !== 'function') throw fail(`${label}: module.exports must be a function (tile, ee) => ee.Image | ee.FeatureCollection`, 'type');
  const t = msg.tile;
  const [sx, , x0, , sy, y1] = t.crsTransform as [number, number, number, number, number, number];
  const tile = {
    id: t.id, crs: t.crs, crsTransform: t.crsTransform, dimensions: t.dimensions, points: msg.points, period: msg.period,
    geometry: ee.Geometry.Rectangle([x0, y1 + t.dimensions[1] * sy, x0 + t.dimensions[0] * sx, y1], t.crs, false),
  };
  let r: unknown;
  try {
    // The period also comes as a third argument, beside the tile (docs/periods.md#recipes).
    r = await (recipe as (tile: unknown, ee: Ee, period: unknown) => unknown)(tile, ee, msg.period);
  } catch (e) {
    throw fail(`${where(file, e)}: ${explain(e)}`, 'runtime');
  }
  let kind: 'image' | 'table';
  if (r instanceof ee.Image) kind = 'image';
  else if (r instanceof ee.FeatureCollection) kind = 'table';
  else {
    const o = r as { name?: () => string; constructor?: { name?: string } } | null | undefined;
    const what = r === undefined ? 'undefined' : r === null ? 'null' : r instanceof ee.ComputedObject ? `an ee.${o?.name ? o.name() : 'object'}` : typeof r === 'object' ? `a ${o?.constructor?.name ?? 'object'}` : `a ${typeof r}`;
    throw fail(`${label}: the recipe returned ${what}; it must return an ee.Image or an ee.FeatureCollection (or a Promise of one)`, 'type');
  }
  return { type: 'built', id: msg.id, kind, expression: ee.Serializer.toCloudApiJSON(r) as string, logs };
}

process.on('message', (m: ToChild) => {
  if (m.type === 'algorithms') {
    const w = algorithmsWaiting;
    algorithmsWaiting = undefined;
    if (m.ok) w?.resolve(m.body);
    else w?.reject(new Error(m.body));
    return;
  }
  if (m.type !== 'build') return;
  const refused = new Promise<never>((_ok, bad) => (refuseCurrent = (message) => bad(new Error(`${labelOf(m.file)}: ${message}`))));
  refused.catch(() => undefined);
  Promise.race([build(m), refused]).then(
    (r) => send(r),
    (e: unknown) => send({ type: 'failed', id: m.id, message: (e as Error)?.message ?? String(e) }),
  ).finally(() => (refuseCurrent = undefined));
});
// The parent ends the child by closing the channel (or killing it on a timeout).
process.on('disconnect', () => process.exit(0));
