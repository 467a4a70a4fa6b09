import { setCrashHook, type CrashPoint } from '../core/engine/crash-points';

/**
 * The test-only `TESSERA_CRASH_AT=<point>:<n>`: the CLI (never the engine) reads it and installs a crash
 * hook that SIGKILLs this process the n-th time the engine passes `<point>` (docs/ARCHITECTURE.md, "Crash
 * points"). Without the variable nothing is installed.
 */
export function installCrashHookFromEnv(spec: string | undefined = process.env.TESSERA_CRASH_AT, kill: () => void = () => process.kill(process.pid, 'SIGKILL')): void {
  if (!spec) return;
  const [name, nth] = spec.split(':');
  const target = Number(nth ?? 1);
  let seen = 0;
  setCrashHook((point: CrashPoint) => {
    if (point !== name) return;
    seen++;
    if (seen === target) kill();
  });
}
