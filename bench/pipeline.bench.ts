/**
 * The whole pipeline on the emulator, against its physical limit and against the notebook loop:
 * slot-utilisation, vs-seed-loop, requests-per-tile, ee-requests-per-cycle, drive-requests-per-tile.
 *
 * A 100-tile job (10 × 10 tiles of 256 × 256 px, the built-in two-band Float32 image, ~0.5 MB per output)
 * with maxInFlight 4 on an emulator with 2 slots at time scale 60: a task runs 120 s + 65,536 px / 20,000
 * px/s = 123.3 simulated s = 2.05 s real, far above the EE client's one request per 350 ms. Tessera's
 * engine runs in this process exactly as `tessera run` wires it (bench/lib/engine.ts); the notebook loop
 * (bench/baselines/seed-loop.ts, maxTasks 4) runs at the same time in a child process against a second,
 * identical emulator. Each emulator is its own `tessera emulator` process; API calls are read from its
 * `/__emulator/state` requests.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { EmulatorState } from '../main/emulator';
import { rectangleJob } from '../test/helpers/job';
import { runEngine, type EngineRun } from './lib/engine';
import { apiUse, spawnEmulator, REPO } from './lib/emulator';
import { report, reportVersus } from './result';

/** The job both sides run: a grid of tiles, at most `maxInFlight` exports at once. */
const JOB = { cols: 10, rows: 10, tilePixels: 256, maxInFlight: 4 } as const;
/** Each side's emulator: a task takes 120 s + pixels / 20,000 simulated seconds, `slots` at once. */
const EMULATOR = { timeScale: 60, slots: 2 } as const;

function seedLoopChild(jobFile: string, url: string): Promise<{ makespanMs: number; files: number; checks: number; sleeps: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'baselines', 'seed-loop.ts'), jobFile, url, String(JOB.maxInFlight)], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`seed loop exited with ${code}`))));
  });
}

/** Real milliseconds (performance.now() clock) of a simulated RFC 3339 time, from the state's clock. */
function realOf(state: EmulatorState, sim: string): number {
  const simNow = Date.parse(state.clock.simulated);
  const realNow = Date.parse(state.clock.real);
  return realNow - (simNow - Date.parse(sim)) / state.clock.timeScale - performance.timeOrigin;
}

function taskSeconds(state: EmulatorState, job: string): { sum: number; firstStart: number; lastEnd: number; count: number } {
  const ops = state.operations.filter((o) => o.description?.startsWith(`${job}_`) && o.state === 'SUCCEEDED');
  let sum = 0;
  for (const o of ops) sum += (Date.parse(o.endTime!) - Date.parse(o.startTime!)) / 1000 / state.clock.timeScale;
  const firstStart = Math.min(...ops.map((o) => realOf(state, o.startTime!)));
  const lastEnd = Math.max(...ops.map((o) => realOf(state, o.endTime!)));
  return { sum, firstStart, lastEnd, count: ops.length };
}

/** The last tile to be verified, and how long its download (downloading → verified) took. */
function lastDownload(run: EngineRun): { tile: string; ms: number; verifiedAt: number } {
  const started = new Map<string, number>();
  let last = { tile: '', ms: 0, verifiedAt: -Infinity };
  for (const { at, e } of run.events) {
    if (e.type !== 'tile-state') continue;
    if (e.state === 'downloading') started.set(e.tile, at);
    if (e.state === 'verified' && at > last.verifiedAt) last = { tile: e.tile, ms: at - (started.get(e.tile) ?? at), verifiedAt: at };
  }
  return last;
}

