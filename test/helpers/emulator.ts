import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { startEmulator, type EmulatorHandle, type EmulatorOptions, type EmulatorState } from '../../main/emulator';
import { tesseraAsync, type CliRun } from './cli';
import { useStarted } from './hooks';

export type RunResult = CliRun;

/** One emulator for the tests of a file (or of a `describe`): started before them, stopped after them. */
export function useEmulator(options: EmulatorOptions): EmulatorHandle {
  return useStarted('the emulator', () => startEmulator(options), (emu) => emu.stop());
}

/** Runs `tessera run` in its own process (so it can be killed like a real one), bounded in time. */
export function runJob(jobFile: string, emulatorUrl: string, env: Record<string, string> = {}, timeoutMs = 120_000, killAfterMs?: number): Promise<RunResult> {
  return tesseraAsync(['run', jobFile, '--emulator', emulatorUrl], { env, cwd: process.cwd(), timeoutMs, killAfterMs });
}

/** Runs `tessera run` (as `runJob`) and expects a quiet success: exit 0, nothing on stderr. */
export async function runJobQuietly(jobFile: string, emulatorUrl: string, env: Record<string, string> = {}): Promise<RunResult> {
  const r = await runJob(jobFile, emulatorUrl, env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r;
}

/** The files the job's exports produced in the emulator's Drive (by operation, not by name), and what is left. */
export function jobFiles(state: EmulatorState, job: string) {
  const ids = new Set(state.operations.filter((o) => o.description?.startsWith(`${job}_`)).flatMap((o) => o.outputs));
  const all = state.files.filter((f) => ids.has(f.id));
  return { all, remaining: all.filter((f) => f.deletedAt === null) };
}

export function md5File(path: string): string {
  return createHash('md5').update(readFileSync(path)).digest('hex');
}

/** Every check a user would make after a run: one export per tile, outputs verified, Drive clean. */
export function checkFinishedJob(state: EmulatorState, job: string, output: string, tiles: number): void {
  const ops = state.operations.filter((o) => o.description?.startsWith(`${job}_`));
  const succeeded = ops.filter((o) => o.state === 'SUCCEEDED');
  const perTile = new Map<string, number>();
  for (const o of succeeded) {
    const tile = o.description!.replace(/^[^_]+_/, '').replace(/_a\d+$/, '');
    perTile.set(tile, (perTile.get(tile) ?? 0) + 1);
  }
  if (perTile.size !== tiles) throw new Error(`expected ${tiles} tiles with a SUCCEEDED operation, found ${perTile.size}`);
  const dup = [...perTile].filter(([, n]) => n !== 1);
  if (dup.length) throw new Error(`tiles exported more than once: ${dup.map(([t, n]) => `${t}×${n}`).join(', ')}`);
  const files = jobFiles(state, job);
  if (files.remaining.length) throw new Error(`Drive still holds ${files.remaining.length} of the job's files`);
  if (files.all.length !== tiles) throw new Error(`expected ${tiles} output files in Drive's history, found ${files.all.length}`);
  for (const f of files.all) {
    const local = join(output, f.name);
    if (!existsSync(local)) throw new Error(`${f.name} was deleted from Drive without a local copy`);
    if (md5File(local) !== f.md5Checksum) throw new Error(`${f.name}: local copy differs from what Drive held`);
  }
  const leftovers = readdirSync(output).filter((n) => n.endsWith('.part'));
  if (leftovers.length) throw new Error(`.part files left: ${leftovers.join(', ')}`);
}
