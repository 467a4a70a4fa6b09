/**
 * scale-1m-plan, scale-1m-rss, scale-1m-resume (+ scale-1m-journal), scale-poll-cpu, scale-1m-run-rss: a job of 1,008,000 units (300 × 280
 * tiles of 8 × 8 px × 12 monthly `periods`), planned by the engine's own `planOnce` into a real
 * `FileJobRepository` (journal + snapshot on disk). Each phase runs in its own process so its peak RSS
 * (VmHWM) is its own, started with the V8 flags `tessera` starts with (bench/lib/cli-node-flags.ts):
 *
 * - plan: `planOnce` (grid, units, the journaled plan entry, fsynced) — the figure is its wall time;
 * - rss: the same process then journals the first 5,000 units through the states a run writes for them
 *   (submitting … done, one output file each), compacting as a run does; the figure is its VmHWM. The
 *   events are appended directly, not produced by the emulator: this isolates the state and journal,
 *   which is what grows with the unit count (the engine at work against the emulator is poll-cpu and run-rss below);
 * - resume: a new process opens the job's state (snapshot + journal replay) and indexes it as the runner
 *   does, up to the first pending unit it would submit;
 * - journal: the `.tessera/<job>/` folder's bytes per unit after the 5,000 units;
 * - poll-cpu: CPU per engine cycle at these 1,008,000 units against 10,080, each job run by the engine's
 *   `JobSession` in its own process against its own emulator process (bench/lib/poll-cycle.ts);
 * - run-rss: the bundled `tessera run` on the 1,008,000 units against a fast emulator, its VmHWM until
 *   5,000 units are done or three minutes have passed (bench/lib/real-run.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rectangleJob } from '../test/helpers/job';
import { loadJobFile } from '../main/core/job/job-file';
import { FileJobRepository } from '../main/core/job/repository';
import { planOnce } from '../main/core/engine/run-start';
import { TileIndex } from '../main/core/engine/tile-index';
import { BIN, spawnEmulator } from './lib/emulator';
import { runUntil } from './lib/real-run';
import { cliNodeFlags } from './lib/cli-node-flags';
import { measurePollCycles, type PollCycleFigure } from './lib/poll-cycle';
import { report } from './result';
import { boundHeapGrowth } from '../main/common/heap-growth';

const COLS = 300;
const ROWS = 280;
const MONTHS = 12;
const FINISHED = Number(process.env.BENCH_1M_FINISHED ?? 5_000);
/** scale-poll-cpu: the small job's tiles (× the same 12 months: 10,080 units). */
const SMALL_COLS = 70;
const SMALL_ROWS = 12;
const POLL_IN_FLIGHT = 8;
/** A task runs (120 s + 10 s dispatch) / 40 = 3.25 s real: longer than sending 8 exports, so 8 stay in flight. */
const POLL_TIME_SCALE = 40;
const FIRST_CYCLE = 'POLL_PHASE_FIRST_CYCLE';
/** scale-1m-run-rss: the job run by `tessera run` (the same 1,008,000 units unless overridden to calibrate). */
const RUN_JOB = 'bench-run-1m';
const RUN_COLS = Number(process.env.BENCH_RUN_COLS ?? COLS);
const RUN_ROWS = Number(process.env.BENCH_RUN_ROWS ?? ROWS);
const RUN_IN_FLIGHT = 64;
const RUN_LIMIT_SECONDS = Number(process.env.BENCH_RUN_SECONDS ?? 180);
const POLL_WARMUP_SECONDS = Number(process.env.BENCH_POLL_WARMUP_SECONDS ?? 10);
const POLL_WINDOW_SECONDS = Number(process.env.BENCH_POLL_WINDOW_SECONDS ?? 60);

function hwmMb(): number {
  const kb = Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  return kb / 1024;
}

