/**
 * scale-1m-run-rss's measurement: the bundled `tessera run` (bin/tessera.cjs → out/cli) on a job against
 * an emulator process, sampled from /proc while it plans and works, and SIGKILLed once `target` units
 * are done or `limitMs` have passed since its first progress line (a graceful stop would wait for the
 * downloads under way; the journal is whole at every step). Its peak RSS is the process's VmHWM read just
 * before the kill (the kernel's own high-water mark, so no peak between two samples is missed).
 */
import { spawn } from 'node:child_process';
import { cliNodeFlags } from './cli-node-flags';
import { readFileSync } from 'node:fs';
import { BIN } from './emulator';

export interface RealRunFigure {
  /** VmHWM of `tessera run`, MB. */
  peakMb: number;
  /** VmHWM at its first progress line (planning and the first cycle behind), MB. */
  firstLineMb: number;
  /** Seconds from launch to the first progress line. */
  firstLineSeconds: number;
  /** Units done at its last progress line, and the seconds from its first progress line to the kill. */
  done: number;
  total: number;
  workSeconds: number;
}

const hwmKb = (pid: number): number => {
  try {
    return Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
};

export function runUntil(jobFile: string, jobName: string, emulatorUrl: string, target: number, limitMs: number): Promise<RealRunFigure> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...cliNodeFlags(), BIN, 'run', jobFile, '--emulator', emulatorUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
  const progress = new RegExp(`^${jobName}: (\\d+)/(\\d+) done`, 'gm');
  let out = '';
  let err = '';
  let done = 0;
  let total = 0;
  let peakKb = 0;
  let firstLineAt: number | undefined;
  let firstLineKb = 0;
  let stoppedAt: number | undefined;
  const stop = () => {
    if (stoppedAt !== undefined) return;
    stoppedAt = performance.now();
    peakKb = Math.max(peakKb, hwmKb(child.pid!));
    child.kill('SIGKILL');
  };
  // The plain display prints a progress line every 10 s; the status is read from those lines.
  const poll = setInterval(() => {
    peakKb = Math.max(peakKb, hwmKb(child.pid!));
    if (firstLineAt !== undefined && (done >= target || performance.now() - firstLineAt >= limitMs)) stop();
  }, 250);
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const m of out.matchAll(progress)) {
      done = Number(m[1]);
      total = Number(m[2]);
      if (firstLineAt === undefined) {
        firstLineAt = performance.now();
        firstLineKb = hwmKb(child.pid!);
      }
    }
    out = out.slice(out.lastIndexOf('\n') + 1);
  });
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => {
      clearInterval(poll);
      if (stoppedAt === undefined || firstLineAt === undefined) return reject(new Error(`tessera run ended by itself (${code ?? signal}): ${err.trim()}`));
      const workSeconds = (stoppedAt - firstLineAt) / 1000;
      resolve({ peakMb: peakKb / 1024, firstLineMb: firstLineKb / 1024, firstLineSeconds: (firstLineAt - t0) / 1000, done, total, workSeconds });
    });
  });
}
