import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { EmulatorOptions, EmulatorState } from '../../main/emulator';

export const REPO = join(__dirname, '..', '..');
/** The built CLI, as a user runs it (`npm install` builds it; `npm run bench` rebuilds it first). */
export const BIN = join(REPO, 'bin', 'tessera.cjs');

/** `tessera emulator` in its own process, as Google would be: its CPU is not the engine's. */
export interface EmulatorProcess {
  readonly url: string;
  readonly child: ChildProcess;
  state(): Promise<EmulatorState>;
  configure(patch: EmulatorOptions): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `tessera emulator --port 0 …flags` and resolves once it prints `listening on URL`. */
export function spawnEmulator(flags: string[]): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [BIN, 'emulator', '--port', '0', ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      const url = m[1]!;
      resolve({
        url,
        child,
        async state() {
          const r = await fetch(`${url}/__emulator/state`);
          return (await r.json()) as EmulatorState;
        },
        async configure(patch) {
          const r = await fetch(`${url}/__emulator/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });
          if (!r.ok) throw new Error(`emulator config: HTTP ${r.status} ${await r.text()}`);
        },
        stop() {
          return new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(hard);
              done();
            });
            child.kill('SIGTERM');
          });
        },
      });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`tessera emulator exited with ${code} before listening: ${stderr.trim()}`)));
  });
}

/**
 * API use from `/__emulator/state` requests (route templates; OAuth and the emulator's hooks excluded).
 * `calls` counts every Earth Engine and Drive call, a batch's parts one by one (as Google's quotas do);
 * `http` counts HTTP requests, a `POST /batch` once. The JS client sends `getOperation` and
 * `cancelOperation` only inside batches, so those routes are batch parts.
 */
export function apiUse(requests: Record<string, number>): { eeCalls: number; eeHttp: number; batches: number; driveCalls: number; driveMedia: number; calls: number; http: number } {
  let eeCalls = 0;
  let parts = 0;
  let driveCalls = 0;
  let driveMedia = 0;
  const batches = requests['POST /batch'] ?? 0;
  for (const [route, n] of Object.entries(requests)) {
    const path = route.slice(route.indexOf(' ') + 1);
    if (path.startsWith('/v1/')) {
      eeCalls += n;
      if (route === 'GET /v1/projects/{project}/operations/{operation}' || route === 'POST /v1/projects/{project}/operations/{operation}:cancel') parts += n;
    } else if (route === 'GET /drive/v3/files/{fileId}') driveMedia += n; // the engines here only GET files with alt=media
    else if (path.startsWith('/drive/') || path.startsWith('/upload/drive/')) driveCalls += n;
  }
  const eeHttp = eeCalls - parts + batches;
  return { eeCalls, eeHttp, batches, driveCalls, driveMedia, calls: eeCalls + driveCalls + driveMedia, http: eeHttp + driveCalls + driveMedia };
}
