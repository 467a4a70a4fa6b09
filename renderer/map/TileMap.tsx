import L from 'leaflet';
import { useEffect, useRef, useState } from 'react';
import type { TileState } from '../../shared/contract';
import type { TileView } from '../../shared/dashboard';
import { STATE_STYLES } from '../states';
import type { DashboardStore, JobModel } from '../store';
import { aggregate, periodOf, tileOf } from '../periods';
import { installBasemap, type BasemapMode } from './basemap';
import { gridPreview, type GridPreviewOutlines } from './preview';
import { PreviewOverlays, type PreviewTarget } from './preview-layer';
import { GridIndex } from './spatial-index';
import { TileCanvasLayer } from './tile-layer';
import { NO_UNIT, STATE_CODE, stateOfCode, tileIdAt, type GridData } from '../../shared/compact-view';
import type { UnitTable } from '../units';
import { cellAt, cellBox, gridGeometry, type GridGeometry } from './grid-geometry';
import { MAX_IN_VIEW } from './preview-layer';

interface Props {
  store: DashboardStore;
  job: string | null;
  selected: string | null;
  /** Bumped by the tile search: the selected tile is brought to the middle of the map and zoomed to, even when it is on screen. */
  reveal?: number;
  onSelect: (id: string | null) => void;
  /** The basemap's tile URL template (a setting); none is loaded until it is known. */
  basemapUrl?: string;
  /** A job with periods: the period drawn, or null for all (each tile: its least advanced unit). */
  period?: string | null;
  /** Fetches a finished unit's quicklook (a `data:` URL); without it there is no preview control. */
  fetchPreview?: (unit: string) => Promise<string | null>;
}

/** Every tile of the job on one shared canvas, restyled in place as states change; the ROI and the selection above. */
interface MapParts {
  map: L.Map;
  tiles: TileCanvasLayer;
  index: GridIndex;
  roi: L.LayerGroup;
  selection: L.LayerGroup;
  job: string | null;
  fitted: string | null;
  /** The period drawn (null: all); undefined before the first draw. */
  period: string | null | undefined;
  /** Drawn tile id → the units drawn there: one (a period, or a job without periods), or every period's. Units that came as objects only. */
  groups: Map<string, TileView[]>;
  /** The job's compact grid, drawn from its bytes (no group or object per unit). */
  grid: ShownGrid | null;
}

interface ShownGrid {
  table: UnitTable;
  data: GridData;
  geo: GridGeometry;
  /** The grid layers (periods) drawn: one, or all of them. */
  layers: number[];
}

export function styleOf(state: TileState): L.PathOptions {
  const s = STATE_STYLES[state];
  return { color: s.stroke, weight: s.weight, opacity: 0.95, fillColor: s.fill, fillOpacity: s.fillOpacity, dashArray: s.dash ?? '' };
}

function latLngs(ring: readonly number[]): L.LatLngExpression[] {
  const out: L.LatLngExpression[] = [];
  for (let k = 0; k + 1 < ring.length; k += 2) out.push([ring[k + 1]!, ring[k]!]);
  return out;
}

