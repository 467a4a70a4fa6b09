import { Worker } from 'node:worker_threads';
import { UserError } from '../errors';
import type { PointRow, TileSpec } from './presets';

/** Where the worker's own `ee` signs in: the same base URL, project and token as the engine's. */
export interface EeConnection {
  baseUrl: string;
  project: string;
  token: () => Promise<{ token: string; expiresIn: number }>;
}

export interface CustomResult {
  kind: 'image' | 'table';
  /** The expression, serialized by the worker's client (ee.Serializer.toCloudApiJSON). */
  expression: string;
  logs: string[];
}

/** A custom recipe failed: its message names the recipe file and line where it can. */
export class RecipeError extends UserError {}

/**
 * The worker's code (CommonJS, evaluated: no separate build output is needed). It loads the unmodified
 * client once, signs it in, compiles the recipe with the recipe file's name (so stacks and syntax errors
 * carry its line numbers), and answers one build request at a time with the serialized expression.
 */
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const vm = require('node:vm');
const fs = require('node:fs');
const path = require('node:path');
const { eePath, file, baseUrl, project } = workerData;
const label = path.basename(file);
const esc = (s) => s.replace(/[.*+?^$${'{'}}()|[\]\\]/g, '\\$&');
function where(e) {
  const m = new RegExp(esc(file) + ':(\\d+)(?::(\\d+))?').exec(String((e && e.stack) || ''));
  return m ? label + ':' + m[1] + (m[2] ? ':' + m[2] : '') : label;
}
function show(v) {
  try { return typeof v === 'string' ? v : v && typeof v.serialize === 'function' ? v.name ? v.name() : '<' + (v.constructor && v.constructor.name) + '>' : JSON.stringify(v); } catch { return String(v); }
}
let compiled;
let ee;
let ready;
function compile() {
  const src = fs.readFileSync(file, 'utf8');
  try {
    return vm.compileFunction(src, ['module', 'exports', 'require', 'print', 'Map', 'Export', 'ee'], { filename: file });
  } catch (e) {
    const m = new RegExp(esc(file) + ':(\\d+)').exec(String(e.stack || ''));
    throw Object.assign(new Error(label + (m ? ':' + m[1] : '') + ': syntax error: ' + e.message), { kind: 'syntax' });
  }
}
function noop(name, logs) {
  // Map.addLayer(…), Map.centerObject(…), Export.image.toDrive(…): any depth, every call only logged.
  return new Proxy(function () {}, {
    get: (_t, k) => (typeof k === 'symbol' || k === 'then' ? undefined : noop(name + '.' + k, logs)),
    apply: (_t, _self, args) => {
      logs.push(name + '(' + args.map(show).join(', ') + ') ignored: ' + (name.startsWith('Export') ? 'Tessera exports each tile itself' : 'no map here'));
      return undefined;
    },
  });
}
async function build(msg) {
  compiled = compiled || compile();
  if (!ready) {
    ee = require(eePath);
    ee.data.setAuthToken('tessera', 'Bearer', msg.token, msg.expiresIn, [], undefined, false);
    ready = new Promise((ok, fail) => ee.initialize(baseUrl, null, ok, (e) => fail(new Error('Earth Engine: ' + e.message)), null, project));
  } else {
    ee.data.setAuthToken('tessera', 'Bearer', msg.token, msg.expiresIn, [], undefined, false);
  }
  await ready;
  const logs = [];
  const module = { exports: {} };
  const req = (name) => {
    if (/^users\//.test(String(name))) throw new Error("require('" + name + "'): Code Editor modules (users/…) cannot be loaded by Tessera; paste the module's code into the recipe file");
    throw new Error("require('" + name + "') is not available in a recipe; everything the recipe needs must be in its file");
  };
  const print = (...args) => logs.push('print: ' + args.map(show).join(' '));
  const Map = noop('Map', logs);
  const Export = noop('Export', logs);
  try {
    compiled(module, module.exports, req, print, Map, Export, ee);
  } catch (e) {
    throw Object.assign(new Error(where(e) + ': ' + (e && e.message || e)), { kind: 'runtime' });
  }
  const fn = module.exports;
  if (typeof fn !== 'function') throw Object.assign(new Error(label + ': module.exports must be a function (tile, ee) => ee.Image | ee.FeatureCollection'), { kind: 'type' });
  const t = msg.tile;
  const [sx, , x0, , sy, y1] = t.crsTransform;
  const tile = { id: t.id, crs: t.crs, crsTransform: t.crsTransform, dimensions: t.dimensions, points: msg.points,
    geometry: ee.Geometry.Rectangle([x0, y1 + t.dimensions[1] * sy, x0 + t.dimensions[0] * sx, y1], t.crs, false) };
  let r;
  try {
    r = await fn(tile, ee);
  } catch (e) {
    throw Object.assign(new Error(where(e) + ': ' + (e && e.message || e)), { kind: 'runtime' });
  }
  let kind;
  if (r instanceof ee.Image) kind = 'image';
  else if (r instanceof ee.FeatureCollection) kind = 'table';
  else {
    const what = r === undefined ? 'undefined' : r === null ? 'null' : r instanceof ee.ComputedObject ? 'an ee.' + (r.name ? r.name() : 'object') : typeof r === 'object' ? 'a ' + (r.constructor && r.constructor.name || 'object') : 'a ' + typeof r;
    throw Object.assign(new Error(label + ': the recipe returned ' + what + '; it must return an ee.Image or an ee.FeatureCollection (or a Promise of one)'), { kind: 'type' });
  }
  return { kind, expression: ee.Serializer.toCloudApiJSON(r), logs };
}
parentPort.on('message', (msg) => {
  build(msg).then(
    (r) => parentPort.postMessage({ id: msg.id, ok: true, ...r }),
    (e) => parentPort.postMessage({ id: msg.id, ok: false, message: e && e.message || String(e) }),
  );
});
`;

/**
 * Runs a custom recipe file in a worker thread: the recipe may be slow, asynchronous, or never return —
 * the worker is terminated when it overruns (a `vm` timeout would stop only synchronous code).
 */
export class CustomRecipeRunner {
  private worker: Worker | undefined;
  private seq = 0;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly conn: EeConnection,
    private readonly timeoutMs: number,
  ) {}

  /** Builds one tile's expression; one build at a time. */
  build(tile: TileSpec, points?: readonly PointRow[]): Promise<CustomResult> {
    const next = this.chain.then(() => this.buildNow(tile, points));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async buildNow(tile: TileSpec, points?: readonly PointRow[]): Promise<CustomResult> {
    const { token, expiresIn } = await this.conn.token();
    const worker = (this.worker ??= this.spawn());
    const id = ++this.seq;
    return new Promise<CustomResult>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (m: { id: number; ok: boolean; message?: string } & CustomResult) => {
        if (m.id !== id) return;
        done();
        if (m.ok) resolve({ kind: m.kind, expression: m.expression, logs: m.logs });
        else reject(new RecipeError(m.message ?? 'the recipe failed'));
      };
      const onError = (e: Error) => {
        done();
        this.worker = undefined;
        reject(new RecipeError(`${this.file}: ${e.message}`));
      };
      const onExit = () => {
        done();
        this.worker = undefined;
        reject(new RecipeError(`${this.file}: the recipe worker stopped unexpectedly`));
      };
      const timer = setTimeout(() => {
        done();
        this.worker = undefined;
        void worker.terminate();
        reject(
          new RecipeError(
            `${this.file}: the recipe did not return within ${this.timeoutMs / 1000} s for tile ${tile.id}; it must return an ee.Image or ee.FeatureCollection (or a Promise of one) without waiting on the server (no getInfo/evaluate loops)`,
          ),
        );
      }, this.timeoutMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ id, token, expiresIn, tile: { id: tile.id, crs: tile.crs, crsTransform: [...tile.crsTransform], dimensions: [...tile.dimensions] }, points });
    });
  }

  private spawn(): Worker {
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { eePath: require.resolve('@google/earthengine'), file: this.file, baseUrl: this.conn.baseUrl, project: this.conn.project },
      stdout: false,
      stderr: false,
    });
    w.unref();
    return w;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
