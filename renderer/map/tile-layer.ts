import L from 'leaflet';
import { TILE_STATES, type TileState } from '../../shared/contract';
import { STATE_STYLES } from '../states';
import { NO_UNIT, STATE_CODE } from '../../shared/compact-view';
import { cellBox, type GridGeometry } from './grid-geometry';
import { copyRects, repaintCells, type PaintedRaster } from './raster-cells';
import { LaterFrame } from './later-frame';

/**
 * Every tile of a job on one canvas, drawn in batches: one path per state (all its tiles), filled once and
 * stroked once, failed tiles last so their heavy outline lies above their neighbours. Tiles are kept as
 * Web-Mercator coordinates at zoom 0 in one Float64Array each, projected once; a redraw only multiplies,
 * culls by bounding box and draws. State changes mark the layer dirty: it is redrawn at most once per
 * frame, and never more often than keeps drawing under a fifth of the main thread (a 100,000-tile redraw
 * takes tens of milliseconds). Leaflet keeps one object, event hooks and a style per path: at 100,000
 * tiles that is seconds of first paint and a redraw of every path on any change.
 */
interface Entry {
  state: TileState;
  /** [x, y, …] at zoom 0 (256 px world). */
  xy: Float64Array;
  box: [number, number, number, number];
}

/** Drawn bottom to top: quiet states first, trouble last. */
const ORDER: TileState[] = [...TILE_STATES.filter((s) => s !== 'retrying' && s !== 'failed'), 'retrying', 'failed'];

/**
 * Below this many screen pixels per tile (its longer side) the layer draws an aggregated raster instead of
 * paths (docs/previews.md, "A million units"): one canvas pixel per tile at its centre, in its state's
 * colour, a later state in ORDER winning a pixel shared by several tiles (so a failure always shows). A
 * million tiles is then one pass over typed arrays and one putImageData, not a million sub-pixel paths.
 */
export const RASTER_BELOW_PX = 3;
/** Longest slice of a raster pass (a long task is 50 ms). */
const RASTER_SLICE_MS = 12;
/** The canvas's margin beyond the view on each side, as a fraction of the view (Leaflet's renderers: 0.1). */
export const CANVAS_MARGIN = 0.1;
/**
 * Changed cells of a finished raster are repainted at most this often: each repaint is a compositor hand-off
 * of the canvas, and one while the compositor still holds the last frame copies the whole canvas.
 */
const REPAINT_EVERY_MS = 100;

interface RasterPass {
  scale: number;
  ox: number;
  oy: number;
  width: number;
  height: number;
  view: [number, number, number, number];
  entries: Entry[];
  next: number;
  image: ImageData;
  pixels: Uint32Array;
  rank: Uint8Array;
  /** [x0, y0, x1, y1) of the pixels written so far (shared with the buffers: the next pass clears only that). */
  written: [number, number, number, number];
}

/** Each state's colour as packed RGBA (little-endian ABGR) for the raster, and its rank in ORDER. */
const PACKED = new Map<TileState, number>();
const RANK = new Map<TileState, number>();
/** The same by state byte (shared/compact-view.ts), for the grid's cells. */
const PACKED_BY_CODE = new Uint32Array(256);
const RANK_BY_CODE = new Uint8Array(256);
for (const [k, state] of ORDER.entries()) {
  const hex = STATE_STYLES[state].fillOpacity > 0 ? STATE_STYLES[state].fill : STATE_STYLES[state].stroke;
  const n = parseInt(hex.slice(1), 16);
  PACKED.set(state, ((0xff << 24) | ((n & 0xff) << 16) | (n & 0xff00) | ((n >> 16) & 0xff)) >>> 0);
  RANK.set(state, k + 1);
  PACKED_BY_CODE[STATE_CODE[state]] = PACKED.get(state)!;
  RANK_BY_CODE[STATE_CODE[state]] = k + 1;
}

