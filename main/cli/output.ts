/** Human-readable figures for terminal output. */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en');
}

export function formatPixels(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} Gpx`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} Mpx`;
  return `${formatCount(n)} px`;
}
