/**
 * Bytes as Google's storage pages write them: units of 1024 labelled KB, MB, GB (a free Drive's limit of
 * 16 106 127 360 bytes reads "15 GB" there and here).
 */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(v)} B`;
  return `${Number(v.toFixed(v < 100 ? 1 : 0))} ${units[u]}`;
}

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

export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const today = new Date();
  const time = d.toLocaleTimeString('en-GB', { hour12: false });
  return d.toDateString() === today.toDateString() ? time : `${d.toISOString().slice(0, 10)} ${time}`;
}