/**
 * Runs `f` in a task of its own (other work, input, frames come between), without the 4 ms that browsers add
 * to nested `setTimeout(0)`s: a million-cell pass in 12 ms slices would otherwise idle a quarter of the time.
 * Answers the function that cancels it.
 */
function soonTask(f: () => void): () => void {
  const channel = new MessageChannel();
  let live = true;
  channel.port1.onmessage = () => {
    channel.port1.close();
    if (live) f();
  };
  channel.port2.postMessage(null);
  return () => {
    live = false;
    channel.port1.close();
  };
}

/** A compact grid drawn from bytes: its geometry and the state byte drawn in each cell (NO_UNIT: none). */
interface GridCells {
  geo: GridGeometry;
  drawn: Uint8Array;
  units: number;
}

export class TileCanvasLayer extends L.Layer {
  private readonly tiles = new Map<string, Entry>();
  private canvas: HTMLCanvasElement | null = null;
  private origin = L.point(0, 0);
  private topLeft: L.LatLng | null = null;
  private zoom = 0;
  /** The next full draw, kept to a fifth of the main thread (invalidate). */
  private readonly redraw = new LaterFrame(() => this.draw());
  private lastDraw = 0;
  private drawMs = 0;
  /** Sum of the tiles' longer sides at zoom 0 (world pixels): their mean decides between paths and the raster. */
  private sides = 0;
  /** How the last frame was drawn (tests and the bench read it from the canvas). */
  mode: 'paths' | 'raster' = 'paths';

  constructor(private readonly paneName: string) {
    super();
  }

  get size(): number {
    return this.tiles.size + (this.grid?.units ?? 0);
  }

  clear(): void {
    this.tiles.clear();
    this.grid = null;
    this.list = null;
    this.sides = 0;
    this.invalidate();
  }

  private grid: GridCells | null = null;

  /** The tiles drawn from objects (the grid's cells not counted). */
  get objectCount(): number {
    return this.tiles.size;
  }

  clearGrid(): void {
    if (!this.grid) return;
    this.grid = null;
    this.invalidate();
  }

  /** The compact grid's cells, drawn from `drawn` (a state byte per cell, row by row; the layer keeps it). */
  setGrid(geo: GridGeometry, drawn: Uint8Array): void {
    let units = 0;
    for (let k = 0; k < drawn.length; k++) if (drawn[k] !== NO_UNIT) units++;
    this.grid = { geo, drawn, units };
    this.invalidate();
  }

  /**
   * One grid cell's drawn state byte changed. On a finished raster only that cell's pixels are painted again
   * (./raster-cells.ts; during a pass, at its end): a full pass over a million cells per change would keep
   * the page busy at 1,000 changes a second.
   */
  setCell(k: number, code: number): void {
    const g = this.grid;
    if (!g || g.drawn[k] === code) return;
    if (g.drawn[k] === NO_UNIT) g.units++;
    else if (code === NO_UNIT) g.units--;
    g.drawn[k] = code;
    if (this.mode === 'raster' && (this.painted || this.raster)) {
      this.dirtyCells.add(k);
      if (!this.raster) this.repaintSoon();
    } else this.invalidate();
  }

  /** The last finished raster (buffers and frame), while the canvas shows it. */
  private painted: PaintedRaster & { image: ImageData } | null = null;
  private readonly dirtyCells = new Set<number>();
  private readonly repaintLater = new LaterFrame(() => {
    this.lastRepaint = performance.now();
    this.repaint();
  });
  private lastRepaint = 0;

  private repaintSoon(): void {
    this.repaintLater.schedule(this.lastRepaint + REPAINT_EVERY_MS - performance.now());
  }

