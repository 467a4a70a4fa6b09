/** Sizes: binary units with their IEC names, as everywhere in Tessera (shared/units.ts). */
export { formatBytes } from '../shared/units';

export function formatCount(n: number): string {
  return n.toLocaleString('en');
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

export function formatHours(seconds: number): string {
  if (seconds === 0) return '0 EECU-h';
  const h = seconds / 3600;
  if (h < 0.1) return `${(seconds / 60).toFixed(1)} EECU-min`;
  return `${h < 10 ? h.toFixed(2) : h.toFixed(1)} EECU-h`;
}

/**
 * One formatter for every log line: `toLocaleTimeString` with options builds a new Intl formatter per call,
 * and the log panel formats its 60 lines on every render (a long task at 1,000 state changes a second).
 */
const TIME = new Intl.DateTimeFormat('en-GB', { hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const today = new Date();
  const time = TIME.format(d);
  return d.toDateString() === today.toDateString() ? time : `${d.toISOString().slice(0, 10)} ${time}`;
}