export function TileMap({ store, job, selected, onSelect, basemapUrl, reveal = 0, period = null, fetchPreview }: Props) {
  const element = useRef<HTMLDivElement>(null);
  const parts = useRef<MapParts | null>(null);
  const onSelectRef = useRef(onSelect);
  onSelectRef.current = onSelect;
  const [hover, setHover] = useState<{ id: string; state: TileState; done: number; total: number } | null>(null);
  const [previewsOn, setPreviewsOn] = useState(false);
  const [previewNote, setPreviewNote] = useState('');
  /** The map's centre "lat,lon" after each move (a hook for tests of the search). */
  const [center, setCenter] = useState('');
  const [basemap, setBasemap] = useState<BasemapMode>('loading');
  const basemapRef = useRef(basemapUrl);
  basemapRef.current = basemapUrl;
  const removeBasemap = useRef<(() => void) | undefined>(undefined);

  // The map, its panes and renderers: created once.
  useEffect(() => {
    const map = L.map(element.current!, { zoomControl: false, attributionControl: true, preferCanvas: true, worldCopyJump: false, minZoom: 1 });
    L.control.zoom({ position: 'topright' }).addTo(map);
    map.attributionControl.setPrefix('<a href="https://leafletjs.com" target="_blank" rel="noopener noreferrer">Leaflet</a>');
    map.setView([20, 0], 2);
    map.on('moveend', () => setCenter(`${map.getCenter().lat.toFixed(5)},${map.getCenter().lng.toFixed(5)}`));
    for (const [name, z] of [['tiles', 400], ['results', 420], ['roi', 450], ['preview', 455], ['selection', 460]] as const) {
      const pane = map.createPane(name);
      pane.style.zIndex = String(z);
      pane.style.pointerEvents = 'none';
    }
    const p: MapParts = {
      map,
      tiles: new TileCanvasLayer('tiles').addTo(map),
      index: new GridIndex(),
      roi: L.layerGroup().addTo(map),
      selection: L.layerGroup().addTo(map),
      job: null,
      fitted: null,
      period: undefined,
      groups: new Map(),
      grid: null,
    };
    parts.current = p;
    if (basemapRef.current) removeBasemap.current = installBasemap(map, setBasemap, basemapRef.current);
    map.on('click', (e: L.LeafletMouseEvent) => {
      const id = pick(p, e.latlng.lng, e.latlng.lat);
      onSelectRef.current(id === null ? null : unitShown(p, id));
    });
    let last = 0;
    map.on('mousemove', (e: L.LeafletMouseEvent) => {
      const now = performance.now();
      if (now - last < 40) return;
      last = now;
      const id = pick(p, e.latlng.lng, e.latlng.lat);
      const units = id === null ? undefined : unitsAt(p, id);
      map.getContainer().classList.toggle('over-tile', Boolean(units));
      setHover(id !== null && units ? { id: p.period ? `${p.period}@${id}` : id, ...aggregate(units.map((u) => u.state)) } : null);
    });
    map.on('mouseout', () => setHover(null));
    const resize = new ResizeObserver(() => map.invalidateSize());
    resize.observe(element.current!);
    return () => {
      resize.disconnect();
      removeBasemap.current?.();
      removeBasemap.current = undefined;
      map.remove();
      parts.current = null;
    };
  }, [store]);

  // Another basemap (the setting arrived or changed): the old one goes, the new one is tried.
  const installed = useRef(basemapUrl);
  useEffect(() => {
    const p = parts.current;
    if (!p || installed.current === basemapUrl) return;
    installed.current = basemapUrl;
    removeBasemap.current?.();
    removeBasemap.current = basemapUrl ? installBasemap(p.map, setBasemap, basemapUrl) : undefined;
  }, [basemapUrl]);

  // The job's tiles: drawn once, then only restyled (or added to, when a tile splits).
  useEffect(() => {
    const p = parts.current;
    if (!p) return;
    // What the map shows, for tests and people inspecting the page: the job and how many tiles it holds.
    const mark = () => {
      const c = p.map.getContainer();
      c.dataset.job = job ?? '';
      c.dataset.tiles = String(p.tiles.size);
    };
    const sync = () => {
      syncTiles(p, store.job(job));
      mark();
    };
    if (p.job !== job) p.roi.clearLayers();
    if (p.job !== job || p.period !== period) {
      p.tiles.clear();
      p.groups.clear();
      p.grid = null;
      p.index = new GridIndex();
      p.job = job;
      p.period = period;
    }
    sync();
    return store.onTiles((name, change) => {
      if (name !== job) return;
      if (change.kind === 'reset') sync();
      else if (change.kind === 'added') {
        addTiles(p, store.job(job), change.tiles);
        mark();
      }
      else restyle(p, store.job(job), change.ids);
    });
  }, [store, job, period]);

  // Finished results as images over their tiles (the preview control), for the period shown.
  useEffect(() => {
    const p = parts.current;
    if (!p || !previewsOn || !fetchPreview) return;
    const container = p.map.getContainer();
    const overlays = new PreviewOverlays(p.map, 'results', fetchPreview, (loaded, wanted, tooMany) => {
      container.dataset.previewImages = String(loaded);
      setPreviewNote(tooMany ? 'zoom in to see the results' : wanted === 0 ? 'no finished results here yet' : loaded < wanted ? `results ${loaded} of ${wanted}` : '');
    });
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refresh = () => {
      timer = null;
      overlays.show(previewTargets(p));
    };
    const soon = () => {
      timer ??= setTimeout(refresh, 250);
    };
    refresh();
    p.map.on('moveend', soon);
    const off = store.onTiles((name) => name === job && soon());
    return () => {
      off();
      p.map.off('moveend', soon);
      if (timer) clearTimeout(timer);
      overlays.remove();
      delete container.dataset.previewImages;
      setPreviewNote('');
    };
  }, [store, job, period, previewsOn, fetchPreview]);

  // The wizard's grid preview: the first tiles of the grid being set up, dashed, above the job's tiles.
  useEffect(() => {
    const p = parts.current;
    if (!p) return;
    const layer = L.layerGroup().addTo(p.map);
    const renderer = L.svg({ pane: 'preview' });
    let fittedKey: string | null = null;
    const container = p.map.getContainer();
    const draw = (preview: GridPreviewOutlines | null) => {
      layer.clearLayers();
      const rings = preview?.rings.filter((r) => r.length >= 6) ?? [];
      if (!preview) {
        delete container.dataset.previewTiles;
        fittedKey = null;
        return;
      }
      container.dataset.previewTiles = String(rings.length);
      if (!rings.length) return;
      const outline = L.polygon(
        rings.map((r) => [latLngs(r)]),
        { renderer, interactive: false, className: 'grid-preview', color: '#a21caf', weight: 1.5, opacity: 0.95, dashArray: '5 4', fillColor: '#d946ef', fillOpacity: 0.08 },
      );
      layer.addLayer(outline);
      if (fittedKey !== preview.key) {
        fittedKey = preview.key;
        // Keep the preview clear of the wizard's panel where it lies over the map.
        const m = container.getBoundingClientRect();
        const w = document.querySelector('[data-testid="wizard"]')?.getBoundingClientRect();
        const right = w && w.left > m.left ? Math.max(0, m.right - w.left) : 0;
        p.map.fitBounds(outline.getBounds(), { paddingTopLeft: [24, 24], paddingBottomRight: [right + 24, 24], maxZoom: 16 });
      }
    };
    draw(gridPreview.get());
    const off = gridPreview.subscribe(draw);
    return () => {
      off();
      layer.remove();
      delete container.dataset.previewTiles;
    };
  }, [store]);

  // The selection: an outline above everything, brought into view when it is off screen.
  useEffect(() => {
    const p = parts.current;
    if (!p) return;
    p.selection.clearLayers();
    const tile = selected ? store.job(job)?.tiles.get(selected) : undefined;
    if (!tile || tile.ring.length < 6) return;
    const renderer = L.svg({ pane: 'selection' });
    const halo = L.polygon(latLngs(tile.ring), { renderer, interactive: false, color: '#ffffff', weight: 6, opacity: 0.9, fill: false });
    const line = L.polygon(latLngs(tile.ring), { renderer, interactive: false, color: '#0f172a', weight: 2.5, fill: false });
    p.selection.addLayer(halo).addLayer(line);
    const b = line.getBounds();
    if (!p.map.getBounds().contains(b)) p.map.fitBounds(b.pad(3), { maxZoom: Math.max(p.map.getZoom(), 10) });
  }, [store, job, selected]);

  // A tile found by the search: pan (and zoom) to it, wherever it is.
  useEffect(() => {
    const p = parts.current;
    const tile = selected ? store.job(job)?.tiles.get(selected) : undefined;
    if (!p || !reveal || !tile || tile.ring.length < 6) return;
    p.map.fitBounds(L.polygon(latLngs(tile.ring)).getBounds().pad(3), { animate: false });
  }, [reveal]); // only a new search moves the map

  return (
    <div className="map-wrap">
      <div ref={element} className="map" data-testid="tile-map" data-center={center} aria-label="Tiles by state; click a tile for its details" />
      {hover && (
        <div className="hover-label" role="status">
          <span className="swatch" style={{ background: STATE_STYLES[hover.state].fill, borderColor: STATE_STYLES[hover.state].stroke }} />
          {hover.id} · {hover.state}
          {hover.total > 1 && ` · ${hover.done} of ${hover.total} periods done`}
        </div>
      )}
      {fetchPreview && (
        <div className="map-controls">
          <button type="button" data-testid="preview-toggle" aria-pressed={previewsOn} onClick={() => setPreviewsOn((v) => !v)} title="Show the finished results over their tiles">
            {previewsOn ? 'Hide results' : 'Show results'}
          </button>
          {previewsOn && previewNote && (
            <span className="preview-note" role="status">
              {previewNote}
            </span>
          )}
        </div>
      )}
      {basemap === 'offline' && <div className="basemap-note">offline map</div>}
    </div>
  );
}

