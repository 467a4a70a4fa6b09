/** `tessera emulator` as a user runs it (the built CLI). */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = path.join(__dirname, '..', '..', 'bin', 'tessera.cjs');

function runEmulator(args: string[]): Promise<{ url: string; exited: Promise<{ code: number | null; stderr: string }>; kill: (sig: NodeJS.Signals) => void }> {
  const child = spawn(process.execPath, [BIN, 'emulator', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "listening on" line within 15 s; stderr: ${stderr}`));
    }, 15_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)\n/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1] as string, exited, kill: (sig) => child.kill(sig) });
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening: ${stderr}`));
    });
  });
}

describe('tessera emulator', () => {
  it('prints its URL once ready, takes every option as a flag, and stops on SIGTERM with exit 0', async () => {
    const emu = await runEmulator(['--port', '0', '--time-scale', '5', '--drive-quota-bytes', '1GB', '--slots', '3', '--deny-consent', '--timeout-pixels', '1e6', '--http5xx-rate', '0.1']);
    const config = (await (await fetch(`${emu.url}/__emulator/config`)).json()) as Record<string, unknown>;
    expect(config).toMatchObject({ timeScale: 5, driveQuotaBytes: 1e9, slots: 3, denyConsent: true, timeoutPixels: 1e6, http5xxRate: 0.1, port: 0 });
    emu.kill('SIGTERM');
    expect((await emu.exited).code).toBe(0);
  });

  it('stops on SIGINT too', async () => {
    const emu = await runEmulator([]);
    expect((await fetch(`${emu.url}/__emulator/state`)).status).toBe(200);
    emu.kill('SIGINT');
    expect((await emu.exited).code).toBe(0);
  });

  it('refuses bad values and unknown flags with one line and exit 1', () => {
    for (const args of [['--slots', '-1'], ['--time-scale', 'fast'], ['--bogus'], ['--split-bytes', '2XB']]) {
      const r = spawnSync(process.execPath, [BIN, 'emulator', ...args], { encoding: 'utf8', timeout: 15_000 });
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')[0]).toMatch(/^(tessera: |error: )/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('refuses a port in use', async () => {
    const emu = await runEmulator([]);
    try {
      const port = new URL(emu.url).port;
      const r = spawnSync(process.execPath, [BIN, 'emulator', '--port', port], { encoding: 'utf8', timeout: 15_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      emu.kill('SIGTERM');
      await emu.exited;
    }
  });
});
