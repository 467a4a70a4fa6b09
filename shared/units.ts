/**
 * The one unit convention for sizes everywhere (CLI, dashboard, summaries, messages): binary units with
 * their IEC names — 1 KiB = 1024 bytes, 1 MiB = 1024², 1 GiB = 1024³. Google Drive's pages count the
 * same way (a free Drive's "15 GB" is 15 GiB), so the numbers match what Google shows. No Node imports.
 */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(v)} B`;
  return `${Number(v.toFixed(Math.abs(v) < 100 ? 1 : 0))} ${UNITS[u]}`;
}