async function planPhase(file: string, stateDir: string): Promise<void> {
  const job = await loadJobFile(file);
  const t0 = performance.now();
  const repo = await FileJobRepository.open(stateDir);
  await planOnce(job, repo, () => undefined);
  const planMs = performance.now() - t0;
  const units = Object.keys(repo.state.tiles).length;
  const hwmPlan = hwmMb();
  const index = new TileIndex(repo.state.tiles);
  let n = 0;
  const t1 = performance.now();
  for (const u of index.list('pending')) {
    if (n++ >= FINISHED) break;
    const step = (state: string, extra: Record<string, unknown> = {}) => {
      const from = repo.state.tiles[u.id]!.state;
      const done = repo.append({ type: 'tile', id: u.id, patch: { state, ...extra } as never });
      index.moved(u.id, from, state as never);
      return done;
    };
    await step('submitting', { attempt: 1, requestId: `r${n}`, description: `bench_${u.id}` });
    await step('queued', { operation: `projects/p/operations/OP${n}`, operationCreateTime: new Date().toISOString() });
    await step('running');
    await step('exported', { eecuSeconds: 1.5, folderId: 'folder1' });
    await step('downloading', { files: [{ id: `f${n}`, name: `${u.id}.tif`, size: 1234, md5: 'd41d8cd98f00b204e9800998ecf8427e', verified: false, cleaned: false }] });
    await step('verified', { files: [{ id: `f${n}`, name: `${u.id}.tif`, size: 1234, md5: 'd41d8cd98f00b204e9800998ecf8427e', verified: true, cleaned: false }] });
    await step('done', { files: [{ id: `f${n}`, name: `${u.id}.tif`, size: 1234, md5: 'd41d8cd98f00b204e9800998ecf8427e', verified: true, cleaned: true }] });
  }
  const eventsMs = performance.now() - t1;
  await repo.close();
  process.stdout.write(JSON.stringify({ planMs, units, hwmPlan, hwm: hwmMb(), eventsMs }) + '\n');
}

async function resumePhase(stateDir: string): Promise<void> {
  const t0 = performance.now();
  const repo = await FileJobRepository.open(stateDir);
  const index = new TileIndex(repo.state.tiles);
  const first = index.in('pending').next().value;
  const resumeMs = performance.now() - t0;
  const done = index.count('done');
  await repo.close();
  process.stdout.write(JSON.stringify({ resumeMs, hwm: hwmMb(), done, first: first?.id }) + '\n');
}

function phase(args: string[]): Record<string, number> {
  const r = spawnSync(process.execPath, [...cliNodeFlags(), '--import', 'tsx', process.argv[1]!, ...args], { encoding: 'utf8', maxBuffer: 2 ** 24 });
  if (r.status !== 0) throw new Error(`phase ${args[0]} failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

/** The same as `phase`, without blocking (the two poll phases run side by side); `firstCycle` resolves at the phase's first cycle. */
function phaseAsync<T>(args: string[]): { result: Promise<T>; firstCycle: Promise<void> } {
  const child = spawn(process.execPath, [...cliNodeFlags(), '--import', 'tsx', process.argv[1]!, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let cycled: () => void = () => undefined;
  const firstCycle = new Promise<void>((r) => (cycled = r));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.includes(FIRST_CYCLE)) cycled();
  });
  const result = new Promise<T>((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`phase ${args[0]} failed (${code}): ${err.slice(-2000)}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
    });
  });
  return { result, firstCycle: Promise.race([firstCycle, result.then(() => undefined)]) };
}

/**
 * scale-1m-run-rss: the bundled `tessera run` on the 1,008,000-unit job against an emulator process that
 * makes exports fast (time scale 1000, tasks of 1 s + 1 s dispatch simulated, 64 slots) with tiny outputs,
 * until 5,000 units are done or RUN_LIMIT_SECONDS have passed since its first progress line.
 */
async function runFigure(): Promise<void> {
  const months = { periods: { start: '2021-01-01', end: '2022-01-01', every: 'month' } };
  const job = rectangleJob(RUN_JOB, RUN_COLS, RUN_ROWS, { ...months, maxInFlight: RUN_IN_FLIGHT, downloads: 16 }, 8);
  const emulator = await spawnEmulator(['--time-scale', '1000', '--task-base-seconds', '1', '--dispatch-seconds', '1', '--slots', String(RUN_IN_FLIGHT)]);
  try {
    const r = await runUntil(job.file, job.name, emulator.url, FINISHED, RUN_LIMIT_SECONDS * 1000);
    const status = spawnSync(process.execPath, [BIN, 'status', job.file, '--json'], { encoding: 'utf8', maxBuffer: 2 ** 26 });
    const done = status.status === 0 ? ((JSON.parse(status.stdout) as { tiles: Record<string, number> }).tiles.done ?? r.done) : r.done;
    const reached = done >= FINISHED ? `${FINISHED} units done` : `${done} units done in ${RUN_LIMIT_SECONDS} s (the run was stopped there; ${FINISHED} do not fit in the time this benchmark allows on 2 cores)`;
    process.stderr.write(
      `  tessera run on ${r.total} units: first progress line after ${r.firstLineSeconds.toFixed(1)} s (peak RSS ${r.firstLineMb.toFixed(0)} MB by then); ` +
        `${done} done ${r.workSeconds.toFixed(0)} s later; peak RSS ${r.peakMb.toFixed(0)} MB\n`,
    );
    report({
      name: 'scale-1m-run-rss',
      value: Math.round(r.peakMb),
      unit: 'MB',
      baseline: null,
      ratio: null,
      target: '< 1 GB peak RSS of `tessera run` from planning a 1,000,000-unit job through its first 5,000 finished units',
      pass: r.peakMb < 1024,
      notes:
        `VmHWM of the bundled \`tessera run\` (out/) on ${r.total} units (${RUN_COLS} × ${RUN_ROWS} tiles of 8 × 8 px × 12 months, maxInFlight ${RUN_IN_FLIGHT}, downloads 16) against \`tessera emulator\` ` +
        `(time scale 1000, task base 1 s, dispatch 1 s, ${RUN_IN_FLIGHT} slots): ${r.firstLineMb.toFixed(0)} MB at its first progress line (${r.firstLineSeconds.toFixed(0)} s: planning, first cycle), ` +
        `${r.peakMb.toFixed(0)} MB at the stop; ${reached}`,
    });
  } finally {
    await emulator.stop();
  }
}

