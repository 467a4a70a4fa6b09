import proj4 from 'proj4';
import { UserError } from '../errors';

/** A coordinate reference system Tessera can transform to and from. */
export interface Crs {
  /** `EPSG:n` when the CRS is an EPSG one, otherwise a label naming where the definition came from. */
  readonly id: string;
  readonly name: string;
  /** proj4 definition (proj string or WKT) handed to proj4js. */
  readonly definition: string;
  readonly geographic: boolean;
  /** Unit of x/y: `degree` for geographic CRSs, usually `metre` otherwise. */
  readonly unit: string;
  /** Area of use in degrees [west, south, east, north], when known. */
  readonly areaOfUse?: readonly [number, number, number, number];
  /** Set when the datum shift had to be approximated (a grid-based datum proj4js cannot load offline). */
  readonly datumWarning?: string;
}

interface EpsgEntry {
  code: string;
  kind: string;
  name: string;
  wkt: string | null;
  proj4: string | null;
  bbox: [number, number, number, number] | null; // north, west, south, east
  unit: string | null;
}

const cache = new Map<string, Crs>();

/** Parses `EPSG:3035` (also `epsg:3035`, `urn:ogc:def:crs:EPSG::3035`, `CRS84`) into a usable CRS. */
export function resolveCrs(spec: string): Crs {
  const code = epsgCodeOf(spec);
  if (code === undefined) {
    throw new UserError(`unknown CRS "${spec}": give an EPSG code such as EPSG:4326 or EPSG:3035`);
  }
  return crsFromEpsg(code);
}

export function epsgCodeOf(spec: string): number | undefined {
  const s = spec.trim();
  if (/^(urn:ogc:def:crs:OGC:(1\.3)?:)?CRS84$/i.test(s)) return 4326;
  const urn = /^urn:ogc:def:crs:EPSG:[\d.]*:(\d+)$/i.exec(s);
  if (urn) return Number(urn[1]);
  const m = /^EPSG:{1,2}(\d{1,6})$/i.exec(s);
  if (m) return Number(m[1]);
  return undefined;
}

export function crsFromEpsg(code: number): Crs {
  const id = `EPSG:${code}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const entry = readEpsgEntry(code);
  if (!entry || !(entry.kind === 'CRS-PROJCRS' || entry.kind === 'CRS-GEOGCRS')) {
    const why = entry
      ? `it is a ${entry.kind.replace('CRS-', '').toLowerCase()} CRS, not a 2D geographic or projected one`
      : 'it is not in the EPSG registry';
    throw new UserError(`unknown CRS "${id}": ${why}`);
  }
  const { definition, gridName } = usableDefinition(entry);
  if (!definition) throw new UserError(`unknown CRS "${id}": the EPSG registry has no usable definition for it`);
  const geographic = entry.kind === 'CRS-GEOGCRS';
  const crs: Crs = {
    id,
    name: entry.name,
    definition,
    geographic,
    unit: geographic ? 'degree' : (entry.unit ?? 'metre'),
    areaOfUse: entry.bbox ? [entry.bbox[1], entry.bbox[2], entry.bbox[3], entry.bbox[0]] : undefined,
    datumWarning: gridName
      ? `${id} shifts its datum with the grid ${gridName}, which is not available offline; positions may be off by up to ~100 m`
      : undefined,
  };
  checkDefinition(crs);
  cache.set(id, crs);
  return crs;
}

/** A CRS from a WKT or proj4 definition (GeoPackage `gpkg_spatial_ref_sys.definition`). */
export function crsFromDefinition(definition: string, label: string): Crs {
  const authority = /AUTHORITY\["EPSG",\s*"?(\d+)"?\]\s*\]\s*$/i.exec(definition.trim());
  if (authority) {
    try {
      return crsFromEpsg(Number(authority[1]));
    } catch {
      // not a usable EPSG code: the definition itself is used below
    }
  }
  const geographic =
    /^\s*(GEOGCS|GEOGCRS|GEOGRAPHICCRS)\[/i.test(definition) || /\+proj=(longlat|latlong)\b/.test(definition);
  const crs: Crs = { id: label, name: label, definition, geographic, unit: geographic ? 'degree' : 'metre' };
  checkDefinition(crs);
  return crs;
}

export function sameCrs(a: Crs, b: Crs): boolean {
  return a.id === b.id && a.definition === b.definition;
}

export type PointTransform = (x: number, y: number) => [number, number];

/** A point transform; it returns non-finite numbers where proj4 cannot place the point. */
export function transformer(from: Crs, to: Crs): PointTransform {
  if (sameCrs(from, to)) return (x, y) => [x, y];
  const conv = proj4(from.definition, to.definition);
  return (x, y) => {
    try {
      const r = conv.forward([x, y]);
      return [r[0] ?? NaN, r[1] ?? NaN];
    } catch {
      return [NaN, NaN];
    }
  };
}

export const WGS84: Crs = {
  id: 'EPSG:4326',
  name: 'WGS 84',
  definition: '+proj=longlat +datum=WGS84 +no_defs +type=crs',
  geographic: true,
  unit: 'degree',
  areaOfUse: [-180, -90, 180, 90],
};
cache.set(WGS84.id, WGS84);

function readEpsgEntry(code: number): EpsgEntry | undefined {
  try {
    // One small JSON per code instead of the 8 MB index keeps the CLI's start-up fast.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(`epsg-index/s/${code}.json`) as EpsgEntry;
  } catch {
    return undefined;
  }
}

/**
 * proj4js cannot load NTv2 grids (`+nadgrids=…`) and the registry gives no Helmert parameters for those
 * CRSs, so the grid is dropped: the projection stays exact, only the datum shift is lost (≤ ~100 m).
 */
function usableDefinition(entry: EpsgEntry): { definition: string | null; gridName?: string } {
  const p = entry.proj4;
  const grid = p ? /\+nadgrids=(?!@null)(\S+)/.exec(p) : null;
  if (p && grid) return { definition: p.replace(/\s*\+nadgrids=\S+/, ''), gridName: grid[1] };
  return { definition: p ?? entry.wkt };
}

function checkDefinition(crs: Crs): void {
  try {
    proj4(crs.definition, WGS84.definition);
  } catch (e) {
    throw new UserError(`unknown CRS "${crs.id}": its definition cannot be used (${(e as Error).message})`);
  }
}