/** The drawn tile under a point: a split parent only where none of its children is (they lie on top of it). */
function pick(p: MapParts, lon: number, lat: number): string | null {
  const hits = p.index.at(lon, lat);
  const live = hits.filter((id) => p.tiles.stateOf(id) !== 'split');
  if (live.length) return live[live.length - 1]!;
  const g = p.grid;
  if (g) {
    // The compact grid: the cell under the point, from the corner lattice.
    for (const x of [lon, lon - 360, lon + 360]) {
      const cell = cellAt(g.data, x, lat);
      if (cell && p.tiles.cellCode(cell[1] * g.data.cols + cell[0]) !== NO_UNIT) return tileIdAt(g.data, cell[0], cell[1]);
    }
  }
  return hits[hits.length - 1] ?? null;
}

/** The units drawn as a tile (its shown periods'), with their states; undefined when none is drawn there. */
function unitsAt(p: MapParts, tile: string): { id: string; state: TileState }[] | undefined {
  const objects = p.groups.get(tile);
  if (objects) return objects.map((u) => ({ id: u.id, state: u.state }));
  const g = p.grid;
  const slot = g?.table.slotOf(tile) ?? (g?.data.periods.length ? g.table.slotOf(`${g.data.periods[0]}@${tile}`) : undefined);
  if (!g || !slot) return undefined;
  const out: { id: string; state: TileState }[] = [];
  for (const layer of g.layers) {
    const code = g.data.states[(layer * g.data.rows + slot.r) * g.data.cols + slot.c]!;
    if (code !== NO_UNIT) out.push({ id: g.table.idAt(layer, slot.c, slot.r), state: stateOfCode(code)! });
  }
  return out.length ? out : undefined;
}

