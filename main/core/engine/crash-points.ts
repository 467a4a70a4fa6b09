/**
 * Named moments where a crash is most dangerous (work done, not yet journaled). The engine only calls
 * `crashPoint`; what happens there is decided by its caller: the CLI installs a hook from the test-only
 * `TESSERA_CRASH_AT=<point>:<n>` (main/cli/crash-hook.ts) that SIGKILLs the process the n-th time it
 * passes that point, so every such window is proven safe on every run. Without a hook this is a no-op.
 */
export type CrashPoint =
  | 'before-export' | 'after-export' | 'mid-download' | 'after-rename' | 'after-cleanup'
  // Asset merges (merge.ts): the merged asset verified, no tile asset deleted yet; a tile asset deleted,
  // its deletion not yet journaled.
  | 'after-merge' | 'mid-cleanup';

export type CrashHook = (point: CrashPoint) => void;

let hook: CrashHook | undefined;

/** Installs (or, with undefined, removes) what runs at every crash point; returns the previous hook. */
export function setCrashHook(next: CrashHook | undefined): CrashHook | undefined {
  const previous = hook;
  hook = next;
  return previous;
}

export function crashPoint(point: CrashPoint): void {
  hook?.(point);
}