/**
 * scale-poll-cpu: the 1,008,000-unit job and a 10,080-unit one (70 × 12 tiles × the same 12 months), each
 * run by `measurePollCycles` in its own process against its own emulator process, side by side (the same
 * machine load for both), with the same maxInFlight, so both cycles carry the same operations in flight.
 */
async function pollFigure(): Promise<void> {
  const months = { periods: { start: '2021-01-01', end: '2022-01-01', every: 'month' } };
  const extra = { ...months, maxInFlight: POLL_IN_FLIGHT, drive: { folder: 'bench-poll' } };
  const big = rectangleJob('bench-poll-1m', COLS, ROWS, extra, 8);
  const small = rectangleJob('bench-poll-10k', SMALL_COLS, SMALL_ROWS, extra, 8);
  const flags = ['--time-scale', String(POLL_TIME_SCALE), '--slots', String(POLL_IN_FLIGHT)];
  const emulators = await Promise.all([spawnEmulator(flags), spawnEmulator(flags)]);
  try {
    // The small job starts once the big one has planned and cycles, so both windows fall in the same minute.
    const bigRun = phaseAsync<PollCycleFigure>(['poll', big.file, emulators[0].url, String(POLL_WARMUP_SECONDS + 5)]);
    await bigRun.firstCycle;
    const smallRun = phaseAsync<PollCycleFigure>(['poll', small.file, emulators[1].url, String(POLL_WARMUP_SECONDS)]);
    const [b, s] = await Promise.all([bigRun.result, smallRun.result]);
    const perCycle = (f: PollCycleFigure) => f.cpuMsPerCycle + f.compactMsPerCycle;
    const ratio = perCycle(b) / perCycle(s);
    const line = (f: PollCycleFigure) =>
      `${f.units} units: ${perCycle(f).toFixed(2)} ms/cycle (${f.cpuMsPerCycle.toFixed(2)} ms measured over ${f.cycles} cycles + ${f.compactMsPerCycle.toFixed(2)} ms of compaction: ` +
      `${f.compactCpuMs.toFixed(0)} ms every ${f.compactEvery} entries, ${(f.entries / f.cycles).toFixed(1)} entries/cycle); GC pauses ${f.gcMsPerCycle.toFixed(2)} ms/cycle, ${f.majorGcs} major GCs; ` +
      `${f.inFlightMean.toFixed(1)} in flight on average, ${f.doneInWindow} done in the window; ` +
      `first cycle after ${f.planSeconds.toFixed(1)} s; peak RSS ${f.hwmMb.toFixed(0)} MB`;
    process.stderr.write(`  poll cycle: ${line(b)}\n              ${line(s)}\n`);
    report({
      name: 'scale-poll-cpu',
      value: Number(perCycle(b).toFixed(2)),
      unit: 'ms CPU / cycle',
      baseline: Number(perCycle(s).toFixed(2)),
      ratio: Number(ratio.toFixed(2)),
      target: '≤ 1.5× the CPU per poll cycle at 10,000 units, at 1,000,000 units',
      pass: ratio <= 1.5,
      notes:
        `process.cpuUsage of an in-process JobSession (as tessera run builds it) against an emulator process (time scale ${POLL_TIME_SCALE}, ${POLL_IN_FLIGHT} slots, maxInFlight ${POLL_IN_FLIGHT}), ` +
        `${POLL_WINDOW_SECONDS} s window after ${POLL_WARMUP_SECONDS} s of cycles, both jobs side by side; the snapshot compaction's cost spread over the cycles between two compactions. ${line(b)}; ${line(s)}`,
    });
  } finally {
    await Promise.all(emulators.map((e) => e.stop()));
  }
}

