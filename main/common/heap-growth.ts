import { setFlagsFromString } from 'node:v8';

/** The heap may grow to this much more than what was live after the last full collection (V8: 1 + percent / 100). */
export const HEAP_GROWING_PERCENT = 50;

/**
 * Keeps the heap of a long-running Tessera process within 1.5× of its live data (docs/scale.md, "Memory of a run").
 * On a machine with a few gigabytes of memory V8 lets the heap grow to up to four times what was live after
 * its last full collection before it collects again: a million-unit job holds about 290 MB of live state,
 * and `tessera run` reached 1.04–1.18 GB of RSS, two thirds of its heap garbage. With a factor of 1.5 the
 * same run peaks at 0.74–0.77 GB for a few percent more CPU (one full collection every ~20 s at work).
 * V8 reads the factor at each collection, so setting it at start is enough; a factor given on the command
 * line (`--heap-growing-percent`, NODE_OPTIONS) is left as it is.
 */
export function boundHeapGrowth(): void {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('heap-growing-percent'));
  if (!given) setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
