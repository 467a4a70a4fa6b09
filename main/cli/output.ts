/** Human-readable figures for terminal output. Sizes: binary units, IEC names (shared/units.ts). */
export { formatBytes } from '../../shared/units';

export function formatCount(n: number): string {
  return n.toLocaleString('en');
}

export function formatPixels(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} Gpx`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} Mpx`;
  return `${formatCount(n)} px`;
}
