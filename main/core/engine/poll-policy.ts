/**
 * When to read Earth Engine's operations, and which ones (docs/performance.md, "Polling"). Pure
 * bookkeeping with the clock passed in, so it is tested without timers.
 *
 * - A running task cannot have finished before it has run as long as tasks of this job typically run
 *   (the median of the last 20 run times): it is left out of a poll until then.
 * - Nor can a queued task before that long after it was sent, or after it was last read still queued
 *   (it had not started then): it is read once it can have finished (it is then usually running, and
 *   EE's start time makes the poll for its end exact). Until then, and until a heartbeat, the engine
 *   shows it as queued even if EE has started it.
 * - The poll itself waits for the earliest running task to be due; when EE holds queued tasks of this job
 *   and more tiles wait to be sent, it waits until as many tasks are due as EE has queued (EE starts a
 *   queued task the moment a slot frees, so no slot idles meanwhile), reading several outcomes at once.
 * - With nothing to go by (no run time known yet, or a task running past its due time) it polls on the
 *   back-off interval: poll.minSeconds, growing ×1.5 up to poll.maxSeconds while nothing changes.
 * - Never more than poll.maxSeconds without a look at every operation: a task that fails early is seen
 *   within that time, as before. That look is one page of the operation list (what the page lacks is
 *   read singly after it).
 * - Many operations to read: one page of the operation list instead of a batch of single reads.
 */

import type { Clock } from '../ports/clock';

export interface WatchedOperation {
  readonly name: string;
  /** As last seen by the engine: queued (sent, PENDING in EE or not seen yet) or running. */
  readonly state: 'queued' | 'running';
  /** Queued: when it was sent (real ms), if known. */
  readonly since?: number;
}

export interface PollPlan {
  /** The operations to read. */
  readonly names: string[];
  /** 'get': one batched request of single reads; 'list': one page of the project's operation list. */
  readonly via: 'get' | 'list';
}

export interface PollPolicyOptions {
  /** poll.minSeconds and poll.maxSeconds in ms of the engine's clock (Clock.fromGoogle). */
  readonly minIntervalMs: number;
  readonly maxIntervalMs: number;
  /** From this many operations to read on, one list page replaces the batch of reads. */
  readonly listFrom?: number;
}

/** Recent run times kept for the median. */
const RUN_TIMES_KEPT = 20;
/** A task is due this much after its typical run time (timer and clock granularity). */
const DUE_SLACK = 0.02;
export const LIST_FROM = 20;

export class PollPolicy {
  /** Estimated real start (ms) of operations seen running. */
  private readonly startedAt = new Map<string, number>();
  /** When operations were last read still queued in EE (real ms): none of them had started then. */
  private readonly queuedAt = new Map<string, number>();
  private readonly runTimes: number[] = [];
  private lastPollAt = -Infinity;
  private idleMs: number;

  constructor(private readonly options: PollPolicyOptions) {
    this.idleMs = options.minIntervalMs;
  }

  /** An operation was seen running, `elapsedMs` into its run (0 when EE did not say). */
  running(name: string, seenAt: number, elapsedMs = 0): void {
    this.queuedAt.delete(name);
    const start = seenAt - Math.max(0, elapsedMs);
    const known = this.startedAt.get(name);
    // The earliest evidence wins: a later look without EE's times must not push the start back.
    if (known === undefined || start < known) this.startedAt.set(name, start);
  }

  /** An operation ended (or is no longer watched); `runMs` is how long it ran, when known. */
  ended(name: string, runMs?: number): void {
    this.startedAt.delete(name);
    this.queuedAt.delete(name);
    if (runMs !== undefined && Number.isFinite(runMs) && runMs > 0) this.learnRunTime(runMs);
  }

  /**
   * An operation was read still queued (PENDING) at `seenAt`: it cannot end before it has run, so it is
   * not read again before the typical run time has passed since then. Without this, a task waiting
   * behind the job's running ones was read on every poll once its send time was a run time ago.
   */
  stillQueued(name: string, seenAt: number): void {
    this.queuedAt.set(name, seenAt);
  }

  learnRunTime(runMs: number): void {
    this.runTimes.push(runMs);
    if (this.runTimes.length > RUN_TIMES_KEPT) this.runTimes.shift();
  }

  /** The median recent run time (ms), or undefined before any task of this job ended. */
  typicalRunMs(): number | undefined {
    if (this.runTimes.length === 0) return undefined;
    return [...this.runTimes].sort((a, b) => a - b)[Math.floor(this.runTimes.length / 2)];
  }

  /** When a running operation is expected to have ended (real ms), or undefined when unknown. */
  dueAt(name: string): number | undefined {
    const start = this.startedAt.get(name);
    const typical = this.typicalRunMs();
    if (start === undefined || typical === undefined) return undefined;
    return start + typical * (1 + DUE_SLACK);
  }

