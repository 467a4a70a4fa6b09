import { spawn, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import { httpFetch } from '../net/http';
import { childCommand, childScript, permissionFlag, RECIPE_HEAP_MB, runningInElectron } from './sandbox/launch';
import type { FromChild, ToChild } from './sandbox/protocol';
import { UserError } from '../errors';
import type { PointRow, TileSpec } from './presets';
import type { Period } from '../periods/periods';

/**
 * The engine's Earth Engine connection. The token stays in this process: a recipe's child gets only the
 * algorithm list that this process fetches for it (docs/security.md, "Recipes").
 */
export interface EeConnection {
  baseUrl: string;
  project: string;
  token: () => Promise<{ token: string; expiresIn: number }>;
}

export interface CustomResult {
  kind: 'image' | 'table';
  /** The expression, serialized by the child's client (ee.Serializer.toCloudApiJSON), checked here. */
  expression: string;
  logs: string[];
}

/** A custom recipe failed: its message names the recipe file and line where it can. */
export class RecipeError extends UserError {}

/** A recipe file larger than this is refused (recipes are scripts, not data). */
export const RECIPE_MAX_BYTES = 1024 * 1024;
/** An expression larger than this from a recipe's child is refused. */
const EXPRESSION_MAX_BYTES = 16 * 1024 * 1024;
const LOG_LINES = 1000;
const LOG_CHARS = 64 * 1024;
/** The child's start (process, Earth Engine client, algorithm list) before the recipe itself runs. */
const START_MS = 60_000;

/** A recipe file's source: a regular file, at most RECIPE_MAX_BYTES, UTF-8. */
export async function readRecipeSource(file: string): Promise<string> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RecipeError(code === 'ENOENT' ? `recipe file not found: ${file}` : `${file} cannot be read (${code ?? (e as Error).message})`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new RecipeError(`${file} is not a regular file; give the recipe as a .js file`);
    if (st.size > RECIPE_MAX_BYTES) throw new RecipeError(`${file} is larger than ${RECIPE_MAX_BYTES / 1024 ** 2} MB; a recipe is a script, keep data out of it`);
    return (await fh.readFile('utf8')).replace(/^\uFEFF/, '');
  } finally {
    await fh.close();
  }
}

/**
 * Checks what a recipe's child answered: the kind, an expression that is Earth Engine's serialized JSON
 * (`{ result, values }`), bounded logs. Anything else is the recipe's failure, never passed on.
 */
export function checkChildResult(file: string, m: Extract<FromChild, { type: 'built' }>): CustomResult {
  const bad = (why: string) => new RecipeError(`${file}: the recipe's answer was refused (${why})`);
  if (m.kind !== 'image' && m.kind !== 'table') throw bad('unknown kind');
  if (typeof m.expression !== 'string' || m.expression.length > EXPRESSION_MAX_BYTES) throw bad('no expression, or one too large');
  let parsed: unknown;
  try {
    parsed = JSON.parse(m.expression);
  } catch {
    throw bad('the expression is not JSON');
  }
  const p = parsed as { result?: unknown; values?: unknown };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof p.result !== 'string' || typeof p.values !== 'object' || p.values === null) {
    throw bad('not a serialized Earth Engine expression');
  }
  const logs = Array.isArray(m.logs) ? m.logs.filter((l): l is string => typeof l === 'string').slice(0, LOG_LINES).map((l) => l.slice(0, LOG_CHARS)) : [];
  return { kind: m.kind, expression: m.expression, logs };
}

/**
 * Runs a custom recipe file in a child process under Node's permission model (sandbox/launch.ts): it reads
 * nothing but its own script, writes nothing, starts no process or worker, has no network and no
 * credentials, and answers serialized expressions that this process checks and submits. A recipe that
 * overruns its time is killed (a `vm` timeout would stop only synchronous code), as is one that outgrows
 * its heap.
 */
export class CustomRecipeRunner {
  private child: ChildProcess | undefined;
  private seq = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private source: string | undefined;
  private algorithms: Promise<string> | undefined;

  constructor(
    private readonly file: string,
    private readonly conn: EeConnection,
    private readonly timeoutMs: number,
  ) {}

