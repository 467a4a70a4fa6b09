import type { Period } from '../periods/periods';

/**
 * STAC objects of a job's results (docs/stac.md): one Item per finished unit, its GeoTIFF(s) as assets,
 * its period as the Item's time range, its export grid in the projection extension. Pure: the caller
 * gives the outline in EPSG:4326 and writes the files.
 */
export const STAC_VERSION = '1.0.0';
/** The projection extension version that still has `proj:epsg` (later ones renamed it `proj:code`). */
export const PROJECTION_EXTENSION = 'https://stac-extensions.github.io/projection/v1.1.0/schema.json';

export interface StacLink {
  rel: string;
  href: string;
  type?: string;
  title?: string;
}

export interface StacItem {
  type: 'Feature';
  stac_version: string;
  stac_extensions: string[];
  id: string;
  collection: string;
  geometry: { type: 'Polygon'; coordinates: [number, number][][] };
  bbox: [number, number, number, number];
  properties: Record<string, unknown>;
  links: StacLink[];
  assets: Record<string, { href: string; type: string; roles: string[]; title?: string }>;
}

export interface ItemInput {
  /** The item id: the unit's file name prefix (unique in the job). */
  id: string;
  collection: string;
  period: Period;
  /** `EPSG:n` of the export grid. */
  crs: string;
  /** Earth Engine's crsTransform `[s, 0, x0, 0, -s, y1]`, which is the affine order STAC uses. */
  crsTransform: readonly number[];
  /** `[width, height]` in pixels. */
  dimensions: readonly [number, number];
  /** The unit's outline in EPSG:4326, a closed ring. */
  outline: [number, number][];
  /** Output files, relative to the item's own JSON file. */
  files: readonly { href: string; name: string }[];
  /** Links back to the collection, relative to the item's own JSON file. */
  collectionHref: string;
}

/** The instant a `YYYY-MM-DD` day starts (UTC). */
const dayStart = (d: string) => `${d}T00:00:00Z`;

/** STAC's `end_datetime` is inclusive: the last millisecond before the period's exclusive end. */
export function inclusiveEnd(end: string): string {
  return new Date(Date.parse(dayStart(end)) - 1).toISOString();
}

export function stacItem(u: ItemInput): StacItem {
  const lons = u.outline.map((p) => p[0]);
  const lats = u.outline.map((p) => p[1]);
  const epsg = Number(/^EPSG:(\d+)$/i.exec(u.crs)?.[1]);
  const assets: StacItem['assets'] = {};
  u.files.forEach((f, i) => {
    // One file: "data"; split parts (one unit, several files): "data-1", "data-2", … in name order.
    assets[u.files.length === 1 ? 'data' : `data-${i + 1}`] = { href: f.href, type: 'image/tiff; application=geotiff', roles: ['data'], title: f.name };
  });
  return {
    type: 'Feature',
    stac_version: STAC_VERSION,
    stac_extensions: [PROJECTION_EXTENSION],
    id: u.id,
    collection: u.collection,
    geometry: { type: 'Polygon', coordinates: [u.outline] },
    bbox: [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)],
    properties: {
      datetime: dayStart(u.period.start),
      start_datetime: dayStart(u.period.start),
      end_datetime: inclusiveEnd(u.period.end),
      'tessera:period': u.period.id,
      ...(Number.isFinite(epsg) ? { 'proj:epsg': epsg } : { 'proj:epsg': null }),
      'proj:transform': [...u.crsTransform],
      'proj:shape': [u.dimensions[1], u.dimensions[0]],
    },
    links: [
      { rel: 'collection', href: u.collectionHref, type: 'application/json' },
      { rel: 'parent', href: u.collectionHref, type: 'application/json' },
      { rel: 'root', href: u.collectionHref, type: 'application/json' },
    ],
    assets,
  };
}