  /** A poll happened at `now`; `changed` when it saw any operation change state. */
  polled(now: number, changed: boolean): void {
    this.lastPollAt = now;
    this.idleMs = changed ? this.options.minIntervalMs : Math.min(this.options.maxIntervalMs, this.idleMs * 1.5);
  }

  /**
   * When the next poll is due (real ms): Infinity with nothing in flight. `moreToSend` is true while
   * tiles wait to be submitted (then EE's queue of this job's tasks is worth keeping, not emptying).
   */
  nextPollAt(ops: readonly WatchedOperation[], moreToSend: boolean): number {
    if (ops.length === 0) return Infinity;
    const dues: number[] = [];
    let unknown = false;
    let queued = 0;
    let queuedFinish = Infinity;
    for (const op of ops) {
      if (op.state === 'queued') {
        queued++;
        const can = this.canHaveFinishedAt(op);
        if (can === undefined) unknown = true;
        else queuedFinish = Math.min(queuedFinish, can);
        continue;
      }
      const due = this.dueAt(op.name);
      // Unknown, or already past due at the last poll (a slow task): nothing to predict it by.
      if (due === undefined || due <= this.lastPollAt) unknown = true;
      else dues.push(due);
    }
    let at = unknown ? this.lastPollAt + this.idleMs : queuedFinish;
    if (dues.length > 0) {
      dues.sort((a, b) => a - b);
      const k = moreToSend ? Math.min(Math.max(queued, 1), dues.length) : 1;
      at = Math.min(at, dues[k - 1]!);
    }
    return Math.min(Math.max(at, this.lastPollAt + this.options.minIntervalMs), this.lastPollAt + this.options.maxIntervalMs);
  }

  /** What to read at `now`, or undefined when no poll is due yet. */
  plan(ops: readonly WatchedOperation[], now: number, moreToSend: boolean): PollPlan | undefined {
    if (now < this.nextPollAt(ops, moreToSend)) return undefined;
    // poll.maxSeconds without a look: everything, so a task that failed early is seen within that time.
    const heartbeat = now >= this.lastPollAt + this.options.maxIntervalMs;
    let due = ops.filter((op) => heartbeat || (op.state === 'queued' ? (this.canHaveFinishedAt(op) ?? now) <= now : !this.notDueYet(op.name, now)));
    // Nothing to go by yet (no task of this job has ended): the task that started first — else the one
    // sent first — is the first that can end, and its end teaches the run time; the others wait for it or
    // for the heartbeat instead of being read on every back-off poll.
    if (!heartbeat && this.typicalRunMs() === undefined && due.length > 1) due = [this.firstToEnd(due)];
    const names = due.map((op) => op.name);
    if (names.length === 0) return undefined;
    // A heartbeat looks at everything in flight: one page of the operation list is one request of the
    // project's quota, where a batch of reads counts one per operation (docs/performance.md, "Polling").
    const list = names.length >= (this.options.listFrom ?? LIST_FROM) || (heartbeat && Number.isFinite(this.lastPollAt) && names.length > 1);
    return { names, via: list ? 'list' : 'get' };
  }

  /** Of operations alike, the one likely to end first: the earliest started, else the earliest sent. */
  private firstToEnd(ops: readonly WatchedOperation[]): WatchedOperation {
    // Running before queued; among running, the earliest start; among queued, the earliest sent.
    const key = (op: WatchedOperation): [number, number] =>
      op.state === 'running' ? [0, this.startedAt.get(op.name) ?? Infinity] : [1, op.since ?? Infinity];
    let best = ops[0]!;
    for (const op of ops) {
      const [a, b] = [key(op), key(best)];
      if (a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])) best = op;
    }
    return best;
  }

  /**
   * The earliest a queued operation can have ended: the typical run time after it was sent, or after it
   * was last read still queued if that is later (undefined when unknown).
   */
  private canHaveFinishedAt(op: WatchedOperation): number | undefined {
    const typical = this.typicalRunMs();
    const notStartedAt = Math.max(op.since ?? -Infinity, this.queuedAt.get(op.name) ?? -Infinity);
    return notStartedAt === -Infinity || typical === undefined ? undefined : notStartedAt + typical;
  }

  private notDueYet(name: string, now: number): boolean {
    const due = this.dueAt(name);
    return due !== undefined && due > now;
  }
}

/**
 * Milliseconds of `clock` between two RFC 3339 times of EE's clock (Google's time: a time-scaled
 * emulator's runs faster than the engine's, ports/clock.ts).
 */
export function eeMillis(from: string | undefined, to: string | undefined, clock: Pick<Clock, 'fromGoogle'>): number | undefined {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? clock.fromGoogle(ms) : undefined;
}
