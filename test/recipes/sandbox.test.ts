import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type EmulatorHandle } from '../../main/emulator';
import { CustomRecipeRunner, type EeConnection } from '../../main/core/recipes/custom';
import { childCommand, permissionFlag } from '../../main/core/recipes/sandbox/launch';
import { signIn } from '../emulator/google-clients';

/**
 * A custom recipe runs in a child process that holds no secrets and may only build expressions
 * (docs/security.md, "Recipes"). Each hostile recipe below must fail with a clear message and leave nothing.
 */
let emu: EmulatorHandle;
let conn: EeConnection;
let dir: string;
let listener: Server;
let connections = 0;
const TOKEN = 'ya29.secret-access-token-of-the-user';
const WRITE_DIR = '/tmp';

beforeAll(async () => {
  emu = await startEmulator({ project: 'tessera-test' });
  const { tokens } = await signIn(emu.url);
  conn = { baseUrl: emu.url, project: 'tessera-test', token: async () => ({ token: tokens.access_token!, expiresIn: 3600 }) };
  dir = mkdtempSync(join(tmpdir(), 'tessera-sandbox-'));
  // A secret where a recipe might look for one: the environment of this (parent) process.
  process.env.TESSERA_TEST_SECRET_TOKEN = TOKEN;
  listener = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((ok) => listener.listen(0, '127.0.0.1', ok));
});
afterAll(async () => {
  delete process.env.TESSERA_TEST_SECRET_TOKEN;
  await new Promise<void>((ok) => listener?.close(() => ok()));
  await emu?.stop();
});

const TILE = { id: 'x1_y2', crs: 'EPSG:3035', crsTransform: [10, 0, 4000000, 0, -10, 3000640] as const, dimensions: [64, 64] as [number, number] };

async function run(source: string, timeoutMs = 20_000): Promise<{ ok: true; kind: string; expression: string; logs: string[] } | { ok: false; message: string }> {
  const file = join(dir, `r${Math.random().toString(36).slice(2)}.js`);
  writeFileSync(file, source);
  const runner = new CustomRecipeRunner(file, conn, timeoutMs);
  try {
    const r = await runner.build({ ...TILE, crsTransform: [...TILE.crsTransform] });
    return { ok: true, ...r };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  } finally {
    await runner.close();
  }
}

