import L from 'leaflet';
import { TILE_STATES, type TileState } from '../../shared/contract';
import { STATE_STYLES } from '../states';

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

export class TileCanvasLayer extends L.Layer {
  private readonly tiles = new Map<string, Entry>();
  private canvas: HTMLCanvasElement | null = null;
  private origin = L.point(0, 0);
  private topLeft: L.LatLng | null = null;
  private zoom = 0;
  private frame = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastDraw = 0;
  private drawMs = 0;

  constructor(private readonly paneName: string) {
    super();
  }

  get size(): number {
    return this.tiles.size;
  }

  clear(): void {
    this.tiles.clear();
    this.invalidate();
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
    this.invalidate();
  }

  removeTile(id: string): void {
    if (this.tiles.delete(id)) this.invalidate();
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
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.timer) clearTimeout(this.timer);
    this.frame = 0;
    this.timer = null;
    return this;
  }

  /** The view moved or resized: place the canvas (half a view of margin each side) and draw now. */
  private reset(): void {
    const map = this._map;
    const canvas = this.canvas;
    if (!map || !canvas) return;
    const size = map.getSize();
    const pad = size.multiplyBy(0.5).round();
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
    if (!this.canvas || this.frame || this.timer) return;
    const wait = Math.max(0, this.lastDraw + 4 * this.drawMs - performance.now());
    const go = () => {
      this.timer = null;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.draw();
      });
    };
    if (wait > 0) this.timer = setTimeout(go, wait);
    else go();
  }

  private draw(): void {
    const map = this._map;
    const canvas = this.canvas;
    if (!map || !canvas) return;
    const t0 = performance.now();
    const ctx = canvas.getContext('2d')!;
    const dpr = canvas.width / Math.max(1, parseFloat(canvas.style.width) || canvas.width);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const k = 2 ** map.getZoom();
    const po = map.getPixelOrigin();
    const ox = po.x + this.origin.x;
    const oy = po.y + this.origin.y;
    const w = canvas.width / dpr;
    const h = canvas.height / dpr;
    // The visible box at zoom 0, for culling.
    const [vx0, vy0, vx1, vy1] = [ox / k, oy / k, (ox + w) / k, (oy + h) / k];
    const byState = new Map<TileState, Entry[]>();
    for (const e of this.tiles.values()) {
      const b = e.box;
      if (b[2] < vx0 || b[0] > vx1 || b[3] < vy0 || b[1] > vy1) continue;
      let list = byState.get(e.state);
      if (!list) byState.set(e.state, (list = []));
      list.push(e);
    }
    ctx.lineJoin = 'round';
    for (const state of ORDER) {
      const list = byState.get(state);
      if (!list) continue;
      const s = STATE_STYLES[state];
      ctx.beginPath();
      for (const e of list) {
        const xy = e.xy;
        ctx.moveTo(xy[0]! * k - ox, xy[1]! * k - oy);
        for (let i = 2; i < xy.length; i += 2) ctx.lineTo(xy[i]! * k - ox, xy[i + 1]! * k - oy);
        ctx.closePath();
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
    if (this.canvas) this.canvas.dataset.tiles = String(this.tiles.size);
  }
}
