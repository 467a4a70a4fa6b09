/**
 * The compact snapshot (docs/dashboard.md, "A million units"): the same jobs as `DashboardSnapshot`, but the
 * units of a job's regular grid travel as its parameters and one byte per unit, not one object each. A
 * million units are then about 11 MB of base64 (corners 8 MB, states and attempts 1 MB each) parsed in
 * milliseconds, instead of a million `{ id, state, attempt, ring }` objects validated and kept one by one.
 * Units off the grid (split children, irregular tiles) still come as `tiles` objects.
 */
import { z } from 'zod';
import { TILE_STATES, type TileState } from './contract';
import { JobViewSchema } from './dashboard';

/** Base64 text; checked by decoding it (a regular expression over megabytes costs more than the decoding). */
const Base64 = z.string();

/** How far (degrees, ~1 cm) an interpolated corner may be from the true one. */
export const CORNER_TOLERANCE = 1e-7;

/** The columns (or rows) at which corners are given for a step: 0, step, 2·step, …, n. */
export function knots(n: number, step: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k += step) out.push(k);
  out.push(n);
  return out;
}

/** The byte of a cell without a unit (outside the ROI, or a unit sent as an object instead). */
export const NO_UNIT = 255;

export const CompactGridSchema = z.object({
  /**
   * A unit's tile id: `{i}` and `{j}` replaced by its column `i0 + c` and row `j0 + r`, negative numbers
   * written `m{n}` (docs/grid.md#tile-ids: `x{i}_y{j}`); with periods the unit id is `{period}@{tile id}`.
   */
  template: z.string().regex(/\{i\}[^]*\{j\}/),
  i0: z.number().int(),
  j0: z.number().int(),
  cols: z.number().int().positive(),
  rows: z.number().int().positive(),
  /** The job's period ids in plan order; empty for a job without periods. */
  periods: z.array(z.string().regex(/^[A-Za-z0-9-]{1,20}$/)),
  /** Where `corners` are measured from: [lon, lat] in degrees. */
  origin: z.tuple([z.number(), z.number()]),
  /**
   * Corners are given every `step` columns and rows (the last column and row always); those between are
   * interpolated bilinearly. The host picks the largest step whose interpolation stays within
   * CORNER_TOLERANCE of the true corners (a grid straight in degrees: any step; a projected one: a few tiles).
   */
  step: z.number().int().positive(),
  /**
   * The tiles' corners in EPSG:4326 at every `step`-th column and row, row by row from the corner of
   * column i0 and row j0: [lon − origin lon, lat − origin lat] as little-endian Float32, base64 (a tile's
   * ring is its four corners; offsets keep Float32 within 2⁻²⁴ of the grid's extent: centimetres over a
   * country, decimetres over a continent).
   */
  corners: Base64,
  /** One byte per unit, period by period, then row by row: its index in TILE_STATES, NO_UNIT where there is none. Base64. */
  states: Base64,
  /** One byte per unit, in the same order: its attempt (255 for 255 or more). Base64. */
  attempts: Base64,
});
export type CompactGrid = z.infer<typeof CompactGridSchema>;

/** A job as in `DashboardSnapshot`, whose `tiles` hold only the units that are not on its grid. */
export const CompactJobSchema = JobViewSchema.extend({
  /** The job's regular grid (none when its units are not on one). */
  grid: CompactGridSchema.nullable(),
});
export type CompactJob = z.infer<typeof CompactJobSchema>;

export const CompactSnapshotSchema = z.object({
  seq: z.number().int().nonnegative(),
  jobs: z.array(CompactJobSchema),
});
export type CompactSnapshot = z.infer<typeof CompactSnapshotSchema>;

/** State ↔ byte: the index in TILE_STATES (the contract's order). */
export const STATE_CODE: Readonly<Record<TileState, number>> = Object.fromEntries(TILE_STATES.map((s, k) => [s, k])) as Record<TileState, number>;
export const stateOfCode = (code: number): TileState | undefined => TILE_STATES[code];

/** A grid's arrays, decoded and checked against its size. */
export interface GridData {
  readonly template: string;
  readonly i0: number;
  readonly j0: number;
  readonly cols: number;
  readonly rows: number;
  readonly periods: readonly string[];
  readonly origin: readonly [number, number];
  /** (cols + 1) × (rows + 1) × [dlon, dlat]. */
  readonly corners: Float32Array;
  /** max(1, periods) × rows × cols. */
  readonly states: Uint8Array;
  readonly attempts: Uint8Array;
}

/** `corners`: at the knots of `step` (see `knots`), [dlon, dlat] row by row. */
export function encodeGrid(g: Omit<GridData, 'corners' | 'states' | 'attempts'> & { step: number; corners: Float32Array; states: Uint8Array; attempts: Uint8Array }): CompactGrid {
  return {
    template: g.template, i0: g.i0, j0: g.j0, cols: g.cols, rows: g.rows, periods: [...g.periods], origin: [g.origin[0], g.origin[1]], step: g.step,
    corners: toBase64(new Uint8Array(g.corners.buffer, g.corners.byteOffset, g.corners.byteLength)),
    states: toBase64(g.states),
    attempts: toBase64(g.attempts),
  };
}

