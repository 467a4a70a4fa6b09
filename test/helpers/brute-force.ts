import polygonClipping from 'polygon-clipping';
import { boundsOf, multiPolygonArea, type MultiPolygon } from '../../main/core/geo/geometry';

/**
 * The reference: test every cell of the bounding box by computing its intersection area with the
 * polygon set. Slow and simple — nothing in it is shared with the scanline cover under test.
 */
export function bruteForceCells(mp: MultiPolygon, cellSize: number): Set<string> {
  const b = boundsOf(mp);
  const out = new Set<string>();
  const cellArea = cellSize * cellSize;
  for (let j = Math.floor(b.minY / cellSize) - 1; j <= Math.floor(b.maxY / cellSize) + 1; j++) {
    for (let i = Math.floor(b.minX / cellSize) - 1; i <= Math.floor(b.maxX / cellSize) + 1; i++) {
      const x0 = i * cellSize, y0 = j * cellSize, x1 = x0 + cellSize, y1 = y0 + cellSize;
      const cell: [number, number][][] = [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]];
      const area = multiPolygonArea(polygonClipping.intersection(mp, cell));
      if (area > cellArea * 1e-9) out.add(`${i},${j}`);
    }
  }
  return out;
}
