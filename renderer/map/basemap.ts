import L from 'leaflet';
import { DEFAULT_BASEMAP_URL } from '../../shared/settings';

export type BasemapMode = 'loading' | 'online' | 'offline';

const OSM_URL = DEFAULT_BASEMAP_URL;
const OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright" target="_blank" rel="noopener noreferrer">OpenStreetMap</a> contributors';
/** While offline, one tile is tried this often to see whether the network is back. */
const PROBE_EVERY_MS = 60_000;

/**
 * OpenStreetMap tiles when they load; otherwise a clean offline map (a plain background and a labelled
 * graticule), so the dashboard never shows a grid of broken images. Tiles send only the page's origin as
 * Referer (OSM's usage policy wants one; the page itself sends none).
 */
export function installBasemap(map: L.Map, onMode: (mode: BasemapMode) => void = () => undefined, url: string = OSM_URL): () => void {
  const osm = L.tileLayer(url, { maxZoom: 19, attribution: url === OSM_URL ? OSM_ATTRIBUTION : `Basemap: ${new URL(url.replace(/\{[a-z]\}/g, '0')).host}`, referrerPolicy: 'strict-origin', className: 'osm-tiles' });
  const graticule = new Graticule(map);
  let mode: BasemapMode = 'loading';
  let loaded = 0;
  let probe: ReturnType<typeof setInterval> | undefined;

  const set = (m: BasemapMode) => {
    if (mode === m) return;
    mode = m;
    map.getContainer().dataset.basemap = m;
    onMode(m);
  };
  const goOffline = () => {
    if (mode === 'offline') return;
    map.removeLayer(osm);
    graticule.show();
    map.attributionControl?.addAttribution('Offline map: graticule only');
    set('offline');
    probe ??= setInterval(tryOnline, PROBE_EVERY_MS);
  };
  const goOnline = () => {
    if (probe) clearInterval(probe);
    probe = undefined;
    if (mode === 'offline') {
      graticule.hide();
      map.attributionControl?.removeAttribution('Offline map: graticule only');
      osm.addTo(map);
    }
    set('online');
  };
  const tryOnline = () => {
    const img = new Image();
    img.referrerPolicy = 'strict-origin';
    img.onload = goOnline;
    img.src = url.replace('{z}', '0').replace('{x}', '0').replace('{y}', '0');
  };

  osm.on('tileload', () => {
    loaded++;
    if (mode !== 'online') goOnline();
  });
  // One failure before any success means no network (or OSM unreachable): go offline at once.
  osm.on('tileerror', () => {
    if (loaded === 0) goOffline();
  });
  map.getContainer().dataset.basemap = mode;
  osm.addTo(map);
  return () => {
    if (probe) clearInterval(probe);
    graticule.hide();
    map.removeLayer(osm);
  };
}

const STEPS = [30, 20, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002, 0.0001];

/** Meridians and parallels at a round step for the view, labelled along the left and bottom edges. */
class Graticule {
  private readonly group = L.layerGroup();
  private readonly renderer: L.Renderer;
  private visible = false;
  private readonly redraw = () => this.draw();

  constructor(private readonly map: L.Map) {
    if (!map.getPane('graticule')) {
      const pane = map.createPane('graticule');
      pane.style.zIndex = '250'; // above the (absent) tiles, below every overlay
      pane.style.pointerEvents = 'none';
    }
    this.renderer = L.svg({ pane: 'graticule', padding: 0.2 });
  }

  show(): void {
    if (this.visible) return;
    this.visible = true;
    this.group.addTo(this.map);
    this.map.on('moveend', this.redraw);
    this.draw();
  }

  hide(): void {
    if (!this.visible) return;
    this.visible = false;
    this.map.off('moveend', this.redraw);
    this.group.clearLayers();
    this.map.removeLayer(this.group);
  }

  private draw(): void {
    this.group.clearLayers();
    const b = this.map.getBounds();
    const west = b.getWest();
    const east = b.getEast();
    const south = Math.max(-85, b.getSouth());
    const north = Math.min(85, b.getNorth());
    const step = STEPS.find((s) => Math.min(east - west, north - south) / s >= 3) ?? STEPS[STEPS.length - 1]!;
    const digits = (String(step).split('.')[1] ?? '').length;
    const line = { renderer: this.renderer, color: '#94a3b8', weight: 0.8, opacity: 0.7, interactive: false };
    const label = (text: string, at: L.LatLngExpression, cls: string) =>
      L.marker(at, {
        pane: 'graticule',
        interactive: false,
        keyboard: false,
        icon: L.divIcon({ className: `graticule-label ${cls}`, html: text, iconSize: undefined }),
      });
    const pad = (east - west) * 0.02;
    const padLat = (north - south) * 0.02;
    // Labels stay clear of the corner where the two rows of labels meet.
    const at = (lat: number, lon: number) => this.map.latLngToContainerPoint([lat, lon]);
    for (let lon = Math.ceil(west / step) * step, k = 0; lon <= east && k < 200; lon += step, k++) {
      const v = round(lon, digits);
      this.group.addLayer(L.polyline([[south - 1, v], [north + 1, v]], line));
      if (at(north, v).x > 64) this.group.addLayer(label(formatLon(wrap(v), digits), [north - padLat, v], 'lon'));
    }
    for (let lat = Math.ceil(south / step) * step, k = 0; lat <= north && k < 200; lat += step, k++) {
      const v = round(lat, digits);
      this.group.addLayer(L.polyline([[v, west - 1], [v, east + 1]], line));
      if (at(v, west).y > 36) this.group.addLayer(label(formatLat(v, digits), [v, west + pad], 'lat'));
    }
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function wrap(lon: number): number {
  return ((((lon + 180) % 360) + 360) % 360) - 180;
}

function formatLon(lon: number, digits: number): string {
  if (lon === 0 || Math.abs(lon) === 180) return `${Math.abs(lon)}°`;
  return `${Math.abs(lon).toFixed(digits)}°${lon < 0 ? 'W' : 'E'}`;
}

function formatLat(lat: number, digits: number): string {
  if (lat === 0) return '0°';
  return `${Math.abs(lat).toFixed(digits)}°${lat < 0 ? 'S' : 'N'}`;
}
