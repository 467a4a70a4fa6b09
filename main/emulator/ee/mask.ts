/**
 * The emulator's model of an image mask: the image is valid inside every geometry it was clipped to
 * (`Image.clip`), masked elsewhere. Each clip is a set of closed rings in whole-grid pixel coordinates
 * (column, row; pixel (c, r) spans [c, c+1) × [r, r+1)); a pixel is valid when its centre lies inside
 * every clip, rings combined by the even-odd rule (so holes and multi-polygons work). Masks made by
 * `updateMask` with another image are not modelled (the emulator never computes pixel values).
 */
export type Ring = readonly (readonly [number, number])[];
/** One clip geometry: its rings. */
export type Clip = readonly Ring[];

/** Half-open column intervals [c0, c1). */
export type Intervals = readonly (readonly [number, number])[];

/** The columns of `row` (0 ≤ c < width) whose pixel centres are inside every clip. */
export function rowIntervals(clips: readonly Clip[], row: number, width: number): Intervals {
  let out: [number, number][] = [[0, width]];
  for (const clip of clips) {
    out = intersect(out, clipIntervals(clip, row + 0.5, width));
    if (out.length === 0) break;
  }
  return out;
}

/** Whether any pixel of the window has its centre inside every clip. */
export function windowHasValidPixels(clips: readonly Clip[], col0: number, row0: number, width: number, height: number, gridWidth: number): boolean {
  if (clips.length === 0) return true;
  for (let r = row0; r < row0 + height; r++) {
    for (const [a, b] of rowIntervals(clips, r, gridWidth)) if (a < col0 + width && b > col0) return true;
  }
  return false;
}

/** Whether the point (in pixel coordinates) is inside every clip. */
export function pointInClips(clips: readonly Clip[], x: number, y: number): boolean {
  for (const clip of clips) {
    let inside = false;
    for (const ring of clip) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i] as readonly [number, number];
        const [xj, yj] = ring[j] as readonly [number, number];
        if (yi > y !== yj > y && x < xi + ((y - yi) * (xj - xi)) / (yj - yi)) inside = !inside;
      }
    }
    if (!inside) return false;
  }
  return true;
}

/** Columns whose centre (c + 0.5) lies inside the clip on the line at height y (even-odd). */
function clipIntervals(clip: Clip, y: number, width: number): [number, number][] {
  const xs: number[] = [];
  for (const ring of clip) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i] as readonly [number, number];
      const [xj, yj] = ring[j] as readonly [number, number];
      if (yi > y !== yj > y) xs.push(xi + ((y - yi) * (xj - xi)) / (yj - yi));
    }
  }
  xs.sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (let k = 0; k + 1 < xs.length; k += 2) {
    // Centre c + 0.5 in [x0, x1)  ⇔  c in [ceil(x0 − 0.5), ceil(x1 − 0.5)).
    const c0 = Math.max(0, Math.ceil((xs[k] as number) - 0.5));
    const c1 = Math.min(width, Math.ceil((xs[k + 1] as number) - 0.5));
    if (c1 > c0) out.push([c0, c1]);
  }
  return out;
}

function intersect(a: readonly (readonly [number, number])[], b: readonly (readonly [number, number])[]): [number, number][] {
  const out: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [a0, a1] = a[i] as readonly [number, number];
    const [b0, b1] = b[j] as readonly [number, number];
    const lo = Math.max(a0, b0);
    const hi = Math.min(a1, b1);
    if (hi > lo) out.push([lo, hi]);
    if (a1 < b1) i++;
    else j++;
  }
  return out;
}
