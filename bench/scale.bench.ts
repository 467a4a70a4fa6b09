/**
 * scale-50k-rss, scale-50k-resume (+ scale-50k-journal, scale-50k-cpu-per-cycle): a synthetic job of
 * 50,000 tiles (250 × 200 tiles of 8 × 8 px: tiny outputs) run by the real `tessera run` process against
 * `tessera emulator` (time scale 1000, 2 slots, maxInFlight 4). Pushing all 50,000 tiles through the EE
 * client's one request per 350 ms would take hours, so the run is SIGKILLed after a while and resumed:
 *
 * - engine RSS: the run's peak (VmHWM from /proc), from planning the 50,000 tiles on;
 * - CPU per poll cycle: the process's CPU time over a steady window / the `POST /batch` requests the
 *   emulator counted in it (one per poll cycle), against the same figure for a 1,000-tile job run at the
 *   same time (so work that grows with the number of tiles shows up as a ratio);
 * - journal size on disk (journal + snapshot) at the kill;
 * - resume: a new `tessera run` after the SIGKILL, until it prints its first progress line (the end of
 *   its first cycle: journal loaded, lock taken over, signed in, operations polled); and `tessera status
 *   --json` on the killed job.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rectangleJob, type TestJob } from '../test/helpers/job';
import { BIN, spawnEmulator, type EmulatorProcess } from './lib/emulator';
import { report, reportVersus } from './result';

const COLS = 250;
const ROWS = 200;
/** The job beside it: large enough not to finish within RUN_SECONDS (a 100-tile one now does in ~10 s). */
const SMALL = [40, 25] as const;
const TILE_PIXELS = 8;
const TIME_SCALE = 1000;
const RUN_SECONDS = Number(process.env.BENCH_SCALE_RUN_SECONDS ?? 40);
/** The steady window starts this long after launch (planning and the first submits are behind). */
const WARMUP_SECONDS = 10;
const TICK = 100; // clock ticks per second (getconf CLK_TCK on Linux)

interface ProcSample {
  cpuMs: number;
  rssKb: number;
  hwmKb: number;
}

function sample(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / TICK; // utime, stime
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { cpuMs, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

function startRun(job: TestJob, url: string): { child: ChildProcess; firstLine: Promise<number>; t0: number } {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, 'run', job.file, '--emulator', url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const firstLine = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (new RegExp(`^${job.name}: \\d+/\\d+ done`, 'm').test(out)) resolve(performance.now() - t0);
    });
    child.once('exit', (code, signal) => reject(new Error(`tessera run exited (${code ?? signal}) before its first progress line: ${err.trim().slice(0, 500)}`)));
  });
  firstLine.catch(() => undefined);
  return { child, firstLine, t0 };
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function dirBytes(dir: string): { total: number; parts: Record<string, number> } {
  const parts: Record<string, number> = {};
  let total = 0;
  for (const name of readdirSync(dir)) {
    const size = statSync(join(dir, name)).size;
    parts[name] = size;
    total += size;
  }
  return { total, parts };
}

async function batches(emu: EmulatorProcess): Promise<number> {
  return (await emu.state()).requests['POST /batch'] ?? 0;
}

function tilesDone(job: TestJob): Record<string, number> {
  const r = spawnSync(process.execPath, [BIN, 'status', job.file, '--json'], { encoding: 'utf8' });
  return (JSON.parse(r.stdout) as { tiles: Record<string, number> }).tiles;
}

