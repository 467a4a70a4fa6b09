import type { SimClock } from '../clock';
import type { DriveStore } from '../drive/store';
import type { ObjectStore } from '../storage/store';
import { AssetError, type AssetStore } from './assets';
import type { IdFactory, Rng } from '../random';
import { MESSAGES, type ExportJob, type ExportKind, type TaskFailure } from './export-request';

/**
 * Earth Engine's batch queue on a simulated clock.
 *
 * A task waits PENDING for `dispatchSeconds`, then for a free slot (`slots` RUNNING per project; the
 * highest priority first, then the oldest), runs `taskBaseSeconds + pixels / pixelsPerSecond` simulated
 * seconds and ends SUCCEEDED (its files appear in Drive) or FAILED. Every transition happens at an exact
 * simulated instant computed from the previous ones, never at "whenever someone looked": `advanceTo(t)`
 * replays the events up to `t` in time order, so the history is the same however often, or how late,
 * the emulator is asked. How a run ends is decided when it starts.
 */
export type OpState = 'PENDING' | 'RUNNING' | 'CANCELLING' | 'SUCCEEDED' | 'CANCELLED' | 'FAILED';

/** How the current attempt ends (decided when it starts). */
type Outcome = { kind: 'succeed' } | { kind: 'fail'; failure: TaskFailure } | { kind: 'retry' };

/** One export task. Plain data (part 2 journals it); times are simulated epoch milliseconds. */
export interface Operation {
  name: string;
  project: string;
  /** Submission order, also the page-token cursor. */
  seq: number;
  job: ExportJob;
  state: OpState;
  attempt: number;
  createTime: number;
  updateTime: number;
  startTime: number | null;
  endTime: number | null;
  /** Earliest start of the next attempt (dispatch delay). */
  eligibleTime: number;
  attemptStart: number | null;
  /** When the current attempt ends (earlier than a full run for an internal error). */
  attemptEnd: number | null;
  /** Simulated milliseconds a full run of this task takes. */
  runMs: number;
  outcome: Outcome | null;
  /** EECU-seconds of finished attempts. */
  eecuSeconds: number;
  error: TaskFailure | null;
  destinationUris: string[] | null;
  /** Drive ids of the files written. */
  outputs: string[];
  history: { state: OpState; time: number }[];
}

export interface TaskSettings {
  slots(): number;
  taskBaseSeconds(): number;
  pixelsPerSecond(): number;
  timeoutPixels(): number | null;
  memoryPixels(): number | null;
  internalErrorRate(): number;
  internalMaxAttempts(): number;
  dispatchSeconds(): number;
  /** The failure message of a task above timeoutPixels (`timeoutMessage`, main/emulator/README.md). */
  timeoutMessage?(): string;
  /** True when this SUCCEEDED Drive export is to have no destinationUris (`omitDestinationUrisRate`). */
  omitDestinationUris?(): boolean;
  /** True when this exported object is to be a composite one, without md5Hash (`compositeRate`). */
  composite?(): boolean;
}

export interface StagedFile {
  readonly name: string;
  readonly mimeType: string;
  readonly path: string;
  readonly size: number;
  readonly md5: string;
}

/** Writes a task's output files somewhere outside Drive; they move into Drive when the task succeeds. */
export interface OutputProducer {
  produce(op: Operation): Promise<StagedFile[]>;
  discard(files: readonly StagedFile[]): Promise<void>;
}

/** A RUNNING task being cancelled holds its slot this long (simulated) before it is CANCELLED. */
const CANCEL_MS = 5_000;
/** One EECU per running second: enough for budgets to move; Google's real rates are not modelled. */
const EECU_PER_SECOND = 1;

type StageResult = { ok: true; files: StagedFile[] } | { ok: false; error: unknown };

export class TaskEngine {
  readonly ops = new Map<string, Operation>();
  /** Simulated time the queue has been advanced to. */
  cursor: number;
  private seq = 0;
  private readonly byRequestId = new Map<string, Operation>();
  private readonly pendingByProject = new Map<string, Operation[]>();
  private readonly running = new Set<Operation>();
  private readonly byProject = new Map<string, Operation[]>();
  private readonly staging = new Map<string, Promise<StageResult>>();
  /** Operations changed since the last takeChanged() (persistence journals them). */
  private changed = new Set<Operation>();

