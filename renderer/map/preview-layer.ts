import L from 'leaflet';

/**
 * Finished results on the map (docs/previews.md): each unit's quicklook as an image over its tile's
 * outline, fetched from the host's preview route as a `data:` URL and kept per unit for the page's life.
 * Only tiles in view are fetched, at most MAX_IN_VIEW (zoom in for more) and FETCHES_AT_ONCE at a time;
 * a quicklook not made yet is asked for again on the next refresh.
 */
export interface PreviewTarget {
  unit: string;
  /** Flat [lon, lat, …] ring of the tile. */
  ring: readonly number[];
}

export const MAX_IN_VIEW = 400;
const FETCHES_AT_ONCE = 4;

export class PreviewOverlays {
  private readonly layer: L.LayerGroup;
  private readonly shown = new Map<string, L.ImageOverlay>();
  private readonly urls = new Map<string, string>();
  private readonly asking = new Set<string>();
  private queue: PreviewTarget[] = [];
  private active = 0;
  private generation = 0;

  constructor(
    private readonly map: L.Map,
    private readonly pane: string,
    private readonly fetchPreview: (unit: string) => Promise<string | null>,
    private readonly changed: (loaded: number, wanted: number, tooMany: boolean) => void,
  ) {
    this.layer = L.layerGroup().addTo(map);
  }

  /** Shows the quicklooks of these finished units (the tiles in view are chosen here); others are removed. */
  show(targets: readonly PreviewTarget[]): void {
    const view = this.map.getBounds();
    const inView = targets.filter((t) => view.intersects(boundsOf(t.ring)));
    const tooMany = inView.length > MAX_IN_VIEW;
    const wanted = tooMany ? [] : inView;
    const keep = new Set(wanted.map((t) => t.unit));
    for (const [unit, overlay] of this.shown) {
      if (keep.has(unit)) continue;
      overlay.remove();
      this.shown.delete(unit);
    }
    this.generation++;
    this.queue = [];
    for (const t of wanted) {
      const url = this.urls.get(t.unit);
      if (url) this.place(t, url);
      else if (!this.asking.has(t.unit)) this.queue.push(t);
    }
    this.pump();
    this.changed(this.shown.size, wanted.length, tooMany);
  }

  clear(): void {
    this.generation++;
    this.queue = [];
    this.layer.clearLayers();
    this.shown.clear();
    this.changed(0, 0, false);
  }

  remove(): void {
    this.clear();
    this.layer.remove();
  }

  private pump(): void {
    while (this.active < FETCHES_AT_ONCE && this.queue.length) {
      const t = this.queue.shift()!;
      const generation = this.generation;
      this.active++;
      this.asking.add(t.unit);
      this.fetchPreview(t.unit)
        .then(
          (url) => {
            if (!url) return;
            this.urls.set(t.unit, url);
            if (generation === this.generation) this.place(t, url);
          },
          () => undefined,
        )
        .finally(() => {
          this.active--;
          this.asking.delete(t.unit);
          this.changed(this.shown.size, this.shown.size + this.queue.length + this.active, false);
          this.pump();
        });
    }
  }

  private place(t: PreviewTarget, url: string): void {
    if (this.shown.has(t.unit)) return;
    const overlay = L.imageOverlay(url, boundsOf(t.ring), { pane: this.pane, interactive: false, className: 'result-preview', alt: `quicklook of ${t.unit}` });
    overlay.addTo(this.layer);
    this.shown.set(t.unit, overlay);
  }
}

function boundsOf(ring: readonly number[]): L.LatLngBounds {
  let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let k = 0; k + 1 < ring.length; k += 2) {
    w = Math.min(w, ring[k]!);
    e = Math.max(e, ring[k]!);
    s = Math.min(s, ring[k + 1]!);
    n = Math.max(n, ring[k + 1]!);
  }
  return L.latLngBounds([s, w], [n, e]);
}
