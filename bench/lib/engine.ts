import type { EngineEvent } from '../../shared/contract';
import { connect } from '../../main/cli/connect';
import { builtInBytesPerPixel, builtInImage } from '../../main/core/engine/recipe';
import { JobRunner, type EarthEnginePort, type RunOutcome } from '../../main/core/engine/runner';
import { Drive } from '../../main/core/google/drive';
import { scaledClock, systemClock } from '../../main/core/ports/clock';
import { EarthEngine } from '../../main/core/google/earthengine';
import { loadJobFile } from '../../main/core/job/job-file';
import { acquireJobLock } from '../../main/core/job/lock';
import { FileJobRepository } from '../../main/core/job/repository';

/** What the engine's cycles did, counted from outside. */
export interface CycleStats {
  /** Cycles run so far (the runner's `onCycle`). */
  cycles: number;
  /** Cycles that read operations from Earth Engine. */
  pollCycles: number;
  /** Operation reads (`getOperations`, one `POST /batch` each, or a one-page listing) and the most operations one asked for. */
  getOperationsCalls: number;
  maxBatch: number;
  /** Of those, one-page listings (`listOperations` with a limit). */
  pollListings: number;
  /** Most `getOperations` calls in one cycle. */
  maxCallsPerCycle: number;
}

export interface EngineRun {
  outcome: RunOutcome;
  /** Wall time of `runner.run()`: planning, every cycle, the last download. Sign-in is before it. */
  makespanMs: number;
  events: { at: number; e: EngineEvent }[];
  stats: CycleStats;
  /** CPU time (user + system, µs) spent inside `run()`. */
  cpuMicros: number;
}

export interface EngineHooks {
  signal?: AbortSignal;
  /** Called after every cycle with the counters so far. */
  onCycle?: (stats: CycleStats) => void;
  /** Called once the runner starts (sign-in and EE initialisation are done). */
  onStart?: () => void;
  keepEvents?: boolean;
}

/**
 * Runs a job the way `tessera run JOB --emulator URL` does (same job loading, lock, journal, sign-in, EE and
 * Drive adapters, runner and image), in this process, so cycles and calls can be counted: cycles through the
 * runner's `onCycle`, and `getOperations` calls through a pass-through wrapper of the EE adapter.
 */
export async function runEngine(jobPath: string, emulatorUrl: string, hooks: EngineHooks = {}): Promise<EngineRun> {
  const job = await loadJobFile(jobPath);
  const lock = await acquireJobLock(job.stateDir, `bench ${jobPath}`);
  const repo = await FileJobRepository.open(job.stateDir);
  try {
    const { session, timeScale } = await connect(emulatorUrl, job.project);
    const real = await EarthEngine.connect(session);
    const stats: CycleStats = { cycles: 0, pollCycles: 0, getOperationsCalls: 0, pollListings: 0, maxBatch: 0, maxCallsPerCycle: 0 };
    let callsThisCycle = 0;
    // Every call goes straight to the real adapter; getOperations (one POST /batch each) is only counted.
    const getOperations: EarthEnginePort['getOperations'] = (names) => {
      stats.getOperationsCalls++;
      callsThisCycle++;
      stats.maxBatch = Math.max(stats.maxBatch, names.length);
      return real.getOperations(names);
    };
    // A listing with a limit is the poll's one-page read (poll-policy.ts); without, a start-up search.
    const listOperations: EarthEnginePort['listOperations'] = (limit) => {
      if (limit !== undefined) {
        stats.getOperationsCalls++;
        stats.pollListings++;
        callsThisCycle++;
        stats.maxBatch = Math.max(stats.maxBatch, limit);
      }
      return real.listOperations(limit);
    };
    const ee = new Proxy(real, {
      get(target, prop) {
        if (prop === 'getOperations') return getOperations;
        if (prop === 'listOperations') return listOperations;
        const v: unknown = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as unknown as EarthEnginePort;
    const events: { at: number; e: EngineEvent }[] = [];
    const onCycle = () => {
      stats.cycles++;
      if (callsThisCycle > 0) stats.pollCycles++;
      stats.maxCallsPerCycle = Math.max(stats.maxCallsPerCycle, callsThisCycle);
      callsThisCycle = 0;
      hooks.onCycle?.(stats);
    };
    const runner = new JobRunner(job, repo, ee, new Drive(session), {
      clock: scaledClock(systemClock, timeScale),
      signal: hooks.signal,
      onEvent: hooks.keepEvents ? (e) => events.push({ at: performance.now(), e }) : undefined,
      onCycle,
      image: (m) => builtInImage(m, job.export.dataType),
      bytesPerPixel: builtInBytesPerPixel(job.export.dataType),
    });
    hooks.onStart?.();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const outcome = await runner.run();
    const makespanMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { outcome, makespanMs, events, stats, cpuMicros: cpu.user + cpu.system };
  } finally {
    await repo.close();
    await lock.release();
  }
}