  constructor(
    private readonly clock: SimClock,
    private readonly ids: IdFactory,
    private readonly internalRng: Rng,
    private readonly settings: TaskSettings,
    private readonly drive: DriveStore,
    private readonly producer: OutputProducer,
    private readonly log: (message: string) => void,
    private readonly assets: AssetStore | null = null,
    private readonly objects: ObjectStore | null = null,
  ) {
    this.cursor = clock.now();
  }

  /** The submission counter (persisted with the operations). */
  get sequence(): number {
    return this.seq;
  }

  /** Operations changed since the last call. */
  takeChanged(): Operation[] {
    if (this.changed.size === 0) return [];
    const out = [...this.changed];
    this.changed = new Set();
    return out;
  }

  /**
   * Takes back a persisted queue: the operations (any order), the submission counter and the simulated
   * time reached. Outputs of tasks that were running are written again (they are deterministic), so they
   * are ready when those tasks succeed.
   */
  restore(ops: readonly Operation[], seq: number, cursor: number): void {
    this.seq = seq;
    // Exactly where the queue was: events between it and the restored clock replay at their own instants.
    this.cursor = cursor;
    for (const op of [...ops].sort((a, b) => a.seq - b.seq)) {
      this.ops.set(op.name, op);
      if (op.job.requestId) this.byRequestId.set(`${op.project}\u0000${op.job.requestId}`, op);
      let list = this.byProject.get(op.project);
      if (!list) this.byProject.set(op.project, (list = []));
      list.push(op);
      if (op.state === 'PENDING') this.enqueue(op);
      else if (op.state === 'RUNNING' || op.state === 'CANCELLING') {
        this.running.add(op);
        if (op.state === 'RUNNING' && op.outcome?.kind === 'succeed') this.stage(op);
      }
    }
  }

  findByRequestId(project: string, requestId: string): Operation | undefined {
    return this.byRequestId.get(`${project}\u0000${requestId}`);
  }

  pendingCount(project: string): number {
    return this.pendingByProject.get(project)?.length ?? 0;
  }

  /** Creates the operation at the current cursor (call advanceTo(now) first). */
  submit(project: string, job: ExportJob): Operation {
    const t = this.cursor;
    const op: Operation = {
      name: `projects/${project}/operations/${this.ids.operationId()}`,
      project, seq: ++this.seq, job, state: 'PENDING', attempt: 1,
      createTime: t, updateTime: t, startTime: null, endTime: null,
      eligibleTime: t + this.settings.dispatchSeconds() * 1000,
      attemptStart: null, attemptEnd: null, runMs: 0, outcome: null, eecuSeconds: 0,
      error: null, destinationUris: null, outputs: [], history: [{ state: 'PENDING', time: t }],
    };
    this.ops.set(op.name, op);
    this.changed.add(op);
    if (job.requestId) this.byRequestId.set(`${project}\u0000${job.requestId}`, op);
    let list = this.byProject.get(project);
    if (!list) this.byProject.set(project, (list = []));
    list.push(op);
    this.enqueue(op);
    this.fill(t);
    return op;
  }

  /** Operations of a project, newest first. */
  list(project: string): readonly Operation[] {
    return this.byProject.get(project) ?? [];
  }

  /** 'done' when the task already finished (nothing to cancel). */
  cancel(op: Operation): 'ok' | 'done' {
    const t = this.cursor;
    switch (op.state) {
      case 'PENDING':
        this.dequeue(op);
        this.finish(op, 'CANCELLED', t, { code: 1, message: MESSAGES.cancelled });
        this.fill(t);
        return 'ok';
      case 'RUNNING':
        op.attemptEnd = Math.min(op.attemptEnd ?? t, t + CANCEL_MS);
        op.outcome = { kind: 'fail', failure: { code: 1, message: MESSAGES.cancelled } };
        this.transition(op, 'CANCELLING', t);
        return 'ok';
      case 'CANCELLING':
        return 'ok';
      default:
        return 'done';
    }
  }

