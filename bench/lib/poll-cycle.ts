/**
 * scale-poll-cpu's measuring process: one job run in this process by the engine's own `JobSession` (as
 * `tessera run` builds it: FileJobRepository, the EE and Drive clients signed in to an emulator process,
 * the CLI's display and log) and the CPU time of this process (`process.cpuUsage`, every thread) over a
 * steady window of poll cycles. A cycle ends with the runner's `job-progress` event, so the window covers
 * whole cycles: the submissions, the batched poll of the operations in flight, admission, the sync
 * decisions and downloads, the journal appends and the progress / status line.
 *
 * The compaction of the journal into a snapshot does not fall in a window of a minute; its cost is
 * measured once after the window (`repo.compact()`) and spread over the cycles between two compactions
 * (repository.ts's rule), so the figure is the cycle's amortized cost.
 */
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { loadJobFile } from '../../main/core/job/job-file';
import { FileJobRepository } from '../../main/core/job/repository';
import { EarthEngine } from '../../main/core/google/earthengine';
import { Drive } from '../../main/core/google/drive';
import { gcsClientFor } from '../../main/core/gcs/session-client';
import { JobSession } from '../../main/core/session/job-session';
import { scaledClock, systemClock } from '../../main/core/ports/clock';
import { connect } from '../../main/cli/connect';
import { createDisplay } from '../../main/cli/display';

export interface PollCycleFigure {
  units: number;
  cycles: number;
  /** CPU time of this process over the window / cycles. */
  cpuMsPerCycle: number;
  /** Mean units in flight in EE (queued + running) at the end of each cycle of the window. */
  inFlightMean: number;
  /** Units that reached `done` in the window. */
  doneInWindow: number;
  /** Journal entries appended in the window. */
  entries: number;
  /** CPU time of one compaction of the job's state, and the entries between two compactions. */
  compactCpuMs: number;
  compactEvery: number;
  /** Main-thread GC pauses in the window per cycle (ms), and the major GCs in the window. */
  gcMsPerCycle: number;
  majorGcs: number;
  /** The compaction's share of a cycle: compactCpuMs × (entries per cycle) / compactEvery. */
  compactMsPerCycle: number;
  planSeconds: number;
  hwmMb: number;
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const silent = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;

export async function measurePollCycles(file: string, emulatorUrl: string, warmupMs: number, windowMs: number, onFirstCycle: () => void = () => undefined): Promise<PollCycleFigure> {
  const job = await loadJobFile(file);
  const repo = await FileJobRepository.open(job.stateDir);
  const { session, timeScale } = await connect(emulatorUrl, job.project);
  const ee = await EarthEngine.connect(session);
  const abort = new AbortController();
  const logPath = join(job.stateDir, 'log');
  const display = createDisplay(silent, (line) => appendFileSync(logPath, `${new Date().toISOString()} ${line}\n`));
  const t0 = performance.now();
  let firstCycleAt: number | undefined;
  let start: { at: number; cpu: NodeJS.CpuUsage; cycles: number; seq: number; done: number; bytes: number } | undefined;
  let end: { cpu: number; cycles: number; entries: number; done: number; bytes: number } | undefined;
  let cycles = 0;
  let done = 0;
  let inFlightSum = 0;
  let gcMs = 0;
  let majorGcs = 0;
  const gc = new PerformanceObserver((list) => {
    if (!start || end) return;
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs++;
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  // BENCH_POLL_PROFILE=dir: a CPU profile of the window (what a cycle spends its time on).
  const profileDir = process.env.BENCH_POLL_PROFILE;
  const inspector = profileDir ? new Session() : undefined;
  inspector?.connect();
  const journalBytes = () => statSync(join(job.stateDir, 'journal.jsonl')).size;
  const js = new JobSession({
    job, store: repo, ee, clients: { drive: new Drive(session), gcs: gcsClientFor(session) }, clock: scaledClock(systemClock, timeScale), recipe: undefined,
    signal: abort.signal,
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
    onEvent: (e) => {
      display.event(e);
      if (e.type === 'tile-state' && e.state === 'done') done++;
      if (e.type !== 'job-progress' || end) return;
      cycles++;
      const now = performance.now();
      if (firstCycleAt === undefined) {
        firstCycleAt = now;
        onFirstCycle();
      }
      if (!start) {
        if (now - firstCycleAt >= warmupMs) {
          start = { at: now, cpu: process.cpuUsage(), cycles, seq: repo.state.seq, done, bytes: journalBytes() };
          void inspector?.post('Profiler.enable').then(() => inspector.post('Profiler.start'));
        }
        return;
      }
      inFlightSum += e.progress.queued + e.progress.running;
      if (now - start.at < windowMs) return;
      end = { cpu: cpuMs(process.cpuUsage(start.cpu)), cycles: cycles - start.cycles, entries: repo.state.seq - start.seq, done: done - start.done, bytes: journalBytes() - start.bytes };
      if (inspector) void inspector.post('Profiler.stop').then(({ profile }) => writeFileSync(join(profileDir!, `poll-${Date.now()}.cpuprofile`), JSON.stringify(profile)));
      abort.abort();
    },
  });
  let windowClosed: () => void = () => undefined;
  const closed = new Promise<void>((r) => (windowClosed = r));
  abort.signal.addEventListener('abort', () => windowClosed());
  try {
    // The figure is taken when the window closes; the run then gets 30 s to wind down (downloads under
    // way stop) but is not waited for longer: the process exits once the figure is written.
    const ran = js.run();
    ran.catch(() => undefined);
    const ended = await Promise.race([ran, closed.then(() => Promise.race([ran, new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000))]))]);
    if (!end) throw new Error(`the run ended (exit ${ended?.exitCode}) before the measuring window closed`);
  } finally {
    display.close();
    gc.disconnect();
  }
  const c0 = process.cpuUsage();
  await repo.compact();
  const compactCpuMs = cpuMs(process.cpuUsage(c0));
  // main/core/job/repository.ts's rule: at least 20,000 entries, and a journal of half the snapshot's bytes.
  const entryBytes = end.bytes / Math.max(1, end.entries);
  const compactEvery = Math.max(20_000, Math.ceil(statSync(join(job.stateDir, 'snapshot.json')).size / 2 / entryBytes));
  await repo.close();
  inspector?.disconnect();
  const units = Object.keys(repo.state.tiles).length;
  const compactMsPerCycle = (compactCpuMs * (end.entries / end.cycles)) / compactEvery;
  const hwmKb = Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  return {
    units,
    cycles: end.cycles,
    cpuMsPerCycle: end.cpu / end.cycles,
    inFlightMean: inFlightSum / end.cycles,
    doneInWindow: end.done,
    entries: end.entries,
    compactCpuMs,
    compactEvery,
    compactMsPerCycle,
    gcMsPerCycle: gcMs / end.cycles,
    majorGcs,
    planSeconds: ((firstCycleAt ?? t0) - t0) / 1000,
    hwmMb: hwmKb / 1024,
  };
}