async function main(): Promise<void> {
  const flags = ['--time-scale', String(EMULATOR.timeScale), '--slots', String(EMULATOR.slots)];
  const [emuOurs, emuSeed] = await Promise.all([spawnEmulator(flags), spawnEmulator(flags)]);
  try {
    const extra = { maxInFlight: JOB.maxInFlight };
    const ours = rectangleJob('bench-tessera', JOB.cols, JOB.rows, extra, JOB.tilePixels);
    const seed = rectangleJob('bench-seed', JOB.cols, JOB.rows, extra, JOB.tilePixels);
    const tiles = JOB.cols * JOB.rows;
    const taskReal = (120 + (JOB.tilePixels * JOB.tilePixels) / 20_000) / EMULATOR.timeScale;
    process.stderr.write(
      `pipeline: ${tiles} tiles of ${JOB.tilePixels}×${JOB.tilePixels} px, maxInFlight ${JOB.maxInFlight}, downloads 3, poll 5–60 s; emulator ` +
        `slots ${EMULATOR.slots}, time scale ${EMULATOR.timeScale} (a task runs ${taskReal.toFixed(2)} s real); Tessera in-process and the notebook loop ` +
        `(maxTasks ${JOB.maxInFlight}, sleep 60 s) in a child process, at the same time, each on its own emulator process\n`,
    );

    const seedRun = seedLoopChild(seed.file, emuSeed.url);
    const run = await runEngine(ours.file, emuOurs.url, { keepEvents: true });
    const seedResult = await seedRun;
    if (run.outcome.exitCode !== 0) throw new Error(`Tessera's run ended with exit code ${run.outcome.exitCode}`);
    if (seedResult.files !== tiles) throw new Error(`the seed loop downloaded ${seedResult.files} of ${tiles} files`);
    const [sOurs, sSeed] = await Promise.all([emuOurs.state(), emuSeed.state()]);

    // ---- slot-utilisation ----
    const t = taskSeconds(sOurs, ours.name);
    if (t.count !== tiles) throw new Error(`expected ${tiles} succeeded operations, found ${t.count}`);
    const last = lastDownload(run);
    const makespan = run.makespanMs / 1000;
    const lowerBound = t.sum / EMULATOR.slots + last.ms / 1000;
    const utilisation = makespan / lowerBound;
    const startS = (t.firstStart - (run.events[0]?.at ?? 0)) / 1000;
    const tailS = (last.verifiedAt - t.lastEnd) / 1000;
    process.stderr.write(
      `  Tessera: makespan ${makespan.toFixed(2)} s; Σ task time ${t.sum.toFixed(1)} s / ${EMULATOR.slots} slots = ${(t.sum / EMULATOR.slots).toFixed(2)} s, last download ` +
        `${last.ms.toFixed(0)} ms → lower bound ${lowerBound.toFixed(2)} s (${utilisation.toFixed(3)}×); first task started ${startS.toFixed(2)} s in, ` +
        `last output verified ${tailS.toFixed(2)} s after the last task ended\n`,
    );
    report({
      name: 'slot-utilisation',
      value: Number(utilisation.toFixed(3)),
      unit: '× lower bound',
      baseline: null,
      ratio: null,
      target: 'makespan ≤ 1.03 × (Σ task time / slots + the last download)',
      pass: utilisation <= 1.03,
      notes:
        `${tiles} tiles, ${EMULATOR.slots} slots, tasks ${taskReal.toFixed(2)} s real: makespan ${makespan.toFixed(2)} s vs lower bound ${lowerBound.toFixed(2)} s ` +
        `(Σ task ${t.sum.toFixed(1)} s / ${EMULATOR.slots} + last download ${last.ms.toFixed(0)} ms); first task started ${startS.toFixed(2)} s after run() began, ` +
        `last output verified ${tailS.toFixed(2)} s after the last task ended`,
    });

    // ---- vs-seed-loop ----
    const a = apiUse(sOurs.requests);
    const b = apiUse(sSeed.requests);
    const seedMakespan = seedResult.makespanMs / 1000;
    const perTile = (n: number) => n / tiles;
    process.stderr.write(
      `  notebook loop: makespan ${seedMakespan.toFixed(2)} s, ${seedResult.checks} task-list reads, ${seedResult.sleeps} sleeps\n` +
        `  API calls per tile (batch parts counted one by one / HTTP requests): Tessera ${perTile(a.calls).toFixed(2)} / ${perTile(a.http).toFixed(2)}, ` +
        `notebook loop ${perTile(b.calls).toFixed(2)} / ${perTile(b.http).toFixed(2)}\n` +
        `  Tessera requests: ${JSON.stringify(sOurs.requests)}\n  notebook loop requests: ${JSON.stringify(sSeed.requests)}\n`,
    );
    const makespanRatio = makespan / seedMakespan;
    report({
      name: 'vs-seed-loop',
      value: Number(makespan.toFixed(1)),
      unit: 's',
      baseline: Number(seedMakespan.toFixed(1)),
      ratio: Number(makespanRatio.toFixed(3)),
      target: 'makespan ≤ the notebook loop’s (ratio ≤ 1) with fewer API calls per tile',
      pass: makespanRatio <= 1 && a.calls < b.calls,
      notes:
        `${tiles} tiles, same emulator settings, run side by side; API calls per tile — Tessera ${perTile(a.calls).toFixed(2)} ` +
        `(${perTile(a.http).toFixed(2)} HTTP requests, a batch counted once), notebook loop ${perTile(b.calls).toFixed(2)} (${perTile(b.http).toFixed(2)}); ` +
        `the loop also verifies nothing and cannot resume`,
    });

    // ---- requests-per-tile ----
    // Every HTTP request to Google (EE and Drive, a batch counted once) except the media downloads, per tile.
    const httpPerTile = perTile(a.http - a.driveMedia);
    const seedHttpPerTile = perTile(b.http - b.driveMedia);
    const requestsOk = httpPerTile <= seedHttpPerTile && httpPerTile <= 4 && makespanRatio <= 1;
    reportVersus(httpPerTile, seedHttpPerTile, 2, {
      name: 'requests-per-tile',
      unit: 'HTTP requests / tile',
      target: '≤ the notebook loop’s and ≤ 4.0, media excluded, with makespan ≤ the loop’s',
      pass: requestsOk,
      notes:
        `${tiles} tiles; Tessera ${a.http - a.driveMedia} requests (${JSON.stringify(httpBreakdown(sOurs.requests))}), ` +
        `notebook loop ${b.http - b.driveMedia} (${JSON.stringify(httpBreakdown(sSeed.requests))}); makespan ${makespan.toFixed(1)} s vs the loop’s ${seedMakespan.toFixed(1)} s`,
    });

    // ---- ee-requests-per-cycle ----
    // Listings at start-up (adopting operations sent before a crash, foreign operations) are not polls.
    const eeReads = (sOurs.requests['POST /batch'] ?? 0) + run.stats.pollListings;
    const perPoll = eeReads / run.stats.pollCycles;
    report({
      name: 'ee-requests-per-cycle',
      value: Number(perPoll.toFixed(3)),
      unit: 'requests / poll cycle',
      baseline: null,
      ratio: null,
      target: '1 batched request per poll cycle',
      pass: perPoll <= 1 && run.stats.maxCallsPerCycle <= 1,
      notes:
        `${run.stats.cycles} cycles, ${run.stats.pollCycles} of them polled; ${sOurs.requests['POST /batch'] ?? 0} POST /batch (up to ${run.stats.maxBatch} operations each), ` +
        `${run.stats.pollListings} one-page operation listings (${sOurs.requests['GET /v1/projects/{project}/operations'] ?? 0} listings in all, start-up included); exports: ${perTile(sOurs.requests['POST /v1/projects/{project}/image:export'] ?? 0).toFixed(2)} per tile; ` +
        `CPU per cycle ${(run.cpuMicros / 1000 / run.stats.cycles).toFixed(1)} ms (the whole process: EE client, journal, downloads)`,
    });

    // ---- drive-requests-per-tile ----
    const drivePerTile = perTile(a.driveCalls);
    const seedDrivePerTile = perTile(b.driveCalls);
    reportVersus(drivePerTile, seedDrivePerTile, 2, {
      name: 'drive-requests-per-tile',
      unit: 'requests / tile',
      target: '≤ 3 per tile, plus the media downloads',
      pass: drivePerTile <= 3,
      notes:
        `Drive requests other than media: Tessera ${a.driveCalls} (${JSON.stringify(pick(sOurs.requests, '/drive/'))}), notebook loop ${b.driveCalls}; ` +
        `media GETs per tile: Tessera ${perTile(a.driveMedia).toFixed(2)}, notebook loop ${perTile(b.driveMedia).toFixed(2)}`,
    });
  } finally {
    await Promise.all([emuOurs.stop(), emuSeed.stop()]);
  }
}

/** HTTP requests by route, short names, media and batch parts left out (what `requests-per-tile` counts). */
function httpBreakdown(requests: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [route, n] of Object.entries(requests)) {
    if (route === 'GET /drive/v3/files/{fileId}') continue; // media
    if (route === 'GET /v1/projects/{project}/operations/{operation}' || route === 'POST /v1/projects/{project}/operations/{operation}:cancel') continue; // batch parts
    if (!route.includes(' /v1/') && !route.includes(' /batch') && !route.includes('/drive/')) continue;
    out[route.replace('/v1/projects/{project}', '')] = n;
  }
  return out;
}

function pick(requests: Record<string, number>, part: string): Record<string, number> {
  return Object.fromEntries(Object.entries(requests).filter(([k]) => k.includes(part) && k !== 'GET /drive/v3/files/{fileId}'));
}

main().catch((e: unknown) => {
  process.stderr.write(`pipeline bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