  /** The next simulated instant something happens, or null when nothing is scheduled. */
  nextEventTime(): number | null {
    let next = Number.POSITIVE_INFINITY;
    for (const op of this.running) next = Math.min(next, op.attemptEnd ?? next);
    for (const [project, pending] of this.pendingByProject) {
      if (this.runningIn(project) >= this.settings.slots()) continue;
      for (const op of pending) if (op.eligibleTime > this.cursor) next = Math.min(next, op.eligibleTime);
    }
    return Number.isFinite(next) ? next : null;
  }

  /** Replays every event up to simulated time `now`, in order. Callers serialise calls. */
  async advanceTo(now: number): Promise<void> {
    this.fill(this.cursor);
    for (;;) {
      const next = this.nextEventTime();
      if (next === null || next > now) break;
      this.cursor = Math.max(this.cursor, next);
      const due = [...this.running].filter((op) => (op.attemptEnd ?? Infinity) <= this.cursor).sort((a, b) => (a.attemptEnd as number) - (b.attemptEnd as number) || a.seq - b.seq);
      for (const op of due) await this.endAttempt(op, op.attemptEnd as number);
      this.fill(this.cursor);
    }
    this.cursor = Math.max(this.cursor, now);
    this.fill(this.cursor);
  }

  /** Waits for output files still being written (before the emulator stops). */
  async settle(): Promise<void> {
    await Promise.all(this.staging.values());
  }

  // ---- internals ---------------------------------------------------------------------------------------

  private runningIn(project: string): number {
    let n = 0;
    for (const op of this.running) if (op.project === project) n++;
    return n;
  }

  /** Starts eligible PENDING tasks at `t` while slots are free: priority first, then submission order. */
  private fill(t: number): void {
    const slots = this.settings.slots();
    for (const [project, pending] of this.pendingByProject) {
      let free = slots - this.runningIn(project);
      for (let i = 0; free > 0 && i < pending.length; ) {
        const op = pending[i] as Operation;
        if (op.eligibleTime > t) {
          i++;
          continue;
        }
        pending.splice(i, 1);
        this.startAttempt(op, t);
        free--;
      }
    }
  }

  private startAttempt(op: Operation, t: number): void {
    const s = this.settings;
    const job = op.job;
    op.runMs = Math.round((s.taskBaseSeconds() + job.pixels / s.pixelsPerSecond()) * 1000);
    let end = t + op.runMs;
    const timeout = s.timeoutPixels();
    const memory = s.memoryPixels();
    let outcome: Outcome;
    if (job.failure) {
      // EE finds these while preparing the computation: the task fails after its fixed overhead only.
      outcome = { kind: 'fail', failure: job.failure };
      end = t + Math.round(s.taskBaseSeconds() * 1000);
    } else if (timeout !== null && job.pixels > timeout) {
      outcome = { kind: 'fail', failure: { code: 4, message: s.timeoutMessage?.() ?? MESSAGES.timeout } };
    } else if (memory !== null && job.pixels > memory) {
      outcome = { kind: 'fail', failure: { code: 8, message: MESSAGES.memory } };
    } else if (this.internalRng.chance(s.internalErrorRate())) {
      outcome = { kind: 'retry' };
      end = t + Math.round(op.runMs * (0.1 + 0.9 * this.internalRng.next()));
    } else {
      outcome = { kind: 'succeed' };
    }
    op.outcome = outcome;
    op.attemptStart = t;
    op.attemptEnd = end;
    op.startTime ??= t;
    this.running.add(op);
    this.transition(op, 'RUNNING', t);
    if (outcome.kind === 'succeed') this.stage(op);
  }

