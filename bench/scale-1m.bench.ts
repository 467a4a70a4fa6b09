/**
 * scale-1m-plan, scale-1m-rss, scale-1m-resume (+ scale-1m-journal): a job of 1,008,000 units (300 × 280
 * tiles of 8 × 8 px × 12 monthly `periods`), planned by the engine's own `planOnce` into a real
 * `FileJobRepository` (journal + snapshot on disk). Each phase runs in its own process so its peak RSS
 * (VmHWM) is its own:
 *
 * - plan: `planOnce` (grid, units, the journaled plan entry, fsynced) — the figure is its wall time;
 * - rss: the same process then journals the first 5,000 units through the states a run writes for them
 *   (submitting … done, one output file each), compacting as a run does; the figure is its VmHWM. The
 *   events are appended directly, not produced by the emulator: this isolates the state and journal,
 *   which is what grows with the unit count (the per-cycle CPU against the emulator is scale-50k-cpu-per-cycle);
 * - resume: a new process opens the job's state (snapshot + journal replay) and indexes it as the runner
 *   does, up to the first pending unit it would submit;
 * - journal: the `.tessera/<job>/` folder's bytes per unit after the 5,000 units.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rectangleJob } from '../test/helpers/job';
import { loadJobFile } from '../main/core/job/job-file';
import { FileJobRepository } from '../main/core/job/repository';
import { planOnce } from '../main/core/engine/run-start';
import { TileIndex } from '../main/core/engine/tile-index';
import { report } from './result';

const COLS = 300;
const ROWS = 280;
const MONTHS = 12;
const FINISHED = Number(process.env.BENCH_1M_FINISHED ?? 5_000);

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
  const r = spawnSync(process.execPath, ['--import', 'tsx', process.argv[1]!, ...args], { encoding: 'utf8', maxBuffer: 2 ** 24 });
  if (r.status !== 0) throw new Error(`phase ${args[0]} failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

async function main(): Promise<void> {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === 'plan') return planPhase(a!, b!);
  if (mode === 'resume') return resumePhase(a!);
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
}

main().catch((e: unknown) => {
  process.stderr.write(`scale-1m bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
