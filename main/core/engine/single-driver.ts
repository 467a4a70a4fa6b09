import { UserError } from '../errors';
import type { Operation } from '../google/earthengine';
import type { Job } from '../job/job-file';
import type { JobRepository } from '../job/repository';
import type { TileRecord } from '../job/state';
import type { Destination, HeldLease } from '../destination/port';
import { unknownLocalMessage, unknownLocalOutputs } from '../sync/local-guard';
import { adoptionPlan, findForeignOperations, isTerminal, type ForeignOperation } from './foreign-ops';
import { withStartRetries } from './start-retry';

/**
 * What a run settles before it sends anything, so that it touches only what it made (docs/ownership.md):
 * it holds the job's lease in Drive (one driver per job), stops for operations of this job that another
 * run started (or takes them over with `--adopt`), and refuses local files with the job's output names
 * that its journal did not write (unless `--overwrite`). At the end it gives the lease back.
 */
export interface SingleDriverDeps {
  job: Job;
  repo: JobRepository;
  listOperations(): Promise<Operation[]>;
  /** Whether local outputs are guarded, and where the job's lease lives (undefined: none). */
  destination: Pick<Destination, 'localOutputs' | 'lease'>;
  adopt: boolean;
  overwrite: boolean;
  log(level: 'info' | 'warn', message: string): void;
  /** Records a foreign operation as the tile's current attempt. */
  takeOver(tile: TileRecord, f: ForeignOperation): Promise<void>;
  /** The lease was lost while running: the run must stop. */
  onLeaseLost(message: string): void;
  /** Waits `ms` of the run's clock (or less when the run is stopped). */
  pause(ms: number): Promise<void>;
  /** The shortest poll interval in ms of the run's clock (already scaled): the first pause between tries. */
  firstPauseMs: number;
  /** Where the job's lease lives, for the line that stops a run which could not take it (e.g. `gs://b/p/`). */
  leaseWhere?: string;
}

/** Start-up requests are tried this many times (with doubling pauses) before the run gives up. */
const START_TRIES = 5;

export class SingleDriver {
  private lease: HeldLease | undefined;

  constructor(private readonly d: SingleDriverDeps) {}

  /**
   * Returns why the run must stop (exit 3, `locked`), or undefined to go on. Bad local files throw (exit 1)
   * before anything is written, in Drive too: the operations are read first, the lease taken after.
   */
  async start(): Promise<string | undefined> {
    const { job, repo } = this.d;
    const ops = await this.tries("listing this job's Earth Engine operations", () => this.d.listOperations());
    const foreign = findForeignOperations(ops, job.name, repo.state.tiles);
    const plan = this.d.adopt ? adoptionPlan(foreign, repo.state.tiles) : undefined;
    if (this.d.destination.localOutputs && !this.d.overwrite) {
      const unknown = await unknownLocalOutputs(job.output, job.name, repo.state.tiles, new Set(plan?.adopt.keys() ?? []));
      if (unknown.length) throw new UserError(unknownLocalMessage(job.output, unknown), 1);
    }
    if (this.d.destination.lease) {
      const locked = await this.tries(`taking the job's lease in ${this.d.leaseWhere ?? 'its destination'}`, () => this.takeLease());
      if (locked) return locked;
    }
    const running = foreign.filter((f) => !isTerminal(f.op));
    if (running.length && !plan) {
      const n = running.length;
      return `${n} Earth Engine operation${n === 1 ? '' : 's'} of this job (first: ${running[0]!.op.metadata?.description}) ${n === 1 ? 'was' : 'were'} started by another run — another machine, or a run whose journal is lost — and ${n === 1 ? 'is' : 'are'} still running; nothing was sent. Wait for ${n === 1 ? 'it' : 'them'} to end, or run again with --adopt to take ${n === 1 ? 'it' : 'them'} over`;
    }
    if (!plan) {
      if (foreign.length) this.d.log('info', `${foreign.length} finished Earth Engine operation(s) of an earlier run of this job are left alone; files they left in Drive are not this run's`);
      return undefined;
    }
    for (const [tileId, f] of plan.adopt) {
      await this.d.takeOver(repo.state.tiles[tileId]!, f);
      this.d.log('info', `${tileId}: took over ${f.op.name} (${f.op.metadata?.description}, ${f.op.metadata?.state}) started by another run`);
    }
    for (const f of plan.notInPlan) this.d.log('warn', `${f.op.metadata?.description}: not a tile of this journal's plan (a split child of a lost journal?); ${f.op.name} is left alone`);
    for (const f of plan.busy) this.d.log('warn', `${f.tileId}: already has an attempt of this run; ${f.op.name} (${f.op.metadata?.description}) is left alone`);
    return undefined;
  }

  /** Gives the lease back (a failure is only reported: the lease goes stale by itself). */
  async end(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    if (!lease) return;
    try {
      await lease.release();
    } catch (e) {
      this.d.log('warn', `the job's lease in ${this.d.leaseWhere ?? 'Drive'} could not be deleted (${(e as Error).message}); it expires by itself 15 minutes after its last heartbeat`);
    }
  }

  private async takeLease(): Promise<string | undefined> {
    const r = await this.d.destination.lease!.acquire();
    if (r.kind === 'locked') return r.message;
    for (const t of r.tookOver) this.d.log('warn', `took over the job's stale lease from ${t.host} (pid ${t.pid}, last heartbeat ${t.heartbeatAt})`);
    this.lease = r.lease;
    r.lease.startHeartbeat((m) => this.d.onLeaseLost(m), (m) => this.d.log('warn', m));
    return undefined;
  }

  /**
   * A start-up request, tried again on failure with doubling pauses; bounded. This runs before the loop
   * (whose guard would retry next cycle): a hiccup that outlasts the tries stops the run with exit 3 and
   * one line naming `what` (docs/transient-start.md), never as an unexpected error.
   */
  private tries<T>(what: string, step: () => Promise<T>): Promise<T> {
    return withStartRetries(what, step, {
      tries: START_TRIES,
      firstPauseMs: this.d.firstPauseMs,
      pause: (ms) => this.d.pause(ms),
      warn: (message) => this.d.log('warn', message),
      // Any failure but the user's own (a refused lease, unknown local files) is worth another try here.
      retryable: (e) => !(e instanceof UserError),
    });
  }
}