  private repaint(): void {
    const f = this.painted;
    const g = this.grid;
    const canvas = this.canvas;
    if (!f || !g || !canvas || this.raster || !this.dirtyCells.size) return;
    // Cells this many apart may share a pixel (cells smaller than a pixel); too many: a full pass is cheaper.
    const reach = Math.ceil(1 / Math.max(1e-9, g.geo.minSide * f.scale)) + 1;
    if (reach > 16 || this.dirtyCells.size > 20_000) {
      this.dirtyCells.clear();
      this.invalidate();
      return;
    }
    const objects = (this.list ??= [...this.tiles.values()]).map((e) => ({ box: e.box, rank: RANK.get(e.state)!, colour: PACKED.get(e.state)! }));
    const rects = repaintCells(f, g, this.dirtyCells, objects, reach, (c) => RANK_BY_CODE[c]!, (c) => PACKED_BY_CODE[c]!);
    this.dirtyCells.clear();
    copyRects(canvas.getContext('2d')!, f.image, rects);
  }

  /** The state byte drawn in a grid cell (NO_UNIT when there is no grid or no unit there). */
  cellCode(k: number): number {
    return this.grid?.drawn[k] ?? NO_UNIT;
  }

  has(id: string): boolean {
    return this.tiles.has(id);
  }

