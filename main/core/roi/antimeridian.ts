import { UserError } from '../errors';
import type { MultiPolygon, Ring } from '../geo/geometry';
import polygonClipping from 'polygon-clipping';

/**
 * Longitude/latitude rings that cross the antimeridian are stored with a jump between +180 and −180.
 * Read literally they become a band around the globe; the convention (GDAL, RFC 7946 §3.1.9) is that an
 * edge spanning more than 180° of longitude takes the short way across ±180. `unwrapRing` makes such a
 * ring continuous (longitudes may leave [−180, 180]); a ring that does not close after unwrapping goes
 * round a pole and is refused.
 */
export function unwrapRing(ring: Ring, where: string): { ring: Ring; crossed: boolean } {
  let shift = 0;
  let crossed = false;
  const out: Ring = [];
  let prev = ring[0]![0];
  for (const [lon, lat] of ring) {
    const d = lon - prev;
    if (d > 180) shift -= 360;
    else if (d < -180) shift += 360;
    if (Math.abs(d) > 180) crossed = true;
    prev = lon;
    out.push([lon + shift, lat]);
  }
  const first = out[0]!;
  const last = out[out.length - 1]!;
  if (crossed && ring.length > 1 && ring[0]![0] === ring[ring.length - 1]![0] && Math.abs(first[0] - last[0]) > 180) {
    throw new UserError(
      `${where} goes all the way round a pole; give polar regions in a polar CRS (e.g. EPSG:3413 or EPSG:3031) or split the outline`,
    );
  }
  return { ring: out, crossed };
}

/**
 * Brings an unwrapped geographic polygon set back into [−180, 180]: the parts beyond ±180 are cut off
 * and shifted by 360°, so a tile grid in a geographic CRS sees both sides of the antimeridian.
 */
export function foldLongitudes(mp: MultiPolygon): MultiPolygon {
  const parts: MultiPolygon = [];
  for (let k = -2; k <= 2; k++) {
    const west = -180 + 360 * k;
    const box: Ring = [[west, -90], [west + 360, -90], [west + 360, 90], [west, 90], [west, -90]];
    const cut = polygonClipping.intersection(mp, [box]);
    for (const poly of cut) parts.push(poly.map((ring) => ring.map(([x, y]): [number, number] => [x - 360 * k, y])));
  }
  return parts;
}
