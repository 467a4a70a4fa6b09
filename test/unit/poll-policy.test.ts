import { describe, expect, it } from 'vitest';
import { PollPolicy, eeMillis, type WatchedOperation } from '../../main/core/engine/poll-policy';
import { scaledClock, systemClock } from '../../main/core/ports/clock';

const MIN = 5_000;
const MAX = 60_000;
const policy = (maxIntervalMs = MAX) => new PollPolicy({ minIntervalMs: MIN, maxIntervalMs });
const running = (name: string): WatchedOperation => ({ name, state: 'running' });
const queued = (name: string, since?: number): WatchedOperation => ({ name, state: 'queued', since });

describe('when to read which operations', () => {
  it('with 40 operations in flight, one list page is read, not 40 gets', () => {
    const p = policy();
    const ops = Array.from({ length: 40 }, (_, k) => queued(`op${k}`, 0));
    const plan = p.plan(ops, 0, true);
    expect(plan).toEqual({ via: 'list', names: ops.map((o) => o.name) });
  });

  it('with few operations to read, reads them singly (one batched request)', () => {
    const plan = policy().plan([queued('a', 0), queued('b', 0)], 0, true);
    expect(plan).toEqual({ via: 'get', names: ['a', 'b'] });
  });

  it('with no run time known yet, reads only the task that started first until one ends (the heartbeat reads all)', () => {
    const p = policy();
    p.running('b', 2_000, 0);
    p.running('a', 1_000, 0);
    p.polled(2_000, true);
    const ops = [running('b'), running('a'), queued('c', 1_500)];
    // Back-off polls: one read, the first that can end — not every task each time.
    expect(p.plan(ops, 7_000, true)).toEqual({ via: 'get', names: ['a'] });
    p.polled(7_000, false);
    // Its end teaches the run time; from then on each task is read when it is due.
    p.ended('a', 10_000);
    expect(p.typicalRunMs()).toBe(10_000);
    // poll.maxSeconds after the last read: everything, a task may have failed early.
    expect(p.plan([running('b'), queued('c', 1_500)], 67_001, true)?.names).toEqual(['b', 'c']);
  });

  it('does not read a running task before it has run as long as tasks of the job typically run', () => {
    const p = policy();
    p.learnRunTime(120_000);
    p.running('a', 1_000, 0); // started at 1 s
    p.running('b', 31_000, 0); // started at 31 s
    p.polled(31_000, true);
    // Nothing can have ended before a is due (1 s + 120 s + 2 %): no read, not even on the old 5 s interval.
    expect(p.plan([running('a'), running('b')], 40_000, false)).toBeUndefined();
    expect(p.plan([running('a'), running('b')], 90_999, false)).toBeUndefined();
    // poll.maxSeconds without any read: a heartbeat reads everything (a task may have failed early), as one
    // page of the operation list — one request of Google's quota, not one per operation.
    expect(p.plan([running('a'), running('b')], 91_001, false)).toEqual({ via: 'list', names: ['a', 'b'] });
    p.polled(91_001, false);
    const due = p.nextPollAt([running('a'), running('b')], false);
    expect(due).toBeCloseTo(1_000 + 120_000 * 1.02, 6);
    // At a's due time only a is read: b cannot have ended yet.
    expect(p.plan([running('a'), running('b')], due, false)).toEqual({ via: 'get', names: ['a'] });
  });

  it('takes how long a task has run from EE’s times, so a task seen late is read when it is due', () => {
    const p = policy();
    p.learnRunTime(100_000);
    p.running('a', 50_000, 40_000); // seen at 50 s, EE says it has run 40 s: started at 10 s
    p.polled(50_000, true);
    expect(p.dueAt('a')).toBeCloseTo(10_000 + 102_000, 6);
  });

  it('while tiles wait to be sent, waits for as many due tasks as EE has of this job queued', () => {
    const p = policy();
    p.learnRunTime(30_000);
    p.running('a', 20_000, 0);
    p.running('b', 40_000, 0);
    p.polled(40_000, true);
    const ops = [running('a'), running('b'), queued('c', 45_000), queued('d', 45_000)];
    // Two queued in EE: a slot freed by a starts c at once, so the poll can wait for b as well (one read for two ends).
    expect(p.nextPollAt(ops, true)).toBeCloseTo(40_000 + 30_600, 6);
    // Nothing left to send: every end matters for the downloads, so the first due task decides.
    expect(p.nextPollAt(ops, false)).toBeCloseTo(20_000 + 30_600, 6);
    // Never more than poll.maxSeconds after the last read.
    const slow = policy();
    slow.learnRunTime(600_000);
    slow.running('a', 0, 0);
    slow.polled(0, true);
    expect(slow.nextPollAt([running('a')], true)).toBe(MAX);
  });

  it('leaves a queued task out until it can have finished, counted from when it was sent', () => {
    const p = policy(600_000);
    p.learnRunTime(100_000);
    p.running('a', 0, 0);
    p.polled(10_000, true);
    const ops = [running('a'), queued('q', 10_000)];
    expect(p.plan(ops, 102_000, true)).toEqual({ via: 'get', names: ['a'] });
    p.polled(102_000, true);
    expect(p.plan(ops, 110_000, true)).toEqual({ via: 'get', names: ['a', 'q'] });
  });

  it('a queued task read still queued is not read again before it can have run: not on every poll after its send time', () => {
    const p = policy(600_000);
    p.learnRunTime(100_000);
    // Two slots busy with a and b; q was sent at 10 s and waits behind them.
    p.running('a', 0, 0);
    p.running('b', 50_000, 0);
    p.polled(10_000, true);
    const ops = [running('a'), running('b'), queued('q', 10_000)];
    // At 110 s, q's send time is a run time ago: it is read with a, and EE says it is still queued.
    expect(p.plan(ops, 110_000, true)?.names).toEqual(['a', 'q']);
    p.ended('a', 100_000);
    p.stillQueued('q', 110_000);
    p.polled(110_000, true);
    // b is due at ~152 s: read alone; q cannot end before 210 s (it had not started at 110 s).
    const later = [running('b'), queued('q', 10_000)];
    expect(p.plan(later, 153_000, true)?.names).toEqual(['b']);
    p.ended('b', 103_000);
    p.polled(153_000, true);
    // q alone in flight: the next read is when it can have ended, not the next back-off tick.
    const left = [queued('q', 10_000)];
    expect(p.plan(left, 160_000, true)).toBeUndefined();
    expect(p.nextPollAt(left, true)).toBe(210_000);
    expect(p.plan(left, 210_000, true)?.names).toEqual(['q']);
  });

  it('with no run time known yet, polls on the back-off interval: poll.minSeconds growing ×1.5 up to poll.maxSeconds', () => {
    const p = policy();
    const ops = [running('a'), queued('b', 0)];
    p.polled(0, true);
    expect(p.nextPollAt(ops, true)).toBe(MIN);
    expect(p.plan(ops, MIN - 1, true)).toBeUndefined();
    p.polled(MIN, false);
    expect(p.nextPollAt(ops, true)).toBe(MIN + MIN * 1.5);
    let at = MIN;
    for (let k = 0; k < 20; k++) {
      p.polled(at, false);
      at = p.nextPollAt(ops, true);
    }
    p.polled(at, false);
    expect(p.nextPollAt(ops, true) - at).toBe(MAX);
  });

  it('nothing in flight: no poll at all', () => {
    expect(policy().nextPollAt([], true)).toBe(Infinity);
    expect(policy().plan([], 1e12, true)).toBeUndefined();
  });

  it('reads EE’s clock in real time under the emulator’s time scale', () => {
    expect(eeMillis('2026-01-01T00:00:00Z', '2026-01-01T00:02:00Z', scaledClock(systemClock, 60))).toBe(2_000);
    expect(eeMillis('2026-01-01T00:00:00Z', '2026-01-01T00:02:00Z', systemClock)).toBe(120_000);
    expect(eeMillis(undefined, '2026-01-01T00:02:00Z', systemClock)).toBeUndefined();
  });
});