/** The unit behind a drawn tile: the period's, or (all periods) the least advanced one, which gives the tile its colour. */
function unitShown(p: MapParts, tile: string): string {
  const units = unitsAt(p, tile);
  if (!units?.length) return tile;
  const { state } = aggregate(units.map((u) => u.state));
  return (units.find((u) => u.state === state) ?? units[0]!).id;
}

/** Whether a unit is drawn for the period shown (a job without periods: always). */
function shown(p: MapParts, unit: TileView): boolean {
  if (p.period === null || p.period === undefined) return true;
  const up = periodOf(unit.id);
  return up === undefined || up === p.period;
}

function drawnState(p: MapParts, tile: string): TileState {
  const units = p.groups.get(tile)!;
  return units.length === 1 ? units[0]!.state : aggregate(units.map((u) => u.state)).state;
}

/** Done units whose quicklooks the preview layer may show: per tile, the period's (all periods: the latest done). */
function previewTargets(p: MapParts): PreviewTarget[] {
  const out: PreviewTarget[] = [];
  for (const units of p.groups.values()) {
    let last: TileView | undefined;
    for (const u of units) if (u.state === 'done') last = u;
    if (last && last.ring.length >= 6) out.push({ unit: last.id, ring: last.ring });
  }
  const g = p.grid;
  if (!g) return out;
  // Grid cells in view only, and one more than the layer shows at most (it then asks to zoom in).
  const b = p.map.getBounds();
  const view = [lonX(b.getWest()), latY(b.getNorth()), lonX(b.getEast()), latY(b.getSouth())];
  const box = new Float64Array(4);
  let found = 0;
  for (let r = 0; r < g.data.rows && found <= MAX_IN_VIEW; r++) {
    for (let c = 0; c < g.data.cols && found <= MAX_IN_VIEW; c++) {
      cellBox(g.geo, c, r, box);
      if (box[2]! < view[0]! || box[0]! > view[2]! || box[3]! < view[1]! || box[1]! > view[3]!) continue;
      let last = -1;
      for (const layer of g.layers) if (g.data.states[(layer * g.data.rows + r) * g.data.cols + c] === STATE_CODE.done) last = layer;
      if (last < 0) continue;
      const unit = g.table.idAt(last, c, r);
      out.push({ unit, ring: g.table.get(unit)!.ring });
      found++;
    }
  }
  return out;
}

function syncTiles(p: MapParts, job: JobModel | undefined): void {
  if (!job) return;
  p.groups.clear();
  for (const t of job.tiles.objectUnits()) group(p, t);
  const fresh: TileView[] = [];
  for (const [id, units] of p.groups) if (!p.tiles.setState(id, drawnState(p, id))) fresh.push(units[0]!);
  if (p.tiles.objectCount > p.groups.size - fresh.length) {
    // Tiles that left the job (a new snapshot): start over.
    p.tiles.clear();
    fresh.length = 0;
    for (const units of p.groups.values()) fresh.push(units[0]!);
    p.index = new GridIndex();
  }
  syncGrid(p, job);
  if (p.roi.getLayers().length === 0 && job.roi.length) {
    const renderer = L.svg({ pane: 'roi' });
    p.roi.addLayer(L.polygon(job.roi.map(latLngs), { renderer, interactive: false, fill: false, color: '#0f172a', weight: 2, opacity: 0.85, dashArray: '7 5' }));
  }
  place(p, job, fresh);
}