  add(id: string, ring: readonly number[], state: TileState): void {
    const n = ring.length >> 1;
    const xy = new Float64Array(n * 2);
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (let k = 0; k < n; k++) {
      const lon = ring[2 * k]!;
      const lat = Math.max(-85.05112878, Math.min(85.05112878, ring[2 * k + 1]!));
      const x = ((lon + 180) / 360) * 256;
      const sin = Math.sin((lat * Math.PI) / 180);
      const y = (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * 256;
      xy[2 * k] = x;
      xy[2 * k + 1] = y;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    this.tiles.set(id, { state, xy, box: [x0, y0, x1, y1] });
    this.list = null;
    this.sides += Math.max(x1 - x0, y1 - y0);
    this.invalidate();
  }

  removeTile(id: string): void {
    if (this.tiles.delete(id)) {
      this.list = null;
      this.invalidate();
    }
  }

  /** Returns whether the tile is known (and so restyled). */
  setState(id: string, state: TileState): boolean {
    const e = this.tiles.get(id);
    if (!e) return false;
    if (e.state !== state) {
      e.state = state;
      this.invalidate();
    }
    return true;
  }

  stateOf(id: string): TileState | undefined {
    return this.tiles.get(id)?.state;
  }

  override onAdd(map: L.Map): this {
    const canvas = L.DomUtil.create('canvas', 'tessera-tiles leaflet-zoom-animated');
    canvas.setAttribute('aria-hidden', 'true');
    map.getPane(this.paneName)!.appendChild(canvas);
    this.canvas = canvas;
    map.on('moveend zoomend viewreset resize', this.reset, this);
    map.on('zoomanim', this.animate, this);
    this.reset();
    return this;
  }

  override onRemove(map: L.Map): this {
    map.off('moveend zoomend viewreset resize', this.reset, this);
    map.off('zoomanim', this.animate, this);
    this.canvas?.remove();
    this.canvas = null;
    this.redraw.cancel();
    this.sliceTimer?.();
    this.repaintLater.cancel();
    this.painted = null;
    this.sliceTimer = null;
    this.raster = null;
    this.rasterAgain = false;
    return this;
  }

  /**
   * The view moved or resized: place the canvas (a tenth of the view of margin each side, as Leaflet's own
   * renderers keep) and draw now. Every frame that changes the canvas hands all its pixels to the compositor;
   * with half a view each side that was four views' worth of pixels, and that hand-off alone was a long task
   * on the first repaint of a million-unit raster (docs/dashboard.md, "Long tasks during the burst").
   */
  private reset(): void {
    const map = this._map;
    const canvas = this.canvas;
    if (!map || !canvas) return;
    const size = map.getSize();
    const pad = size.multiplyBy(CANVAS_MARGIN).round();
    this.origin = map.containerPointToLayerPoint(pad.multiplyBy(-1)).round();
    this.topLeft = map.layerPointToLatLng(this.origin);
    this.zoom = map.getZoom();
    const dpr = window.devicePixelRatio || 1;
    const w = size.x + 2 * pad.x;
    const h = size.y + 2 * pad.y;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
    L.DomUtil.setPosition(canvas, this.origin);
    this.draw();
  }

  private animate(e: L.ZoomAnimEvent): void {
    const map = this._map as L.Map & { _latLngToNewLayerPoint(ll: L.LatLng, zoom: number, center: L.LatLng): L.Point };
    if (!map || !this.canvas || !this.topLeft) return;
    const scale = map.getZoomScale(e.zoom, this.zoom);
    L.DomUtil.setTransform(this.canvas, map._latLngToNewLayerPoint(this.topLeft, e.zoom, e.center), scale);
  }

  private invalidate(): void {
    if (!this.canvas) return;
    this.redraw.schedule(this.lastDraw + 4 * this.drawMs - performance.now());
  }

  private draw(): void {
    const map = this._map;
    const canvas = this.canvas;
    if (!map || !canvas) return;
    // Drawing now covers any redraw already scheduled (a second million-cell raster pass would follow).
    this.redraw.cancel();
    const t0 = performance.now();
    const ctx = canvas.getContext('2d')!;
    const dpr = canvas.width / Math.max(1, parseFloat(canvas.style.width) || canvas.width);
    const k = 2 ** map.getZoom();
    const po = map.getPixelOrigin();
    const ox = po.x + this.origin.x;
    const oy = po.y + this.origin.y;
    const w = canvas.width / dpr;
    const h = canvas.height / dpr;
    // The visible box at zoom 0, for culling.
    const [vx0, vy0, vx1, vy1] = [ox / k, oy / k, (ox + w) / k, (oy + h) / k];
    const gridSides = this.grid ? this.grid.units * this.grid.geo.side : 0;
    this.mode = ((this.sides + gridSides) / Math.max(1, this.size)) * k < RASTER_BELOW_PX ? 'raster' : 'paths';
    canvas.dataset.mode = this.mode;
    canvas.dataset.zoom = String(map.getZoom());
    if (this.mode === 'raster') {
      this.startRaster({ scale: k * dpr, ox: ox * dpr, oy: oy * dpr, width: canvas.width, height: canvas.height, view: [vx0, vy0, vx1, vy1] });
      return;
    }
    this.raster = null;
    this.painted = null;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const byState = new Map<TileState, Entry[]>();
    for (const e of this.tiles.values()) {
      const b = e.box;
      if (b[2] < vx0 || b[0] > vx1 || b[3] < vy0 || b[1] > vy1) continue;
      let list = byState.get(e.state);
      if (!list) byState.set(e.state, (list = []));
      list.push(e);
    }
    const cellsByCode = this.visibleCells([vx0, vy0, vx1, vy1]);
    ctx.lineJoin = 'round';
    for (const state of ORDER) {
      const list = byState.get(state);
      const cells = cellsByCode.get(STATE_CODE[state]);
      if (!list && !cells) continue;
      const s = STATE_STYLES[state];
      ctx.beginPath();
      for (const e of list ?? []) {
        const xy = e.xy;
        ctx.moveTo(xy[0]! * k - ox, xy[1]! * k - oy);
        for (let i = 2; i < xy.length; i += 2) ctx.lineTo(xy[i]! * k - ox, xy[i + 1]! * k - oy);
        ctx.lineTo(xy[0]! * k - ox, xy[1]! * k - oy);
      }
      if (cells && this.grid) {
        const { xy, cols } = this.grid.geo;
        const w = cols + 1;
        for (const cell of cells) {
          const c = cell % cols;
          const a = 2 * (((cell - c) / cols) * w + c);
          ctx.moveTo(xy[a]! * k - ox, xy[a + 1]! * k - oy);
          ctx.lineTo(xy[a + 2]! * k - ox, xy[a + 3]! * k - oy);
          ctx.lineTo(xy[a + 2 + 2 * w]! * k - ox, xy[a + 3 + 2 * w]! * k - oy);
          ctx.lineTo(xy[a + 2 * w]! * k - ox, xy[a + 1 + 2 * w]! * k - oy);
          // Back to the first corner by a line: Chromium's closePath costs far more per subpath at these counts.
          ctx.lineTo(xy[a]! * k - ox, xy[a + 1]! * k - oy);
        }
      }
      if (s.fillOpacity > 0) {
        ctx.globalAlpha = s.fillOpacity;
        ctx.fillStyle = s.fill;
        ctx.fill();
      }
      ctx.globalAlpha = 0.95;
      ctx.strokeStyle = s.stroke;
      ctx.lineWidth = s.weight;
      ctx.setLineDash(s.dash ? s.dash.split(' ').map(Number) : []);
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    ctx.setLineDash([]);
    this.lastDraw = performance.now();
    this.drawMs = this.lastDraw - t0;
    if (this.canvas) this.canvas.dataset.tiles = String(this.size);
  }

  /** The grid cells in view (zoom-0 box), by drawn state byte: what the paths mode draws of the grid. */
  private visibleCells(view: [number, number, number, number]): Map<number, number[]> {
    const out = new Map<number, number[]>();
    const g = this.grid;
    if (!g) return out;
    const box = new Float64Array(4);
    const { cols, rows } = g.geo;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const code = g.drawn[r * cols + c]!;
        if (code === NO_UNIT) continue;
        cellBox(g.geo, c, r, box);
        if (box[2]! < view[0] || box[0]! > view[2] || box[3]! < view[1] || box[1]! > view[3]) continue;
        let list = out.get(code);
        if (!list) out.set(code, (list = []));
        list.push(r * cols + c);
      }
    }
    return out;
  }

  /**
   * The raster is drawn in slices of at most RASTER_SLICE_MS, one per task, into buffers kept aside; the
   * canvas gets the finished image in one putImageData. A change during a pass starts another pass after
   * it (the canvas keeps the last full image meanwhile): at a million tiles no task is long, whatever the
   * rate of state changes.
   */
  private raster: RasterPass | null = null;
  private rasterAgain = false;
  /** Cancels the next slice's task. */
  private sliceTimer: (() => void) | null = null;
  private buffers: Pick<RasterPass, 'image' | 'pixels' | 'rank' | 'written'> | null = null;
  /** The tiles as an array for raster passes; dropped when tiles are added or removed. */
  private list: Entry[] | null = null;

  private startRaster(frame: Omit<RasterPass, 'entries' | 'next' | 'pixels' | 'rank' | 'image' | 'written'>): void {
    if (this.raster) {
      this.rasterAgain = true;
      return;
    }
    // The buffers of the last pass are reused (cleared) when the canvas kept its size: no 10 MB allocation per pass.
    let buffers = this.buffers;
    if (!buffers || buffers.image.width !== frame.width || buffers.image.height !== frame.height) {
      const image = new ImageData(frame.width, frame.height);
      buffers = this.buffers = { image, pixels: new Uint32Array(image.data.buffer), rank: new Uint8Array(frame.width * frame.height), written: [0, 0, 0, 0] };
    } else {
      // Only the rows and columns the last pass wrote need clearing.
      const [x0, y0, x1, y1] = buffers.written;
      for (let y = y0; y < y1; y++) {
        buffers.pixels.fill(0, y * frame.width + x0, y * frame.width + x1);
        buffers.rank.fill(0, y * frame.width + x0, y * frame.width + x1);
      }
    }
    buffers.written = [frame.width, frame.height, 0, 0];
    // This pass paints every cell from its current byte.
    this.painted = null;
    this.dirtyCells.clear();
    this.list ??= [...this.tiles.values()];
    this.raster = { ...frame, ...buffers, entries: this.list, next: 0 };
    this.sliceRaster();
  }

  private sliceRaster(): void {
    const pass = this.raster;
    const canvas = this.canvas;
    if (!pass || !canvas) return;
    const t0 = performance.now();
    const { entries, pixels, rank, width, height, scale, ox, oy, written } = pass;
    const [vx0, vy0, vx1, vy1] = pass.view;
    // The grid's cells first (from their bytes), then the tiles that came as objects.
    const grid = this.grid;
    const cells = grid ? grid.drawn.length : 0;
    const total = cells + entries.length;
    // A block of the tile's size (1 to RASTER_BELOW_PX pixels a side), so that neighbours meet.
    const block = (bx0: number, by0: number, bx1: number, by1: number, r: number, colour: number) => {
      if (bx1 < vx0 || bx0 > vx1 || by1 < vy0 || by0 > vy1) return;
      const x0 = Math.max(0, Math.round(bx0 * scale - ox));
      const y0 = Math.max(0, Math.round(by0 * scale - oy));
      const x1 = Math.min(width, Math.max(x0 + 1, Math.round(bx1 * scale - ox)));
      const y1 = Math.min(height, Math.max(y0 + 1, Math.round(by1 * scale - oy)));
      if (x1 <= x0 || y1 <= y0) return;
      if (x0 < written[0]) written[0] = x0;
      if (y0 < written[1]) written[1] = y0;
      if (x1 > written[2]) written[2] = x1;
      if (y1 > written[3]) written[3] = y1;
      for (let y = y0; y < y1; y++) {
        for (let i = y * width + x0, stop = y * width + x1; i < stop; i++) {
          if (r < rank[i]!) continue;
          rank[i] = r;
          pixels[i] = colour;
        }
      }
    };
    while (pass.next < total) {
      const end = Math.min(total, pass.next + 20_000);
      let n = pass.next;
      if (grid && n < cells) {
        // Cell n's box from its four corners, walking the lattice row by row (no per-cell division or call).
        const { xy, cols } = grid.geo;
        const drawn = grid.drawn;
        const row = 2 * (cols + 1);
        let c = n % cols;
        let a = 2 * (((n - c) / cols) * (cols + 1) + c);
        for (; n < end && n < cells; n++, c++, a += 2) {
          if (c === cols) {
            c = 0;
            a += 2;
          }
          const code = drawn[n]!;
          if (code === NO_UNIT) continue;
          let x0 = xy[a]!;
          let x1 = x0;
          let y0 = xy[a + 1]!;
          let y1 = y0;
          for (let j = 0, k = a + 2; j < 3; j++, k = j === 1 ? a + row : a + row + 2) {
            const x = xy[k]!;
            const y = xy[k + 1]!;
            if (x < x0) x0 = x;
            else if (x > x1) x1 = x;
            if (y < y0) y0 = y;
            else if (y > y1) y1 = y;
          }
          block(x0, y0, x1, y1, RANK_BY_CODE[code]!, PACKED_BY_CODE[code]!);
        }
      }
      for (; n < end; n++) {
        const e = entries[n - cells]!;
        const b = e.box;
        block(b[0], b[1], b[2], b[3], RANK.get(e.state)!, PACKED.get(e.state)!);
      }
      pass.next = end;
      if (performance.now() - t0 > RASTER_SLICE_MS) break;
    }
    if (pass.next < total) {
      this.sliceTimer = soonTask(() => {
        this.sliceTimer = null;
        this.sliceRaster();
      });
      return;
    }
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    // Only the part with tiles is copied (at a fitted view about a quarter of the padded canvas).
    if (written[2] > written[0]) ctx.putImageData(pass.image, 0, 0, written[0], written[1], written[2] - written[0], written[3] - written[1]);
    this.raster = null;
    this.painted = { scale, ox, oy, width, height, pixels, rank, image: pass.image };
    // Cells changed during the pass (it may have painted them before they changed).
    if (this.dirtyCells.size && !this.rasterAgain) this.repaint();
    this.lastDraw = performance.now();
    this.drawMs = Math.min(this.drawMs, RASTER_SLICE_MS);
    canvas.dataset.tiles = String(this.size);
    if (this.rasterAgain) {
      this.rasterAgain = false;
      this.invalidate();
    }
  }
}
