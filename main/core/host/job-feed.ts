import type { EngineEvent, JobProgress, Quota } from '../../../shared/contract';
import type { LogEntry, StreamMessage } from '../../../shared/dashboard';
import type { Job } from '../job/job-file';
import type { DrivePort } from '../ports/drive';
import { JobLogFile } from './log-file';

export interface JobFeedOptions {
  job: Job;
  drive: DrivePort;
  /** Sends a message to every subscriber (numbered by the host). */
  broadcast(m: StreamMessage): void;
  /** The host is stopping: no more reads of Drive. */
  stopping(): boolean;
  /** Log entries kept for the dashboard. */
  recentLog: number;
  writeLog: boolean;
  progressIntervalMs: number;
  quotaMinIntervalMs: number;
  quotaIdleIntervalMs: number;
}

/**
 * What one job tells the dashboards as it runs: engine events passed on (job-progress at most every
 * progressIntervalMs, the latest always arriving), the recent log (and the job's log file), and Drive's
 * quota, read again while tiles finish and, between runs, every quotaIdleIntervalMs.
 */
export class JobFeed {
  quota: Quota | null = null;
  readonly log: LogEntry[] = [];
  private readonly logFile: JobLogFile;
  private lastProgressAt = 0;
  private progressTimer: NodeJS.Timeout | undefined;
  private pendingProgress: JobProgress | undefined;
  private quotaTimer: NodeJS.Timeout | undefined;
  private quotaAt = 0;
  private quotaReading = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: JobFeedOptions) {
    this.logFile = new JobLogFile(o.job.stateDir, o.writeLog);
  }

  /** An engine event of the job's run. */
  event(e: EngineEvent): void {
    switch (e.type) {
      case 'job-progress':
        this.progress(e.progress, e.progress.finished);
        return;
      case 'quota':
        this.quota = e.quota;
        this.quotaAt = Date.now();
        break;
      case 'log':
        this.remember({ level: e.level, message: e.message, at: e.at });
        this.logFile.write(`${e.level === 'info' ? '' : `${e.level}: `}${e.message}`, e.at);
        break;
      case 'tile-state':
        // Every transition is kept for the log panel (bounded by recentLog), as the job's log file has it.
        this.remember({ level: e.state === 'failed' ? 'error' : e.state === 'retrying' ? 'warn' : 'info', message: `${e.tile} ${e.state}${e.message ? `: ${e.message}` : ''}`, at: e.at });
        this.logFile.write(`${e.tile} ${e.state}${e.message ? `: ${e.message}` : ''}`, e.at);
        break;
    }
    this.o.broadcast({ kind: 'event', seq: 0, event: e });
  }

  /** A log line of the host itself about the job. */
  line(level: LogEntry['level'], message: string): void {
    this.event({ type: 'log', job: this.o.job.name, level, message, at: new Date().toISOString() });
  }

  /** Passes job-progress on at most every progressIntervalMs, the latest always arriving. */
  progress(progress: JobProgress, now = false): void {
    this.pendingProgress = progress;
    const wait = this.o.progressIntervalMs - (Date.now() - this.lastProgressAt);
    if (now || wait <= 0) {
      if (this.progressTimer) clearTimeout(this.progressTimer);
      this.progressTimer = undefined;
      this.flushProgress();
    } else {
      this.progressTimer ??= setTimeout(() => {
        this.progressTimer = undefined;
        this.flushProgress();
      }, wait);
    }
  }

  /** A tile is done: its files left Drive, the quota changed. */
  tileDone(): void {
    this.refreshQuota(this.o.quotaMinIntervalMs);
  }

  /** A run started: the idle poller stops (the run reads the quota itself). */
  running(): void {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** A run ended: the quota is read now, then every quotaIdleIntervalMs. */
  idle(): void {
    this.refreshQuota(0);
    this.idleTimer = setInterval(() => this.refreshQuota(this.o.quotaIdleIntervalMs), this.o.quotaIdleIntervalMs);
    this.idleTimer.unref();
  }

  async close(): Promise<void> {
    for (const t of [this.progressTimer, this.quotaTimer]) if (t) clearTimeout(t);
    if (this.idleTimer) clearInterval(this.idleTimer);
    await this.logFile.flush();
  }

  private flushProgress(): void {
    const progress = this.pendingProgress;
    if (!progress) return;
    this.pendingProgress = undefined;
    this.lastProgressAt = Date.now();
    this.o.broadcast({ kind: 'event', seq: 0, event: { type: 'job-progress', progress } });
  }

  /** Reads Drive's quota again unless it was read within `maxAgeMs` (then once that age is reached). */
  private refreshQuota(maxAgeMs: number): void {
    if (this.o.stopping()) return;
    const wait = Math.max(0, this.quotaAt + maxAgeMs - Date.now());
    if (this.quotaTimer) {
      if (wait > 0 || this.quotaReading) return; // one already planned (or under way)
      clearTimeout(this.quotaTimer);
    }
    this.quotaTimer = setTimeout(() => {
      this.quotaReading = true;
      this.quotaAt = Date.now();
      this.o.drive.quota().then(
        (q) => {
          this.quotaTimer = undefined;
          this.quotaReading = false;
          if (this.o.stopping()) return;
          const quota: Quota = { ...q, at: new Date().toISOString() };
          this.quota = quota;
          this.o.broadcast({ kind: 'event', seq: 0, event: { type: 'quota', job: this.o.job.name, quota } });
        },
        () => {
          this.quotaReading = false;
          this.quotaTimer = undefined; // offline or signed out: the run reports that; try again later
        },
      );
    }, wait);
    this.quotaTimer.unref();
  }

  private remember(entry: LogEntry): void {
    this.log.push(entry);
    if (this.log.length > this.o.recentLog) this.log.splice(0, this.log.length - this.o.recentLog);
  }
}
