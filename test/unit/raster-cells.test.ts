import { describe, expect, it } from 'vitest';
import { copyRects, repaintCells, type PaintedRaster } from '../../renderer/map/raster-cells';
import type { GridGeometry } from '../../renderer/map/grid-geometry';

/**
 * Repainting changed cells of the map's finished raster (docs/dashboard.md, "A million units"): the pixels
 * copied to the canvas per frame follow the cells that changed, not the raster's size. At 1,000 changes a
 * second scattered over a million cells, one rectangle around all of them was the whole raster each frame.
 */
const SIDE = 1000;
/** A 1,000 × 1,000 grid of 0.8-pixel cells (a million units fitted to the screen: several share a pixel). */
function grid(): { geo: GridGeometry; drawn: Uint8Array } {
  const xy = new Float64Array(2 * (SIDE + 1) * (SIDE + 1));
  for (let r = 0; r <= SIDE; r++) {
    for (let c = 0; c <= SIDE; c++) {
      xy[2 * (r * (SIDE + 1) + c)] = c * 0.8;
      xy[2 * (r * (SIDE + 1) + c) + 1] = r * 0.8;
    }
  }
  return { geo: { cols: SIDE, rows: SIDE, xy, side: 0.8, minSide: 0.8 }, drawn: new Uint8Array(SIDE * SIDE).fill(1) };
}

function raster(): PaintedRaster {
  const n = 800 * 800;
  return { scale: 1, ox: 0, oy: 0, width: 800, height: 800, pixels: new Uint32Array(n).fill(0x11), rank: new Uint8Array(n).fill(1) };
}

const rankOf = (code: number) => code;
const colourOf = (code: number) => 0x10 + code;

describe('repainting changed cells of the raster', () => {
  it('copies to the canvas only the pixels around the changed cells, wherever they are', () => {
    const g = grid();
    const f = raster();
    // Two changes at opposite corners of the grid, as a burst of state changes scatters them.
    const changed = [0, SIDE * SIDE - 1];
    for (const k of changed) g.drawn[k] = 5;
    const rects = repaintCells(f, g, changed, [], 3, rankOf, colourOf);
    const areas: number[] = [];
    for (let i = 0; i < rects.length; i += 4) areas.push((rects[i + 2]! - rects[i]!) * (rects[i + 3]! - rects[i + 1]!));
    expect(areas.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(changed.length * 4);

    const copies: number[][] = [];
    copyRects({ putImageData: (_i: object, _x: number, _y: number, ...rect: number[]) => void copies.push(rect) }, {}, rects);
    expect(copies.map(([, , w, h]) => w! * h!).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(changed.length * 4);
    // The changed cells show their new colour (the highest rank wins a shared pixel); the rest is untouched.
    expect(f.pixels[0]).toBe(colourOf(5));
    expect(f.pixels[800 * 800 - 1]).toBe(colourOf(5));
    expect(f.pixels[400 * 800 + 400]).toBe(0x11);
  });

  it('copies the union once when a frame has very many changed cells', () => {
    const copies: number[][] = [];
    const rects: number[] = [];
    for (let k = 0; k < 1000; k++) rects.push(k % 800, 0, (k % 800) + 1, 1);
    copyRects({ putImageData: (_i: object, _x: number, _y: number, ...rect: number[]) => void copies.push(rect) }, {}, rects);
    expect(copies).toEqual([[0, 0, 800, 1]]);
  });
});
