/**
 * What the desktop tells the user, as pure functions (no `electron` import): the notification for a
 * stream message or a run's end, and the tray's status line and menu model.
 */
import type { StreamMessage } from '../../shared/dashboard';

export interface Note {
  title: string;
  body: string;
  /** Repeats of the same key are not shown again (Drive full fires with every progress event). */
  key: string;
}

export interface RunEndLike {
  exitCode: number;
  message: string | null;
}

/** A run ended: done, needs the user, or stopped. */
export function noteForRunEnd(job: string, end: RunEndLike): Note {
  if (end.exitCode === 0) return { title: `${job}: done`, body: 'Every tile is downloaded and verified.', key: `done:${job}` };
  if (end.exitCode === 3) return { title: `${job} needs you`, body: end.message ?? 'Open Tessera to see what it needs.', key: `needs:${job}` };
  return { title: `${job} stopped`, body: end.message ?? `The run ended with exit code ${end.exitCode}.`, key: `stopped:${job}:${end.exitCode}` };
}

/** A tile that failed for good, or Drive full (the job waits for quota). Other messages: nothing. */
export function noteForMessage(m: StreamMessage): Note | null {
  if (m.kind !== 'event') return null;
  const e = m.event;
  if (e.type === 'tile-state' && e.state === 'failed') {
    return { title: `${e.job}: tile ${e.tile} failed`, body: e.message ?? 'It used all its retries. Retry or skip it in Tessera.', key: `failed:${e.job}:${e.tile}:${e.attempt}` };
  }
  if (e.type === 'job-progress' && e.progress.waiting === 'quota') {
    return { title: `${e.progress.job}: Google Drive is full`, body: 'Exports wait until space is freed (downloaded files are cleaned up as they arrive).', key: `quota:${e.progress.job}` };
  }
  return null;
}

/** Keeps a note from repeating until `release` (Drive full: until the job stops waiting for quota). */
export class NoteGate {
  private readonly shown = new Set<string>();
  pass(note: Note | null): Note | null {
    if (!note || this.shown.has(note.key)) return null;
    this.shown.add(note.key);
    return note;
  }
  release(prefix: string): void {
    for (const k of [...this.shown]) if (k.startsWith(prefix)) this.shown.delete(k);
  }
}

export interface JobLine {
  name: string;
  running: boolean;
  paused: boolean;
  done: number;
  total: number;
}

/** The tray's tooltip: what runs, in one line. */
export function trayTooltip(jobs: JobLine[]): string {
  if (jobs.length === 0) return 'Tessera: no jobs';
  const running = jobs.filter((j) => j.running && !j.paused).length;
  const parts = jobs.map((j) => `${j.name} ${j.done}/${j.total}${j.paused ? ' (paused)' : j.running ? '' : ' (stopped)'}`);
  return `Tessera: ${running} of ${jobs.length} running — ${parts.join(', ')}`;
}

export type TrayAction = { kind: 'show' } | { kind: 'pause-all' } | { kind: 'resume-all' } | { kind: 'quit' };
export interface TrayItem {
  label: string;
  enabled: boolean;
  action?: TrayAction;
}

/** The tray menu: a status line per job, then Show, Pause all, Resume all, Quit. */
export function trayMenu(jobs: JobLine[]): TrayItem[] {
  const anyRunning = jobs.some((j) => j.running && !j.paused);
  const anyPaused = jobs.some((j) => j.paused || !j.running);
  return [
    ...jobs.map((j) => ({ label: `${j.name}: ${j.done}/${j.total}${j.paused ? ' — paused' : j.running ? ' — running' : ''}`, enabled: false })),
    ...(jobs.length === 0 ? [{ label: 'No jobs', enabled: false }] : []),
    { label: 'Show Tessera', enabled: true, action: { kind: 'show' } },
    { label: 'Pause all', enabled: anyRunning, action: { kind: 'pause-all' } },
    { label: 'Resume all', enabled: jobs.length > 0 && anyPaused, action: { kind: 'resume-all' } },
    { label: 'Quit', enabled: true, action: { kind: 'quit' } },
  ];
}