async function pollPhase(file: string, url: string, warmupSeconds: number): Promise<void> {
  // The heap of `tessera run`: its CLI bounds the heap's growth at start (docs/scale.md, "Memory of a run").
  boundHeapGrowth();
  const figure = await measurePollCycles(file, url, warmupSeconds * 1000, POLL_WINDOW_SECONDS * 1000, () => process.stderr.write(`${FIRST_CYCLE}\n`));
  process.stdout.write(JSON.stringify(figure) + '\n', () => process.exit(0));
}

async function main(): Promise<void> {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === 'plan') return planPhase(a!, b!);
  if (mode === 'resume') return resumePhase(a!);
  if (mode === 'poll') return pollPhase(a!, b!, Number(process.argv[5]));
  if (mode === 'poll-only') return pollFigure();
  if (mode === 'run-only') return runFigure();
  const job = rectangleJob('bench-1m', COLS, ROWS, { periods: { start: '2021-01-01', end: '2022-01-01', every: 'month' } }, 8);
  process.stderr.write(`scale-1m: ${COLS} × ${ROWS} tiles × ${MONTHS} months planned by planOnce into a FileJobRepository; ${FINISHED} units journaled to done; then resumed in a new process\n`);
  const plan = phase(['plan', job.file, job.stateDir]);
  const bytes = readdirSync(job.stateDir).reduce((sum, f) => sum + statSync(join(job.stateDir, f)).size, 0);
  const resume = phase(['resume', job.stateDir]);
  const perUnit = bytes / plan.units!;
  process.stderr.write(
    `  plan ${(plan.planMs! / 1000).toFixed(1)} s for ${plan.units} units (peak RSS ${plan.hwmPlan!.toFixed(0)} MB after planning, ${plan.hwm!.toFixed(0)} MB after ${FINISHED} units in ${(plan.eventsMs! / 1000).toFixed(1)} s); ` +
      `state on disk ${(bytes / 2 ** 20).toFixed(1)} MB (${perUnit.toFixed(0)} B/unit); resume ${(resume.resumeMs! / 1000).toFixed(1)} s (peak RSS ${resume.hwm!.toFixed(0)} MB, ${resume.done} done)\n`,
  );
  report({ name: 'scale-1m-plan', value: Number((plan.planMs! / 1000).toFixed(1)), unit: 's', baseline: null, ratio: null, target: '< 20 s to plan a 1,000,000-unit job', pass: plan.planMs! < 20_000, notes: `planOnce of ${plan.units} units (${COLS * ROWS} tiles × ${MONTHS} months) into a FileJobRepository, plan entry fsynced` });
  report({ name: 'scale-1m-rss', value: Math.round(plan.hwm!), unit: 'MB', baseline: null, ratio: null, target: '< 1 GB peak RSS from planning through the first 5,000 finished units', pass: plan.hwm! < 1024, notes: `VmHWM of the planning process: ${plan.hwmPlan!.toFixed(0)} MB after planning, ${plan.hwm!.toFixed(0)} MB after journaling ${FINISHED} units to done (events appended directly, not from the emulator)` });
  report({ name: 'scale-1m-resume', value: Number((resume.resumeMs! / 1000).toFixed(1)), unit: 's', baseline: null, ratio: null, target: '< 20 s from opening the state to the first unit to submit', pass: resume.resumeMs! < 20_000, notes: `new process: snapshot + journal replay + state index up to the first pending unit (${resume.first}); peak RSS ${resume.hwm!.toFixed(0)} MB` });
  report({ name: 'scale-1m-journal', value: Math.round(perUnit), unit: 'B/unit', baseline: null, ratio: null, target: '< 200 bytes per unit on disk', pass: perUnit < 200, notes: `.tessera/${job.name}/ after ${FINISHED} units done: ${(bytes / 2 ** 20).toFixed(1)} MB` });
  // The engine at work on a million units: CPU per poll cycle against 10,000, and `tessera run`'s peak RSS.
  await pollFigure();
  await runFigure();
}

main().catch((e: unknown) => {
  process.stderr.write(`scale-1m bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
