import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = join(__dirname, '..', '..', 'bin', 'tessera.cjs');
const dir = mkdtempSync(join(tmpdir(), 'tessera-heap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs inside the `tessera` process once the CLI started: keeps ~100 MB of objects alive (a large job's
 * state), then makes garbage at a steady pace (a run at work), and reports the largest heap seen against
 * the live data.
 */
const WORKLOAD = `
setImmediate(() => {
  const live = [];
  for (let i = 0; i < 1_000_000; i++) live.push({ id: 'unit-' + i, n: i, at: null });
  // Garbage that lives a while (in flight, being written) is promoted to the old generation before it dies.
  const recent = new Array(400_000).fill(null);
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  for (let k = 0; k < 12_000_000; k++) {
    recent[k % recent.length] = { k, s: 'g' + k };
    if (k % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  process.stderr.write('HEAP ' + JSON.stringify({ base, peak, live: live.length }) + '\\n');
});
`;

describe('the heap of a tessera process (docs/scale.md, "Memory of a run")', () => {
  it('grows to about 1.5× its live data before a full collection, not the 4× V8 allows on a large machine', () => {
    const workload = join(dir, 'workload.cjs');
    writeFileSync(workload, WORKLOAD);
    const r = spawnSync(process.execPath, ['--require', workload, BIN, '--version'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    const line = /HEAP (\{.*\})/.exec(r.stderr)?.[1];
    expect(line, r.stderr).toBeDefined();
    const { base, peak } = JSON.parse(line!) as { base: number; peak: number };
    // `base` (the live objects and what the start left) is measured before any garbage of the loop;
    // the garbage still alive adds to it. Without the bound the heap reached 4.8× it on our machine, with
    // it 1.6–2.1×.
    expect(peak / base).toBeLessThan(3);
  }, 130_000);
});
