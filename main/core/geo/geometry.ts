/** Plain coordinate arrays, GeoJSON-shaped, in whatever CRS the holder says. */
export type Position = [number, number];
export type Ring = Position[];
export type Polygon = Ring[];
export type MultiPolygon = Polygon[];

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** Shoelace area, positive for counter-clockwise rings (closing point optional). */
export function signedRingArea(ring: Ring): number {
  let sum = 0;
  const n = ring.length;
  for (let k = 0; k < n; k++) {
    const a = ring[k]!;
    const b = ring[(k + 1) % n]!;
    sum += a[0] * b[1] - b[0] * a[1];
  }
  return sum / 2;
}

/** Area of a polygon set whose rings do not overlap (outer minus holes). */
export function multiPolygonArea(mp: MultiPolygon): number {
  let area = 0;
  for (const poly of mp) {
    poly.forEach((ring, k) => {
      const a = Math.abs(signedRingArea(ring));
      area += k === 0 ? a : -a;
    });
  }
  return area;
}

export function boundsOf(mp: MultiPolygon): Bounds {
  const b = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
  for (const poly of mp)
    for (const ring of poly)
      for (const [x, y] of ring) {
        if (x < b.minX) b.minX = x;
        if (x > b.maxX) b.maxX = x;
        if (y < b.minY) b.minY = y;
        if (y > b.maxY) b.maxY = y;
      }
  return b;
}

export function vertexCount(mp: MultiPolygon): number {
  let n = 0;
  for (const poly of mp) for (const ring of poly) n += ring.length;
  return n;
}
