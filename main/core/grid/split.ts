import polygonClipping from 'polygon-clipping';
import { multiPolygonArea, type MultiPolygon } from '../geo/geometry';
import type { Tile } from './grid';
import { tileBounds } from './grid';

type TileGeometry = Pick<Tile, 'id' | 'crs' | 'crsTransform' | 'dimensions'>;

/**
 * The four children of a tile (docs/grid.md#split-children): `_q0` top-left, `_q1` top-right, `_q2` bottom-left,
 * `_q3` bottom-right; the left / top child gets ⌈w/2⌉ / ⌈h/2⌉ pixels, at whole-pixel offsets, so the
 * children cover the parent exactly on the same pixel lattice. Children of zero width or height (a one-pixel
 * parent) and children that meet the ROI in no area are left out.
 */
export function splitTile(tile: TileGeometry, roi: MultiPolygon): TileGeometry[] {
  const [s, , x0, , sy, y1] = tile.crsTransform;
  const [w, h] = tile.dimensions;
  const wl = Math.ceil(w / 2);
  const ht = Math.ceil(h / 2);
  const quads: [string, number, number, number, number][] = [
    ['q0', 0, 0, wl, ht],
    ['q1', wl, 0, w - wl, ht],
    ['q2', 0, ht, wl, h - ht],
    ['q3', wl, ht, w - wl, h - ht],
  ];
  const out: TileGeometry[] = [];
  for (const [q, dx, dy, cw, ch] of quads) {
    if (cw <= 0 || ch <= 0) continue;
    const child: TileGeometry = {
      id: `${tile.id}_${q}`,
      crs: tile.crs,
      crsTransform: [s, 0, x0 + dx * s, 0, sy, y1 + dy * sy],
      dimensions: [cw, ch],
    };
    if (meetsInArea(child, roi)) out.push(child);
  }
  return out;
}

function meetsInArea(tile: TileGeometry, roi: MultiPolygon): boolean {
  const [x0, y0, x1, y1] = tileBounds(tile);
  const rect: [number, number][][] = [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]];
  const area = multiPolygonArea(polygonClipping.intersection(roi, rect));
  return area > (x1 - x0) * (y1 - y0) * 1e-9;
}

/** How many times a tile was split: the number of `_q` steps in its id. */
export function splitDepthOf(id: string): number {
  return (id.match(/_q[0-3]/g) ?? []).length;
}
