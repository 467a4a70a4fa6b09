// Finds an Electron binary WITHOUT downloading one (`require('electron')` downloads it when missing, and
// this machine may have no internet): ELECTRON_OVERRIDE_DIST_PATH, node_modules/electron/dist, or a zip in
// @electron/get's cache (extracted by electron's own install.js, which uses the cache offline).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';

const EXE = { linux: 'electron', win32: 'electron.exe', darwin: 'Electron.app/Contents/MacOS/Electron' };

export function electronBinary(root) {
  const pkgDir = join(root, 'node_modules', 'electron');
  if (!existsSync(join(pkgDir, 'package.json'))) return { path: null, why: 'the electron package is not installed (npm install)' };
  const pathTxt = join(pkgDir, 'path.txt');
  const exe = existsSync(pathTxt) ? readFileSync(pathTxt, 'utf8').trim() : EXE[process.platform] ?? 'electron';
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const p = join(process.env.ELECTRON_OVERRIDE_DIST_PATH, exe);
    return existsSync(p) ? { path: p } : { path: null, why: `ELECTRON_OVERRIDE_DIST_PATH has no ${exe}` };
  }
  const dist = join(pkgDir, 'dist', exe);
  if (existsSync(dist)) return { path: dist };
  const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
  const zip = `electron-v${version}-${process.platform}-${process.arch}.zip`;
  const caches = [
    process.env.ELECTRON_CACHE,
    process.platform === 'darwin' ? join(homedir(), 'Library', 'Caches', 'electron') : null,
    process.platform === 'win32' && process.env.LOCALAPPDATA ? join(process.env.LOCALAPPDATA, 'electron', 'Cache') : null,
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'electron'),
  ].filter(Boolean);
  const cached = caches.some((dir) => existsSync(join(dir, zip)) || (existsSync(dir) && readdirSync(dir).some((d) => existsSync(join(dir, d, zip)))));
  if (cached) {
    const r = spawnSync(process.execPath, [join(pkgDir, 'install.js')], { stdio: 'inherit', env: { ...process.env, ELECTRON_GET_USE_PROXY: '' } });
    if (r.status === 0 && existsSync(join(pkgDir, 'dist', exe))) return { path: join(pkgDir, 'dist', exe) };
  }
  return { path: null, why: `no Electron ${version} binary here (node_modules/electron/dist, ELECTRON_OVERRIDE_DIST_PATH or a cached ${zip})` };
}
