/**
 * direct-vs-export: the same 300-tile job (20 × 15 tiles of 256 × 256 px, the built-in two-band Float32
 * image) both ways, side by side in one run, each `tessera run` on its own `tessera emulator` process with
 * the emulator's default timings (docs/direct-download.md).
 *
 * - export: batch exports (2 slots, 120 s + 65,536 px / 20,000 px/s = 123.3 s a task). At real speed the
 *   job would take hours, so that emulator runs at --time-scale 60 and the figure is read from EE's own
 *   clock: simulated seconds from the first operation's createTime to the last one's endTime. The final
 *   downloads are left out, which flatters export; the client's real-time request throttle (350 ms a
 *   request) counts 60-fold in EE's clock, which does not (at 60 it stays below the task time; at 600 it
 *   would dominate).
 * - direct: computePixels at the default 2,000,000 px/s (real time; not scaled), concurrency 8, time
 *   scale 1: the figure is the wall time of `tessera run`, sign-in included.
 *
 * Figure: export makespan / direct makespan (×); notes carry both makespans and requests per tile.
 */
import { spawn } from 'node:child_process';
import { rectangleJob } from '../test/helpers/job';
import { apiUse, spawnEmulator, BIN } from './lib/emulator';
import { report } from './result';

const COLS = 20;
const ROWS = 15;
const TILE_PIXELS = 256;
const EXPORT_TIME_SCALE = 60;

function run(jobFile: string, url: string): Promise<{ code: number | null; ms: number; stderr: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'run', jobFile, '--emulator', url], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ms: performance.now() - t0, stderr }));
  });
}

async function main(): Promise<void> {
  const [emuExport, emuDirect] = await Promise.all([spawnEmulator(['--time-scale', String(EXPORT_TIME_SCALE)]), spawnEmulator([])]);
  try {
    const tiles = COLS * ROWS;
    const exportJob = rectangleJob('bench-export', COLS, ROWS, { maxInFlight: 4 }, TILE_PIXELS);
    const directJob = rectangleJob('bench-direct', COLS, ROWS, { mode: 'direct', direct: { concurrency: 8 }, maxInFlight: 8 }, TILE_PIXELS);
    process.stderr.write(`direct-vs-export: ${tiles} tiles of ${TILE_PIXELS}×${TILE_PIXELS} px, both at once; export on an emulator at time scale ${EXPORT_TIME_SCALE} (makespan read from EE's clock), direct at time scale 1\n`);
    const [ex, di] = await Promise.all([run(exportJob.file, emuExport.url), run(directJob.file, emuDirect.url)]);
    if (ex.code !== 0 || di.code !== 0) throw new Error(`runs ended with ${ex.code} / ${di.code}: ${ex.stderr}${di.stderr}`);
    const [se, sd] = await Promise.all([emuExport.state(), emuDirect.state()]);
    const ops = se.operations.filter((o) => o.description?.startsWith('bench-export_') && o.state === 'SUCCEEDED');
    const exportMs = Math.max(...ops.map((o) => Date.parse(o.endTime!))) - Math.min(...ops.map((o) => Date.parse(o.createTime)));
    const ue = apiUse(se.requests);
    const ud = apiUse(sd.requests);
    const ratio = exportMs / di.ms;
    report({
      name: 'direct-vs-export',
      value: Math.round(ratio * 10) / 10,
      unit: '×',
      baseline: null,
      ratio: null,
      target: '≥ 10× faster for small tiles',
      pass: ratio >= 10,
      notes: `export ${(exportMs / 1000).toFixed(0)} s (EE's clock, downloads excluded), ${(ue.calls / tiles).toFixed(2)} API calls per tile; ` +
        `direct ${(di.ms / 1000).toFixed(1)} s wall, ${(ud.calls / tiles).toFixed(2)} API calls per tile (${sd.requests['POST /v1/projects/{project}/image:computePixels'] ?? 0} computePixels, ${ud.driveCalls + ud.driveMedia} Drive)`,
    });
  } finally {
    await Promise.all([emuExport.stop(), emuDirect.stop()]);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
