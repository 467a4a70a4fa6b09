/**
 * Named moments where a crash is most dangerous (work done, not yet journaled). Tests set
 * `TESSERA_CRASH_AT=<point>:<n>` to SIGKILL the engine the n-th time it passes that point, so every
 * such window is proven safe on every run, not only when a random kill happens to land in it.
 * Without the variable this is a no-op.
 */
export type CrashPoint =
  | 'before-export' | 'after-export' | 'mid-download' | 'after-rename' | 'after-cleanup'
  // Asset merges (merge.ts): the merged asset verified, no tile asset deleted yet; a tile asset deleted,
  // its deletion not yet journaled.
  | 'after-merge' | 'mid-cleanup';

const spec = process.env.TESSERA_CRASH_AT;
const seen = new Map<string, number>();

export function crashPoint(point: CrashPoint): void {
  if (!spec) return;
  const [name, nth] = spec.split(':');
  if (name !== point) return;
  const count = (seen.get(point) ?? 0) + 1;
  seen.set(point, count);
  if (count === Number(nth ?? 1)) process.kill(process.pid, 'SIGKILL');
}
