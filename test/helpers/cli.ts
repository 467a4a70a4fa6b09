import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const REPO = join(__dirname, '..', '..');
export const BIN = join(REPO, 'bin', 'tessera.cjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would, from `cwd` (default: a folder outside the checkout). */
export function tessera(args: string[], cwd = '/tmp', timeoutMs = 60_000): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface CliRun extends CliResult {
  signal: NodeJS.Signals | null;
}

export interface CliOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Working folder; default a folder outside the checkout, as for `tessera()`. */
  cwd?: string;
  /** Killed (SIGKILL) after this long, so a hung command fails its test instead of hanging it. */
  timeoutMs?: number;
  /** Killed (SIGKILL) after this long on purpose: a crash at a random point. */
  killAfterMs?: number;
  /**
   * Answers a prompt: called with the error output so far until it returns an answer, which is typed in
   * as the only line of input.
   */
  answer?: (stderrSoFar: string) => string | Promise<string> | undefined;
}

/**
 * Runs the built CLI in its own process without blocking this one — an emulator started by the test
 * answers from this very process — bounded in time.
 */
export function tesseraAsync(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const { env = {}, cwd = '/tmp', timeoutMs = 60_000, killAfterMs, answer } = options;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env }, stdio: [answer ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let answered = false;
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const typed = answered ? undefined : answer?.(stderr);
      if (typed !== undefined) {
        answered = true;
        void Promise.resolve(typed).then((line) => child.stdin!.end(`${line}\n`));
      }
    });
    const timers = [setTimeout(() => child.kill('SIGKILL'), timeoutMs)];
    if (killAfterMs !== undefined) timers.push(setTimeout(() => child.kill('SIGKILL'), killAfterMs));
    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