/** The compact grid drawn from its bytes: each cell's state for the period shown (all: its least advanced). */
function syncGrid(p: MapParts, job: JobModel): void {
  const data = job.tiles.grid;
  if (!data) {
    p.grid = null;
    p.tiles.clearGrid();
    return;
  }
  const layers = data.periods.length === 0 ? [0] : p.period ? [data.periods.indexOf(p.period)].filter((k) => k >= 0) : data.periods.map((_, k) => k);
  p.grid = { table: job.tiles, data, geo: gridGeometry(data), layers };
  const drawn = new Uint8Array(data.cols * data.rows).fill(NO_UNIT);
  for (let k = 0; k < drawn.length; k++) drawn[k] = drawnCode(p.grid, k);
  p.tiles.setGrid(p.grid.geo, drawn);
}

/** The state byte drawn in grid cell `k`: its shown unit's, or (several periods) the least advanced one's. */
function drawnCode(g: ShownGrid, k: number): number {
  const per = g.data.cols * g.data.rows;
  if (g.layers.length === 1) return g.data.states[g.layers[0]! * per + k]!;
  const states: TileState[] = [];
  for (const layer of g.layers) {
    const code = g.data.states[layer * per + k]!;
    if (code !== NO_UNIT) states.push(stateOfCode(code)!);
  }
  return states.length ? STATE_CODE[aggregate(states).state] : NO_UNIT;
}

function lonX(lon: number): number {
  return ((lon + 180) / 360) * 256;
}

function latY(lat: number): number {
  const sin = Math.sin((Math.max(-85.05112878, Math.min(85.05112878, lat)) * Math.PI) / 180);
  return (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * 256;
}

/** Files a unit under the tile it is drawn as; false when the period shown does not include it. */
function group(p: MapParts, t: TileView): boolean {
  if (!shown(p, t)) return false;
  const id = tileOf(t.id);
  const units = p.groups.get(id);
  if (!units) p.groups.set(id, [t]);
  else if (!units.includes(t)) units.push(t);
  return true;
}

/** New tiles on the map (`units`: one per new drawn tile, its outline). */
function place(p: MapParts, job: JobModel, units: TileView[]): void {
  const added: { id: string; ring: readonly number[] }[] = [];
  for (const t of units) {
    const id = tileOf(t.id);
    if (p.tiles.has(id) || t.ring.length < 6) continue;
    p.tiles.add(id, t.ring, drawnState(p, id));
    added.push({ id, ring: t.ring });
  }
  if (p.tiles.objectCount === added.length) p.index = new GridIndex(added);
  else if (added.length) p.index.add(added);
  if (p.fitted !== job.name && job.bounds) {
    const [w, s, e, n] = job.bounds;
    p.map.fitBounds([[s, w], [n, e]], { padding: [24, 24], maxZoom: 16 });
    p.fitted = job.name;
  }
}

function addTiles(p: MapParts, job: JobModel | undefined, tiles: TileView[]): void {
  if (!job || tiles.length === 0) return;
  const fresh: TileView[] = [];
  for (const t of tiles) {
    if (!group(p, t)) continue;
    const id = tileOf(t.id);
    if (!p.tiles.setState(id, drawnState(p, id))) fresh.push(t);
  }
  place(p, job, fresh);
}

/** A state change only marks the canvas dirty: one batched redraw for any number of tiles. */
function restyle(p: MapParts, job: JobModel | undefined, ids: string[]): void {
  if (!job) return;
  const g = p.grid;
  for (const unit of ids) {
    const slot = g?.table.slotOf(unit);
    if (g && slot && g.layers.includes(slot.layer)) {
      const k = slot.r * g.data.cols + slot.c;
      p.tiles.setCell(k, drawnCode(g, k));
      continue;
    }
    const t = job.tiles.get(unit);
    if (!t || slot || !shown(p, t)) continue;
    const id = tileOf(t.id);
    if (p.groups.has(id)) p.tiles.setState(id, drawnState(p, id));
  }
}
