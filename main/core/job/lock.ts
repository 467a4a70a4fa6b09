import { open, readFile, unlink, mkdir } from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '../../common/process';
import { UserError } from '../errors';

/** What the lock file says about its holder. */
export interface LockInfo {
  pid: number;
  host: string;
  /** The holder's process start (Linux: /proc/<pid>/stat field 22), so a reused pid is not taken for it. */
  processStart: string | null;
  startedAt: string;
  command: string;
}

export interface JobLock {
  readonly path: string;
  release(): Promise<void>;
}

/**
 * Takes the job's exclusive lock (`<stateDir>/lock`) so `run`, `serve` and the desktop app never drive
 * one job twice. A lock left by a dead process on this host is stale and taken over; a live holder, or
 * one on another host that cannot be checked, makes this fail with exit code 3 naming the holder.
 */
export async function acquireJobLock(stateDir: string, command: string): Promise<JobLock> {
  await mkdir(stateDir, { recursive: true });
  const path = join(stateDir, 'lock');
  const mine: LockInfo = { pid: process.pid, host: hostname(), processStart: processStart(process.pid), startedAt: new Date().toISOString(), command };
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      try {
        await fh.writeFile(JSON.stringify(mine) + '\n');
        await fh.sync();
      } finally {
        await fh.close();
      }
      const onExit = () => {
        try {
          if (readFileSync(path, 'utf8').includes(`"pid":${process.pid},`)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
      process.once('exit', onExit);
      return {
        path,
        release: async () => {
          process.removeListener('exit', onExit);
          onExit();
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = await readLock(path);
    if (holder && isHeld(holder)) {
      throw new UserError(
        `the job is locked by ${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}); ` +
          `stop that process first${holder.host === hostname() ? '' : `, or delete ${path} if it is no longer running`}`,
        3,
      );
    }
    await unlink(path).catch(() => undefined); // stale or unreadable: take it over
  }
  throw new UserError(`could not take the job lock ${path}: another process keeps taking it`, 3);
}

export async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(path, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' && typeof info.host === 'string' ? info : undefined;
  } catch {
    return undefined;
  }
}

function isHeld(holder: LockInfo): boolean {
  if (holder.host !== hostname()) return true; // cannot check another machine: assume it runs
  if (holder.pid === process.pid) return true;
  if (!pidAlive(holder.pid)) return false;
  const start = processStart(holder.pid);
  return holder.processStart === null || start === null || start === holder.processStart;
}

function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after its closing parenthesis are plain.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 overall
  } catch {
    return null;
  }
}
