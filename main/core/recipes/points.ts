import { basename, extname } from 'node:path';
import type { SqlJsStatic } from 'sql.js';
import { UserError } from '../errors';
import { readBoundedFile, ROI_MAX_BYTES } from '../fs-bounded';
import { crsFromEpsg, epsgCodeOf, resolveCrs, transformer, WGS84, type Crs } from '../geo/crs';
import type { PointRow, TileSpec } from './presets';
import { tileBounds } from './presets';

type Scalar = string | number | boolean | null;

/**
 * Reads the job's point layer (GeoJSON, or a GeoPackage point layer) into the export CRS. Every point
 * gets `point_id` (its 0-based position in the layer; MultiPoints give one row per part) so the merged
 * table can be checked for every point exactly once.
 */
export async function loadPoints(path: string, exportCrs: string, layer?: string): Promise<PointRow[]> {
  const bytes = await readBoundedFile(path, { label: `the points layer ${path}`, maxBytes: ROI_MAX_BYTES, hint: 'give a .geojson or .gpkg file', missing: `the points layer ${path} was not found` });
  const label = basename(path);
  const raw = bytes.subarray(0, 16).toString('latin1') === 'SQLite format 3\0' ? await readGpkgPoints(bytes, label, layer) : readGeoJsonPoints(bytes.toString('utf8'), label, extname(path));
  const fwd = transformer(raw.crs, resolveCrs(exportCrs));
  const out: PointRow[] = [];
  raw.points.forEach((p) => {
    const [x, y] = fwd(p.x, p.y);
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new UserError(`${label}: point ${p.properties.point_id} cannot be placed in ${exportCrs}`);
    out.push({ x, y, properties: p.properties });
  });
  if (out.length === 0) throw new UserError(`${label} holds no points`);
  return out;
}

/** The points of one tile by the half-open rule of docs/grid.md#point-assignment: x0 ≤ x < x1 and y0 < y ≤ y1. */
export function pointsInTile(points: readonly PointRow[], tile: TileSpec): PointRow[] {
  const [x0, y0, x1, y1] = tileBounds(tile);
  return points.filter((p) => p.x >= x0 && p.x < x1 && p.y > y0 && p.y <= y1);
}

function scalarProps(props: unknown, id: number): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  if (props && typeof props === 'object') {
    for (const [k, v] of Object.entries(props)) if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out[k] = v as Scalar;
  }
  out.point_id = id;
  return out;
}

function readGeoJsonPoints(text: string, label: string, ext: string): { crs: Crs; points: PointRow[] } {
  let doc: { type?: string; features?: unknown[]; crs?: { properties?: { name?: string } } };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (e) {
    throw new UserError(`${label}: ${ext === '.gpkg' ? 'not a GeoPackage' : `not valid JSON (${(e as Error).message})`}`);
  }
  const name = doc.crs?.properties?.name;
  const code = name ? epsgCodeOf(name) : 4326;
  if (code === undefined) throw new UserError(`${label}: unknown crs "${name}"`);
  const crs = code === 4326 ? WGS84 : crsFromEpsg(code);
  const features = doc.type === 'FeatureCollection' && Array.isArray(doc.features) ? doc.features : doc.type === 'Feature' ? [doc] : [];
  const points: PointRow[] = [];
  features.forEach((f, k) => {
    const g = (f as { geometry?: { type?: string; coordinates?: unknown } }).geometry;
    const props = scalarProps((f as { properties?: unknown }).properties, k);
    const coords = g?.type === 'Point' ? [g.coordinates] : g?.type === 'MultiPoint' ? (g.coordinates as unknown[]) : undefined;
    if (!coords) {
      if (g) throw new UserError(`${label}: feature ${k} is a ${g.type}, not a point`);
      return;
    }
    for (const c of coords) {
      const [x, y] = c as [number, number];
      if (typeof x !== 'number' || typeof y !== 'number') throw new UserError(`${label}: feature ${k} has bad coordinates`);
      points.push({ x, y, properties: props });
    }
  });
  return { crs, points };
}

let sqlJs: Promise<SqlJsStatic> | undefined;

async function readGpkgPoints(bytes: Buffer, label: string, layer?: string): Promise<{ crs: Crs; points: PointRow[] }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sqlJs ??= (require('sql.js') as () => Promise<SqlJsStatic>)();
  const db = new (await sqlJs).Database(bytes);
  try {
    const cols = db.exec(
      "SELECT table_name, column_name, geometry_type_name, srs_id FROM gpkg_geometry_columns WHERE upper(geometry_type_name) IN ('POINT','MULTIPOINT','GEOMETRY')",
    )[0]?.values ?? [];
    const chosen = layer ? cols.find((c) => c[0] === layer) : cols.length === 1 ? cols[0] : undefined;
    if (!chosen) {
      throw new UserError(`${label}: ${layer ? `no point layer "${layer}"` : cols.length ? `several point layers (${cols.map((c) => c[0]).join(', ')}): choose one with "points": { "path", "layer" }` : 'no point layer'}`);
    }
    const [table, column, , srsId] = chosen as [string, string, string, number];
    const org = db.exec(`SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id = ${Number(srsId)}`)[0]?.values[0];
    const crs = srsId === 0 || srsId === 4326 ? WGS84 : org && String(org[0]).toUpperCase() === 'EPSG' ? crsFromEpsg(Number(org[1])) : WGS84;
    const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
    const res = db.exec(`SELECT * FROM ${q(table)}`)[0];
    const points: PointRow[] = [];
    if (!res) return { crs, points };
    const gi = res.columns.indexOf(column);
    res.values.forEach((row, k) => {
      const props: Record<string, unknown> = {};
      res.columns.forEach((c, i) => i !== gi && c !== 'fid' && (props[c] = row[i]));
      const blob = row[gi];
      if (!(blob instanceof Uint8Array)) return;
      for (const [x, y] of gpkgPoints(blob, label, k)) points.push({ x, y, properties: scalarProps(props, k) });
    });
    return { crs, points };
  } finally {
    db.close();
  }
}

/** The coordinates of a GeoPackage Point / MultiPoint blob (2D, Z, M or ZM). */
function gpkgPoints(blob: Uint8Array, label: string, k: number): [number, number][] {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const flags = blob[3]!;
  const env = [0, 32, 48, 48, 64][(flags >> 1) & 7] ?? 0;
  if ((flags >> 4) & 1) return [];
  let pos = 8 + env;
  const header = () => {
    const little = blob[pos] === 1;
    const t = view.getUint32(pos + 1, little);
    pos += 5;
    const base = t % 1000;
    const dims = 2 + (t >= 1000 && t < 2000 ? 1 : t >= 2000 && t < 3000 ? 1 : t >= 3000 ? 2 : 0) + ((t & 0x80000000) ? 1 : 0) + ((t & 0x40000000) ? 1 : 0);
    return { little, type: base & 0xff, dims };
  };
  const point = (little: boolean, dims: number): [number, number] => {
    const p: [number, number] = [view.getFloat64(pos, little), view.getFloat64(pos + 8, little)];
    pos += 8 * dims;
    return p;
  };
  const h = header();
  if (h.type === 1) return [point(h.little, h.dims)];
  if (h.type === 4) {
    const n = view.getUint32(pos, h.little);
    pos += 4;
    const out: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      const hh = header();
      out.push(point(hh.little, hh.dims));
    }
    return out;
  }
  throw new UserError(`${label}: feature ${k} is not a point`);
}