/** Throws when an array does not have the grid's size (a truncated or foreign answer). */
export function decodeGrid(g: CompactGrid): GridData {
  const units = g.cols * g.rows * Math.max(1, g.periods.length);
  const cornerBytes = fromBase64(g.corners);
  const states = fromBase64(g.states);
  const attempts = fromBase64(g.attempts);
  const xs = knots(g.cols, g.step);
  const ys = knots(g.rows, g.step);
  const points = xs.length * ys.length;
  if (cornerBytes.byteLength !== points * 8) throw new Error(`compact grid: ${cornerBytes.byteLength} bytes of corners for ${points} corners (8 each)`);
  if (states.length !== units || attempts.length !== units) throw new Error(`compact grid: ${states.length} states and ${attempts.length} attempts for ${units} units`);
  // A fresh, aligned buffer: base64 decoders may answer a view at any offset.
  const given = new Float32Array(cornerBytes.byteLength / 4);
  new Uint8Array(given.buffer).set(cornerBytes);
  if (!littleEndian()) {
    const v = new DataView(cornerBytes.buffer, cornerBytes.byteOffset, cornerBytes.byteLength);
    for (let k = 0; k < given.length; k++) given[k] = v.getFloat32(4 * k, true);
  }
  const corners = g.step === 1 ? given : interpolate(given, xs, ys, g.cols, g.rows);
  return { template: g.template, i0: g.i0, j0: g.j0, cols: g.cols, rows: g.rows, periods: g.periods, origin: g.origin, corners, states, attempts };
}

/** Every corner from those at the knots, bilinearly. */
function interpolate(given: Float32Array, xs: number[], ys: number[], cols: number, rows: number): Float32Array {
  const out = new Float32Array((cols + 1) * (rows + 1) * 2);
  const nx = xs.length;
  let Y = 0;
  for (let r = 0; r <= rows; r++) {
    while (Y < ys.length - 2 && r >= ys[Y + 1]!) Y++;
    const v = (r - ys[Y]!) / (ys[Y + 1]! - ys[Y]!);
    let X = 0;
    for (let c = 0; c <= cols; c++) {
      while (X < nx - 2 && c >= xs[X + 1]!) X++;
      const u = (c - xs[X]!) / (xs[X + 1]! - xs[X]!);
      const a = 2 * (Y * nx + X);
      const b = a + 2;
      const d = a + 2 * nx;
      const e = d + 2;
      const k = 2 * (r * (cols + 1) + c);
      for (let q = 0; q < 2; q++) {
        out[k + q] = (1 - v) * ((1 - u) * given[a + q]! + u * given[b + q]!) + v * ((1 - u) * given[d + q]! + u * given[e + q]!);
      }
    }
  }
  return out;
}

/** The tile id of column `c`, row `r` of a grid. */
export function tileIdAt(g: Pick<GridData, 'template' | 'i0' | 'j0'>, c: number, r: number): string {
  return g.template.replace('{i}', signed(g.i0 + c)).replace('{j}', signed(g.j0 + r));
}

/** The inverse of `tileIdAt` for one grid: [column, row] of a tile id, or undefined when it is not one of its cells. */
export function cellParser(g: Pick<GridData, 'template' | 'i0' | 'j0' | 'cols' | 'rows'>): (tileId: string) => [number, number] | undefined {
  const [before, middle, after] = g.template.split(/\{i\}|\{j\}/) as [string, string, string];
  const re = new RegExp(`^${escape(before)}(m?\\d+)${escape(middle)}(m?\\d+)${escape(after)}$`);
  return (id) => {
    const m = re.exec(id);
    if (!m) return undefined;
    const c = unsigned(m[1]!) - g.i0;
    const r = unsigned(m[2]!) - g.j0;
    return c >= 0 && r >= 0 && c < g.cols && r < g.rows ? [c, r] : undefined;
  };
}

/** A cell's ring: its four corners, [lon, lat, …], counter-clockwise from (c, r). */
export function ringAt(g: Pick<GridData, 'cols' | 'origin' | 'corners'>, c: number, r: number): number[] {
  const w = g.cols + 1;
  const out: number[] = [];
  for (const [dc, dr] of [[0, 0], [1, 0], [1, 1], [0, 1]] as const) {
    const k = 2 * ((r + dr) * w + c + dc);
    out.push(round7(g.origin[0] + g.corners[k]!), round7(g.origin[1] + g.corners[k + 1]!));
  }
  return out;
}

function round7(v: number): number {
  return Math.round(v * 1e7) / 1e7;
}

function signed(n: number): string {
  return n < 0 ? `m${-n}` : String(n);
}

function unsigned(s: string): number {
  return s.startsWith('m') ? -Number(s.slice(1)) : Number(s);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function littleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

interface NodeBuffer {
  from(data: Uint8Array | string, encoding?: string): Uint8Array & { toString(encoding: string): string };
}
const NodeBuf = (globalThis as { Buffer?: NodeBuffer }).Buffer;

/** The platform's own codec where it has one (Chromium 140+, Node 25+). */
interface NativeBase64 {
  toBase64?: (this: Uint8Array) => string;
}
const nativeFrom = (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array }).fromBase64;

export function toBase64(bytes: Uint8Array): string {
  const native = (Uint8Array.prototype as NativeBase64).toBase64;
  if (native) return native.call(bytes);
  if (NodeBuf) return NodeBuf.from(bytes).toString('base64');
  let s = '';
  for (let k = 0; k < bytes.length; k += 0x8000) s += String.fromCharCode(...bytes.subarray(k, k + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  if (nativeFrom) return nativeFrom(text);
  if (NodeBuf) {
    const b = NodeBuf.from(text, 'base64');
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let k = 0; k < s.length; k++) out[k] = s.charCodeAt(k);
  return out;
}