describe('custom recipes run without secrets', () => {
  it('a legitimate recipe still builds its expression (and print is logged)', async () => {
    const r = await run("module.exports = (tile, ee) => { print('hello', tile.id); return ee.Image.constant(1).clip(tile.geometry); };\n");
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    expect(r.kind).toBe('image');
    expect(JSON.parse(r.expression)).toHaveProperty('result');
    expect(r.logs).toEqual(['print: hello x1_y2']);
  }, 30_000);

  const home = process.env.HOME ?? '/root';
  const hostile: [string, string, RegExp][] = [
    ['reads ~/.config', `module.exports = (tile, ee) => { const fs = process.mainModule.require('fs'); fs.readdirSync(${JSON.stringify(join(home, '.config'))}); return ee.Image(1); };`, /ERR_ACCESS_DENIED|Access to this API has been restricted/],
    ['reads the credentials file', `module.exports = (tile, ee) => { process.mainModule.require('fs').readFileSync(${JSON.stringify(join(home, '.config', 'tessera', 'credentials.json'))}); return ee.Image(1); };`, /ERR_ACCESS_DENIED|Access to this API has been restricted/],
    ['writes a file', `module.exports = (tile, ee) => { process.mainModule.require('fs').writeFileSync(${JSON.stringify(join(WRITE_DIR, 'pwned.txt'))}, 'x'); return ee.Image(1); };`, /ERR_ACCESS_DENIED|Access to this API has been restricted/],
    ['spawns a process', "module.exports = (tile, ee) => { process.mainModule.require('child_process').execSync('touch /tmp/tessera-pwned'); return ee.Image(1); };", /ERR_ACCESS_DENIED|Access to this API has been restricted/],
    ['starts a worker', "module.exports = (tile, ee) => { new (process.mainModule.require('worker_threads').Worker)('1', { eval: true }); return ee.Image(1); };", /ERR_ACCESS_DENIED|Access to this API has been restricted/],
    ['opens a socket', "module.exports = (tile, ee) => { process.mainModule.require('net').connect(PORT, '127.0.0.1'); return ee.Image(1); };", /no network access/],
    ['uses fetch', "module.exports = async (tile, ee) => { await fetch('http://127.0.0.1:PORT/'); return ee.Image(1); };", /no network access/],
    ['calls getInfo', "module.exports = (tile, ee) => { ee.Number(1).getInfo(); return ee.Image(1); };", /recipes build expressions and do not compute/],
    ['calls evaluate', "module.exports = (tile, ee) => new Promise((ok) => ee.Number(1).evaluate(() => ok(ee.Image(1))));", /recipes build expressions and do not compute/],
    ['builds code from a string', "module.exports = (tile, ee) => { Function('return 1')(); return ee.Image(1); };", /Code generation from strings disallowed|EvalError/],
  ];

  it.each(hostile)('%s: refused with a clear message, nothing written, no connection', async (name, source) => {
    const port = (listener.address() as AddressInfo).port;
    const before = connections;
    const r = await run(source.replaceAll('PORT', String(port)) + '\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toMatch(hostile.find((h) => h[0] === name)![2]);
    expect(r.message.split('\n')).toHaveLength(1);
    expect(connections).toBe(before);
    expect(existsSync('/tmp/tessera-pwned')).toBe(false);
    expect(existsSync(join(WRITE_DIR, 'pwned.txt'))).toBe(false);
  }, 30_000);

  it('sees no secret: its environment is empty and its Earth Engine client holds no token', async () => {
    const r = await run([
      'module.exports = (tile, ee) => {',
      "  const env = Object.keys(process.env).filter((k) => !/^NODE_CHANNEL/.test(k));",
      "  if (env.length) throw new Error('saw ' + env.join(','));",
      "  const t = ee.data.getAuthToken();",
      "  if (t) throw new Error('saw the token ' + t);",
      '  return ee.Image.constant(1);',
      '};',
    ].join('\n'));
    expect(r.ok, JSON.stringify(r)).toBe(true);
  }, 30_000);

  it('the access token never reaches the child: it is in neither its arguments nor its environment', () => {
    const cmd = childCommand({ execPath: process.execPath, script: '/x/out/recipe/child.cjs', flag: '--permission', electron: false });
    expect(cmd.env).toEqual({});
    expect(cmd.args.join(' ')).not.toMatch(/token|secret/i);
    expect(cmd.args).toContain('--allow-fs-read=/x/out/recipe/child.cjs');
    expect(cmd.args.some((a) => a.startsWith('--allow-fs-write') || a.startsWith('--allow-child-process') || a.startsWith('--allow-worker'))).toBe(false);
    // Under Electron the same binary must run as Node.
    expect(childCommand({ execPath: '/opt/Tessera/tessera', script: '/s.cjs', flag: '--permission', electron: true }).env).toEqual({ ELECTRON_RUN_AS_NODE: '1' });
  });

  it('chooses the permission flag the running Node has', () => {
    expect(permissionFlag(new Set(['--permission', '--experimental-permission']))).toBe('--permission');
    expect(permissionFlag(new Set(['--experimental-permission']))).toBe('--experimental-permission');
    expect(permissionFlag(new Set())).toBeUndefined();
    expect(permissionFlag(process.allowedNodeEnvironmentFlags)).toBeDefined();
  });

  it('a recipe that outgrows its memory is stopped with a clear message', async () => {
    const r = await run("module.exports = () => { const a = []; for (;;) a.push(new Array(1e6).fill(1)); };\n", 60_000);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/ran out of memory/);
  }, 90_000);

  it('leaves no file behind in the recipe folder', () => {
    expect(readdirSync(dir).every((n) => n.endsWith('.js'))).toBe(true);
  });
});
