/**
 * Tile and ROI outlines travel as flat rings `[lon0, lat0, lon1, lat1, …]` (shared/dashboard.ts). Both the
 * host and the renderer need the box around them, to fit the map.
 */
export function boundsOfFlatRings(...groups: Iterable<readonly number[]>[]): [number, number, number, number] | null {
  let w = Infinity;
  let s = Infinity;
  let e = -Infinity;
  let n = -Infinity;
  for (const rings of groups) {
    for (const flat of rings) {
      for (let k = 0; k + 1 < flat.length; k += 2) {
        const x = flat[k]!;
        const y = flat[k + 1]!;
        if (x < w) w = x;
        if (x > e) e = x;
        if (y < s) s = y;
        if (y > n) n = y;
      }
    }
  }
  return Number.isFinite(w) ? [w, s, e, n] : null;
}