  /** Builds one tile's expression; one build at a time. */
  build(tile: TileSpec, points?: readonly PointRow[], period?: Period): Promise<CustomResult> {
    const next = this.chain.then(() => this.buildNow(tile, points, period));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async buildNow(tile: TileSpec, points?: readonly PointRow[], period?: Period): Promise<CustomResult> {
    this.source ??= await readRecipeSource(this.file);
    const child = (this.child ??= this.spawn());
    const id = ++this.seq;
    let stderr = '';
    const onStderr = (d: Buffer) => {
      if (stderr.length < 8192) stderr += d.toString();
    };
    child.stderr?.on('data', onStderr);
    return new Promise<CustomResult>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('error', onError);
        child.off('exit', onExit);
        child.stderr?.off('data', onStderr);
      };
      const drop = () => {
        if (this.child === child) this.child = undefined;
        child.kill('SIGKILL');
      };
      const onMessage = (m: FromChild) => {
        if (typeof m !== 'object' || m === null) return; // the child is not trusted: anything may arrive
        if (m.type === 'algorithms') return void this.answerAlgorithms(child, m.url);
        if (m.id !== id) return;
        if (m.type === 'running') {
          clearTimeout(timer);
          timer = setTimeout(overrun, this.timeoutMs);
          return;
        }
        done();
        if (m.type === 'failed') reject(new RecipeError(typeof m.message === 'string' ? m.message.slice(0, 4000) : 'the recipe failed'));
        else {
          try {
            resolve(checkChildResult(this.file, m));
          } catch (e) {
            drop();
            reject(e);
          }
        }
      };
      const onError = (e: Error) => {
        done();
        drop();
        reject(new RecipeError(`${this.file}: the recipe could not be started (${e.message})`));
      };
      const onExit = () => {
        done();
        drop();
        const oom = /heap out of memory|Allocation failed/i.test(stderr);
        const denied = /ERR_ACCESS_DENIED/.exec(stderr);
        reject(new RecipeError(
          oom ? `${this.file}: the recipe ran out of memory (a recipe's process may use ${RECIPE_HEAP_MB} MB)`
          : denied ? `${this.file}: the recipe tried something recipes may not do (${stderr.split('\n').find((l) => /Error|denied/i.test(l))?.trim() ?? 'access denied'})`
          : `${this.file}: the recipe's process stopped unexpectedly${stderr.trim() ? ` (${stderr.trim().split('\n').pop()!.slice(0, 300)})` : ''}`,
        ));
      };
      const overrun = () => {
        done();
        drop();
        reject(
          new RecipeError(
            `${this.file}: the recipe did not return within ${this.timeoutMs / 1000} s for tile ${tile.id}; it must return an ee.Image or ee.FeatureCollection (or a Promise of one) without waiting on the server (no getInfo/evaluate loops)`,
          ),
        );
      };
      const startFailed = () => {
        done();
        drop();
        reject(new RecipeError(`${this.file}: the recipe's process did not start within ${START_MS / 1000} s`));
      };
      // The recipe's own time counts from when it is called (the child says so), not from the child's start.
      let timer = setTimeout(startFailed, START_MS);
      child.on('message', onMessage);
      child.on('error', onError);
      child.on('exit', onExit);
      const request: ToChild = {
        type: 'build', id, file: this.file, source: this.source!, baseUrl: this.conn.baseUrl, project: this.conn.project,
        tile: { id: tile.id, crs: tile.crs, crsTransform: [...tile.crsTransform], dimensions: [tile.dimensions[0], tile.dimensions[1]] },
        ...(points ? { points } : {}),
        ...(period ? { period: { id: period.id, start: period.start, end: period.end } } : {}),
      };
      child.send(request);
    });
  }

  /**
   * The child's client asks for the algorithm list once, at start: fetched here with the token (only that
   * listing, only from the connection's own Earth Engine), kept for later children of this runner.
   */
  private answerAlgorithms(child: ChildProcess, url: string): void {
    const reply = (m: ToChild) => {
      if (child.connected) child.send(m);
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return reply({ type: 'algorithms', ok: false, body: 'not a URL' });
    }
    if (target.origin !== new URL(this.conn.baseUrl).origin || !/^\/(?:v1|v1alpha|v1beta)\/projects\/[^/]+\/algorithms$/.test(target.pathname)) {
      return reply({ type: 'algorithms', ok: false, body: 'refused' });
    }
    this.algorithms ??= (async () => {
      const { token } = await this.conn.token();
      const res = await httpFetch(target.href, { headers: { Authorization: `Bearer ${token}` } });
      const body = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${body.slice(0, 300)}`);
      return body;
    })();
    this.algorithms.catch(() => (this.algorithms = undefined));
    this.algorithms.then(
      (body) => reply({ type: 'algorithms', ok: true, body }),
      (e: unknown) => reply({ type: 'algorithms', ok: false, body: (e as Error).message }),
    );
  }

  private spawn(): ChildProcess {
    const script = childScript();
    if (!script) throw new RecipeError('the recipe runner is not built (no out/recipe/child.cjs): run npm run build');
    const flag = permissionFlag(process.allowedNodeEnvironmentFlags);
    if (!flag) throw new RecipeError(`this Node (${process.version}) has no permission model; custom recipes need Node 20.19 or 22.12 and later`);
    // Node 20 splits --allow-fs-read at commas: the child could not read its own script.
    if (flag === '--experimental-permission' && script.includes(',')) throw new RecipeError(`custom recipes cannot run from ${script}: its path holds a comma, which Node ${process.version} cannot allow; move Tessera to a folder without one`);
    const cmd = childCommand({ execPath: process.execPath, script, flag, electron: runningInElectron() });
    const child = spawn(cmd.execPath, cmd.args, { env: cmd.env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json', windowsHide: true });
    child.unref();
    child.channel?.unref();
    (child.stderr as { unref?: () => void } | null)?.unref?.(); // a net.Socket in fact: an idle child never holds Tessera open
    return child;
  }

  async close(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.ref(); // an unreferenced child's exit would not keep this process waiting for it
      c.kill('SIGKILL');
      await exited;
    }
  }
}
