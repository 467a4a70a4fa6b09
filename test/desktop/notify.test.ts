import { describe, expect, it } from 'vitest';
import { NoteGate, noteForMessage, noteForRunEnd, trayMenu, trayTooltip } from '../../main/electron/notify';
import type { StreamMessage } from '../../shared/dashboard';

const at = new Date(0).toISOString();
const progress = (waiting: 'quota' | null) => ({ job: 'a', total: 2, tiles: {}, queued: 0, running: 0, waiting, throughputPerHour: null, etaSeconds: null, bytesDownloaded: 0, finished: false });

describe('notifications', () => {
  it('job done, needs the user, stopped', () => {
    expect(noteForRunEnd('a', { exitCode: 0, message: null }).title).toBe('a: done');
    expect(noteForRunEnd('a', { exitCode: 3, message: 'sign in again' })).toMatchObject({ title: 'a needs you', body: 'sign in again' });
    expect(noteForRunEnd('a', { exitCode: 2, message: '3 tiles failed' }).title).toBe('a stopped');
  });
  it('a tile failed for good, and Drive full once until it clears', () => {
    const failed: StreamMessage = { kind: 'event', seq: 1, event: { type: 'tile-state', job: 'a', tile: 'r1c2', state: 'failed', attempt: 3, message: 'Computation timed out', at } };
    expect(noteForMessage(failed)).toMatchObject({ title: 'a: tile r1c2 failed', body: 'Computation timed out' });
    expect(noteForMessage({ ...failed, event: { ...failed.event, state: 'running' } } as StreamMessage)).toBeNull();
    const full = { kind: 'event', seq: 2, event: { type: 'job-progress', progress: progress('quota') } } as StreamMessage;
    const gate = new NoteGate();
    expect(gate.pass(noteForMessage(full))?.title).toBe('a: Google Drive is full');
    expect(gate.pass(noteForMessage(full))).toBeNull();
    gate.release('quota:a');
    expect(gate.pass(noteForMessage(full))).not.toBeNull();
    expect(noteForMessage({ kind: 'hello', seq: 0 })).toBeNull();
  });
});

describe('tray', () => {
  it('shows job state and offers pause / resume / quit', () => {
    const jobs = [{ name: 'a', running: true, paused: false, done: 3, total: 10 }, { name: 'b', running: true, paused: true, done: 0, total: 4 }];
    expect(trayTooltip(jobs)).toBe('Tessera: 1 of 2 running — a 3/10, b 0/4 (paused)');
    const menu = trayMenu(jobs);
    expect(menu.map((i) => i.label)).toEqual(['a: 3/10 — running', 'b: 0/4 — paused', 'Show Tessera', 'Pause all', 'Resume all', 'Quit']);
    expect(menu.filter((i) => i.action).every((i) => i.enabled)).toBe(true);
    expect(trayMenu([]).find((i) => i.label === 'Pause all')?.enabled).toBe(false);
    expect(trayTooltip([])).toBe('Tessera: no jobs');
  });
});