  private stage(op: Operation): void {
    if (op.job.asset) return; // an asset has no files to write
    const p: Promise<StageResult> = this.producer.produce(op).then(
      (files) => ({ ok: true as const, files }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    this.staging.set(op.name, p);
  }

  private async takeStaged(op: Operation): Promise<StageResult | undefined> {
    const p = this.staging.get(op.name);
    if (!p) return undefined;
    const r = await p;
    this.staging.delete(op.name);
    return r;
  }

  private async endAttempt(op: Operation, t: number): Promise<void> {
    this.running.delete(op);
    op.eecuSeconds += (((op.attemptEnd as number) - (op.attemptStart as number)) / 1000) * EECU_PER_SECOND;
    const outcome = op.outcome;
    op.outcome = null;
    op.attemptStart = null;
    op.attemptEnd = null;
    if (op.state === 'CANCELLING') {
      const staged = await this.takeStaged(op);
      if (staged?.ok) await this.producer.discard(staged.files);
      this.finish(op, 'CANCELLED', t, { code: 1, message: MESSAGES.cancelled });
      return;
    }
    if (!outcome || outcome.kind === 'fail') {
      this.finish(op, 'FAILED', t, outcome?.failure ?? { code: 13, message: MESSAGES.internal });
      return;
    }
    if (outcome.kind === 'retry') {
      if (op.attempt >= this.settings.internalMaxAttempts()) {
        this.finish(op, 'FAILED', t, { code: 13, message: MESSAGES.internal });
      } else {
        // EE retries the task by itself: back in the queue as the next attempt.
        op.attempt++;
        op.eligibleTime = t + this.settings.dispatchSeconds() * 1000;
        this.transition(op, 'PENDING', t);
        this.enqueue(op);
      }
      return;
    }
    await this.publish(op, t);
  }

  /** The files appear in Drive (and count against its quota) at the instant the task succeeds. */
  private async publish(op: Operation, t: number): Promise<void> {
    const target = op.job.asset;
    if (target) {
      if (!this.assets || !op.job.product) {
        this.finish(op, 'FAILED', t, { code: 13, message: MESSAGES.internal });
        return;
      }
      try {
        this.assets.writeExport(target.name, target.overwrite, op.job.product);
      } catch (e) {
        if (!(e instanceof AssetError)) throw e;
        this.finish(op, 'FAILED', t, { code: e.code === 409 ? 6 : /^Asset quota exceeded/.test(e.message) ? 8 : 5, message: e.message });
        return;
      }
      op.destinationUris = [`https://code.earthengine.google.com/?asset=${target.name}`];
      this.finish(op, 'SUCCEEDED', t, null);
      return;
    }
    const staged = await this.takeStaged(op);
    if (!staged || !staged.ok) {
      this.log(`task ${op.name}: writing its output failed: ${staged && !staged.ok ? String(staged.error) : 'nothing staged'}`);
      this.finish(op, 'FAILED', t, { code: 13, message: MESSAGES.internal });
      return;
    }
    if (op.job.bucket) {
      await this.publishObjects(op, t, op.job.bucket, staged.files);
      return;
    }
    const total = staged.files.reduce((n, f) => n + f.size, 0);
    if (total > this.drive.freeBytes()) {
      await this.producer.discard(staged.files);
      this.finish(op, 'FAILED', t, { code: 8, message: MESSAGES.driveFull });
      return;
    }
    const folder = this.drive.exportFolder(op.job.folder);
    try {
      for (const f of staged.files) {
        const file = await this.drive.adopt(f.path, f.name, f.mimeType, folder.id, f.size, f.md5);
        op.outputs.push(file.id);
      }
    } catch (e) {
      // The emulator's own disk failed, not the simulated EE: say so, and fail the task like EE would.
      this.log(`task ${op.name}: moving its output into Drive failed: ${String(e)}`);
      await this.producer.discard(staged.files);
      this.finish(op, 'FAILED', t, { code: 13, message: MESSAGES.internal });
      return;
    }
    // Google documents destinationUris without promising it: some SUCCEEDED operations may lack it.
    if (!this.settings.omitDestinationUris?.()) op.destinationUris = [`https://drive.google.com/#folders/${folder.id}`];
    this.finish(op, 'SUCCEEDED', t, null);
  }

  /**
   * A Cloud Storage export: the objects appear in the bucket when the task succeeds. A bucket the emulator
   * does not have fails the task (main/emulator/README.md, "Cloud Storage": wording unverified).
   */
  private async publishObjects(op: Operation, t: number, bucket: string, files: readonly StagedFile[]): Promise<void> {
    if (!this.objects || !this.objects.hasBucket(bucket)) {
      await this.producer.discard(files);
      this.finish(op, 'FAILED', t, { code: 5, message: MESSAGES.noBucket(bucket) });
      return;
    }
    try {
      for (const f of files) {
        const o = await this.objects.adopt(f.path, bucket, f.name, f.mimeType, { composite: this.settings.composite?.() ?? false });
        op.outputs.push(`${bucket}/${o.name}`);
      }
    } catch (e) {
      this.log(`task ${op.name}: moving its output into the bucket failed: ${String(e)}`);
      await this.producer.discard(files);
      this.finish(op, 'FAILED', t, { code: 13, message: MESSAGES.internal });
      return;
    }
    // The format of a Cloud Storage destinationUri is unverified; this is the console's browser link of the prefix's folder.
    const folder = op.job.prefix.includes('/') ? op.job.prefix.slice(0, op.job.prefix.lastIndexOf('/') + 1) : '';
    if (!this.settings.omitDestinationUris?.()) op.destinationUris = [`https://console.developers.google.com/storage/browser/${bucket}/${folder}`];
    this.finish(op, 'SUCCEEDED', t, null);
  }

  private finish(op: Operation, state: 'SUCCEEDED' | 'FAILED' | 'CANCELLED', t: number, error: TaskFailure | null): void {
    // A finished table export's features are in its files or its TABLE asset now: keep them neither in
    // memory nor in the journal of operations (a merge can hold every feature of a job).
    if (op.job.product?.kind === 'table' && op.job.product.features.length > 0) op.job = { ...op.job, product: { kind: 'table', features: [] } };
    op.endTime = t;
    op.error = error;
    this.transition(op, state, t);
  }

  private transition(op: Operation, state: OpState, t: number): void {
    this.changed.add(op);
    op.state = state;
    op.updateTime = t;
    op.history.push({ state, time: t });
  }

  /** Pending lists stay sorted: priority descending, then submission order. */
  private enqueue(op: Operation): void {
    let pending = this.pendingByProject.get(op.project);
    if (!pending) this.pendingByProject.set(op.project, (pending = []));
    let lo = 0;
    let hi = pending.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const o = pending[mid] as Operation;
      if (o.job.priority > op.job.priority || (o.job.priority === op.job.priority && o.seq < op.seq)) lo = mid + 1;
      else hi = mid;
    }
    pending.splice(lo, 0, op);
  }

  private dequeue(op: Operation): void {
    const pending = this.pendingByProject.get(op.project);
    const i = pending?.indexOf(op) ?? -1;
    if (pending && i >= 0) pending.splice(i, 1);
  }

  // ---- Google's JSON -----------------------------------------------------------------------------------

  /** The `google.longrunning.Operation` of a task as of the cursor. */
  toJson(op: Operation): Record<string, unknown> {
    const t = this.cursor;
    const meta: Record<string, unknown> = {
      '@type': 'type.googleapis.com/google.earthengine.v1.OperationMetadata',
      state: op.state,
    };
    if (op.job.description !== null) meta.description = op.job.description;
    meta.priority = op.job.priority;
    meta.createTime = rfc3339(op.createTime);
    meta.updateTime = rfc3339(op.state === 'RUNNING' || op.state === 'CANCELLING' ? t : op.updateTime);
    if (op.startTime !== null) meta.startTime = rfc3339(op.startTime);
    if (op.endTime !== null) meta.endTime = rfc3339(op.endTime);
    meta.type = op.job.type satisfies ExportKind;
    meta.attempt = op.attempt;
    const progress = this.progress(op);
    if (progress > 0) meta.progress = progress;
    if (op.destinationUris) meta.destinationUris = op.destinationUris;
    const eecu = this.eecu(op);
    if (eecu > 0) meta.batchEecuUsageSeconds = eecu;
    const out: Record<string, unknown> = { name: op.name, metadata: meta };
    if (op.state === 'SUCCEEDED' || op.state === 'FAILED' || op.state === 'CANCELLED') {
      out.done = true;
      if (op.error) out.error = { code: op.error.code, message: op.error.message };
      else out.response = { '@type': 'type.googleapis.com/google.protobuf.Empty' };
    }
    return out;
  }

  progress(op: Operation): number {
    if (op.state === 'SUCCEEDED') return 1;
    if ((op.state !== 'RUNNING' && op.state !== 'CANCELLING') || op.attemptStart === null || op.runMs <= 0) return 0;
    return Math.min(0.99, Math.max(0, (this.cursor - op.attemptStart) / op.runMs));
  }

  eecu(op: Operation): number {
    const current = op.attemptStart === null ? 0 : ((this.cursor - op.attemptStart) / 1000) * EECU_PER_SECOND;
    return Math.round((op.eecuSeconds + Math.max(0, current)) * 1000) / 1000;
  }
}

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