async function main(): Promise<void> {
  const flags = ['--time-scale', String(TIME_SCALE), '--slots', '2'];
  const [emuBig, emuSmall] = await Promise.all([spawnEmulator(flags), spawnEmulator(flags)]);
  const big = rectangleJob('bench-scale', COLS, ROWS, {}, TILE_PIXELS);
  const small = rectangleJob('bench-small', SMALL[0], SMALL[1], {}, TILE_PIXELS);
  const tiles = COLS * ROWS;
  process.stderr.write(
    `scale: ${tiles} tiles of ${TILE_PIXELS}×${TILE_PIXELS} px (maxInFlight 4, downloads 3) by \`tessera run\` on an emulator process at time scale ${TIME_SCALE}, ` +
      `2 slots; SIGKILLed after ${RUN_SECONDS} s and resumed; CPU per poll cycle over ${WARMUP_SECONDS}–${RUN_SECONDS} s, against a ${SMALL[0] * SMALL[1]}-tile job run beside it\n`,
  );
  const running: ChildProcess[] = [];
  try {
    // ---- the first run, killed -------------------------------------------------------------------------
    const runBig = startRun(big, emuBig.url);
    const runSmall = startRun(small, emuSmall.url);
    running.push(runBig.child, runSmall.child);
    let hwmKb = 0;
    const watch = setInterval(() => {
      const s = sample(runBig.child.pid!);
      if (s) hwmKb = Math.max(hwmKb, s.hwmKb);
    }, 200);
    let hwmAtFirstLineKb = 0;
    void runBig.firstLine.then(() => (hwmAtFirstLineKb = sample(runBig.child.pid!)?.hwmKb ?? 0), () => undefined);
    await sleep(WARMUP_SECONDS * 1000);
    const [b0, s0] = [sample(runBig.child.pid!), sample(runSmall.child.pid!)];
    const [bb0, sb0] = await Promise.all([batches(emuBig), batches(emuSmall)]);
    await sleep((RUN_SECONDS - WARMUP_SECONDS) * 1000);
    const [b1, s1] = [sample(runBig.child.pid!), sample(runSmall.child.pid!)];
    const [bb1, sb1] = await Promise.all([batches(emuBig), batches(emuSmall)]);
    clearInterval(watch);
    if (!b0 || !b1 || !s0 || !s1) throw new Error('a tessera run process ended early');
    hwmKb = Math.max(hwmKb, b1.hwmKb);
    await Promise.all([kill(runBig.child), kill(runSmall.child)]);
    const firstRunFirstLine = await runBig.firstLine;

    const cpuBig = (b1.cpuMs - b0.cpuMs) / Math.max(1, bb1 - bb0);
    const cpuSmall = (s1.cpuMs - s0.cpuMs) / Math.max(1, sb1 - sb0);
    const journal = dirBytes(big.stateDir);
    const before = tilesDone(big);
    const statusT0 = performance.now();
    tilesDone(big);
    const statusMs = performance.now() - statusT0;

    // ---- the resume --------------------------------------------------------------------------------------
    const resumed = startRun(big, emuBig.url);
    running.push(resumed.child);
    const resumeMs = await resumed.firstLine;
    let resumedHwm = 0;
    for (let k = 0; k < 10; k++) {
      resumedHwm = Math.max(resumedHwm, sample(resumed.child.pid!)?.hwmKb ?? 0);
      await sleep(300);
    }
    await kill(resumed.child);
    const peakMb = Math.max(hwmKb, resumedHwm) / 1024;

    const done = before.done ?? 0;
    process.stderr.write(
      `  first run: first progress line after ${(firstRunFirstLine / 1000).toFixed(2)} s (planning ${tiles} tiles included); killed at ${RUN_SECONDS} s with ` +
        `${done} tiles done (${JSON.stringify(Object.fromEntries(Object.entries(before).filter(([, n]) => n > 0)))}); peak RSS ${(hwmKb / 1024).toFixed(0)} MB ` +
        `(${(hwmAtFirstLineKb / 1024).toFixed(0)} MB by the end of the first cycle)\n` +
        `  CPU per poll cycle: ${cpuBig.toFixed(1)} ms at ${tiles} tiles (${bb1 - bb0} cycles) vs ${cpuSmall.toFixed(1)} ms at ${SMALL[0] * SMALL[1]} tiles (${sb1 - sb0} cycles)\n` +
        `  journal on disk: ${(journal.total / 2 ** 20).toFixed(1)} MB ${JSON.stringify(journal.parts)}\n` +
        `  resume: first progress line after ${(resumeMs / 1000).toFixed(2)} s; tessera status --json ${statusMs.toFixed(0)} ms; resumed peak RSS ${(resumedHwm / 1024).toFixed(0)} MB\n`,
    );

    report({
      name: 'scale-50k-rss',
      value: Math.round(peakMb),
      unit: 'MB',
      baseline: null,
      ratio: null,
      target: '< 300 MB peak RSS of `tessera run` on a 50,000-tile job',
      pass: peakMb < 300,
      notes:
        `VmHWM of the first run (planning included; ${(hwmAtFirstLineKb / 1024).toFixed(0)} MB already by the end of its first cycle; ${done} tiles done when killed) ` +
        `and of the resumed run: ${(hwmKb / 1024).toFixed(0)} MB / ${(resumedHwm / 1024).toFixed(0)} MB`,
    });
    report({
      name: 'scale-50k-resume',
      value: Number((resumeMs / 1000).toFixed(2)),
      unit: 's',
      baseline: null,
      ratio: null,
      target: '< 5 s from a restart after SIGKILL to the first cycle',
      pass: resumeMs < 5000,
      notes: `\`tessera run\` until its first progress line (process start, journal replay, stale lock, sign-in, first poll); \`tessera status --json\` on the same job ${statusMs.toFixed(0)} ms`,
    });
    report({
      name: 'scale-50k-journal',
      value: Number((journal.total / 2 ** 20).toFixed(1)),
      unit: 'MB',
      baseline: null,
      ratio: null,
      target: 'informational (no target in issue 7)',
      pass: true,
      notes: `.tessera/${big.name}/ at the kill, ${done} of ${tiles} tiles done: ${Object.entries(journal.parts).map(([k, v]) => `${k} ${(v / 2 ** 20).toFixed(2)} MB`).join(', ')}`,
    });
    reportVersus(cpuBig, cpuSmall, 1, {
      name: 'scale-50k-cpu-per-cycle',
      unit: 'ms',
      target: 'no per-cycle work that grows with the number of tiles (ratio to the 1,000-tile job ≈ 1)',
      pass: cpuBig / cpuSmall < 2,
      notes: `CPU time of the \`tessera run\` process per POST /batch (one per poll cycle) over ${WARMUP_SECONDS}–${RUN_SECONDS} s: ${bb1 - bb0} cycles at ${tiles} tiles, ${sb1 - sb0} at ${SMALL[0] * SMALL[1]} tiles`,
    });
  } finally {
    await Promise.all(running.map(kill));
    await Promise.all([emuBig.stop(), emuSmall.stop()]);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`scale bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
