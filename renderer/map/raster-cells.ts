import { NO_UNIT } from '../../shared/compact-view';
import { cellBox, type GridGeometry } from './grid-geometry';

/**
 * Repainting a few grid cells in a finished raster (docs/dashboard.md, "A million units"): at 1,000 state
 * changes a second a full pass over a million cells per frame would keep the page busy; a changed cell's
 * pixels are cleared and painted again from every cell and tile that reaches them, the highest rank
 * winning as in the full pass. Same pixel rule as the full pass (`pixelRect`), so both agree pixel for pixel.
 */
export interface PaintedRaster {
  scale: number;
  ox: number;
  oy: number;
  width: number;
  height: number;
  pixels: Uint32Array;
  rank: Uint8Array;
}

/** A tile drawn from an object: its box at zoom 0, rank and colour. */
export interface BoxPaint {
  box: readonly [number, number, number, number];
  rank: number;
  colour: number;
}

/**
 * The pixels [x0, y0, x1, y1) of a box at zoom 0 (at least one pixel: neighbours meet, and a sub-pixel tile
 * still shows), clipped to the canvas; written into `out`, false when none is on the canvas.
 */
export function pixelRect(f: Pick<PaintedRaster, 'scale' | 'ox' | 'oy' | 'width' | 'height'>, bx0: number, by0: number, bx1: number, by1: number, out: Int32Array): boolean {
  const x0 = Math.max(0, Math.round(bx0 * f.scale - f.ox));
  const y0 = Math.max(0, Math.round(by0 * f.scale - f.oy));
  const x1 = Math.min(f.width, Math.max(x0 + 1, Math.round(bx1 * f.scale - f.ox)));
  const y1 = Math.min(f.height, Math.max(y0 + 1, Math.round(by1 * f.scale - f.oy)));
  out[0] = x0;
  out[1] = y0;
  out[2] = x1;
  out[3] = y1;
  return x1 > x0 && y1 > y0;
}

/** Paints `rect` ∩ `clip` with a colour wherever its rank is not below the pixel's. */
function fill(f: PaintedRaster, rect: Int32Array, clip: Int32Array, rank: number, colour: number): void {
  const x0 = Math.max(rect[0]!, clip[0]!);
  const x1 = Math.min(rect[2]!, clip[2]!);
  const y0 = Math.max(rect[1]!, clip[1]!);
  const y1 = Math.min(rect[3]!, clip[3]!);
  for (let y = y0; y < y1; y++) {
    for (let i = y * f.width + x0, stop = y * f.width + x1; i < stop; i++) {
      if (rank < f.rank[i]!) continue;
      f.rank[i] = rank;
      f.pixels[i] = colour;
    }
  }
}

/**
 * Repaints the pixels of the given cells; answers the rectangles of pixels changed, four numbers
 * (x0, y0, x1, y1) per repainted cell, to copy to the canvas. One rectangle per cell, not their union: at
 * 1,000 changes a second scattered over a million cells the union is the whole raster, and copying it to
 * the canvas every frame was most of a frame (docs/dashboard.md, "A million units"). `reach`: how many
 * cells around a changed one may share its pixels (cells smaller than a pixel).
 */
export function repaintCells(
  f: PaintedRaster,
  grid: { geo: GridGeometry; drawn: Uint8Array },
  cells: Iterable<number>,
  objects: readonly BoxPaint[],
  reach: number,
  rankOf: (code: number) => number,
  colourOf: (code: number) => number,
): number[] {
  const { geo, drawn } = grid;
  const { cols, rows } = geo;
  const clip = new Int32Array(4);
  const rect = new Int32Array(4);
  const corners = new Float64Array(4);
  // Called for every neighbour of every changed cell: no allocation per call.
  const box = (c: number, r: number): boolean => {
    cellBox(geo, c, r, corners);
    return pixelRect(f, corners[0]!, corners[1]!, corners[2]!, corners[3]!, rect);
  };
  const dirty: number[] = [];
  for (const k of cells) {
    const c0 = k % cols;
    const r0 = (k - c0) / cols;
    if (!box(c0, r0)) continue;
    clip.set(rect);
    for (let y = clip[1]!; y < clip[3]!; y++) {
      f.pixels.fill(0, y * f.width + clip[0]!, y * f.width + clip[2]!);
      f.rank.fill(0, y * f.width + clip[0]!, y * f.width + clip[2]!);
    }
    for (let r = Math.max(0, r0 - reach); r <= Math.min(rows - 1, r0 + reach); r++) {
      for (let c = Math.max(0, c0 - reach); c <= Math.min(cols - 1, c0 + reach); c++) {
        const code = drawn[r * cols + c]!;
        if (code === NO_UNIT || !box(c, r)) continue;
        fill(f, rect, clip, rankOf(code), colourOf(code));
      }
    }
    for (const o of objects) {
      if (pixelRect(f, o.box[0], o.box[1], o.box[2], o.box[3], rect)) fill(f, rect, clip, o.rank, o.colour);
    }
    dirty.push(clip[0]!, clip[1]!, clip[2]!, clip[3]!);
  }
  return dirty;
}

/** Past this many rectangles one copy of their union is cheaper than a copy each. */
const RECTS_APART = 256;

/** Copies the repainted rectangles (`repaintCells`) from the raster's image to the canvas. */
export function copyRects<Image>(
  ctx: { putImageData(image: Image, dx: number, dy: number, x: number, y: number, w: number, h: number): void },
  image: Image,
  rects: readonly number[],
): void {
  if (rects.length === 0) return;
  if (rects.length > 4 * RECTS_APART) {
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (let i = 0; i < rects.length; i += 4) {
      x0 = Math.min(x0, rects[i]!);
      y0 = Math.min(y0, rects[i + 1]!);
      x1 = Math.max(x1, rects[i + 2]!);
      y1 = Math.max(y1, rects[i + 3]!);
    }
    ctx.putImageData(image, 0, 0, x0, y0, x1 - x0, y1 - y0);
    return;
  }
  for (let i = 0; i < rects.length; i += 4) ctx.putImageData(image, 0, 0, rects[i]!, rects[i + 1]!, rects[i + 2]! - rects[i]!, rects[i + 3]! - rects[i + 1]!);
}
