import { UserError } from '../errors';
import { crsFromEpsg, epsgCodeOf, WGS84, type Crs } from '../geo/crs';
import type { MultiPolygon, Polygon, Position } from '../geo/geometry';
import type { RoiLayer } from './types';

/**
 * Reads polygons from GeoJSON text: RFC 7946 (WGS 84) or the 2008 spec's `crs` member
 * (`urn:ogc:def:crs:EPSG::3857`, `EPSG:3857`). Feature, FeatureCollection or a bare geometry.
 */
export function readGeoJson(text: string, layerName: string): RoiLayer & { nonPolygonCount: number } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserError(`not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc) || typeof doc.type !== 'string') {
    throw new UserError('not a GeoJSON object: expected a "type" member (FeatureCollection, Feature or a geometry)');
  }
  const crs = crsOf(doc);
  const features: MultiPolygon[] = [];
  let nonPolygonCount = 0;
  const take = (geometry: unknown, where: string): void => {
    const mp = polygonsOf(geometry, where);
    if (mp === undefined) nonPolygonCount++;
    else if (mp.length > 0) features.push(mp);
  };
  switch (doc.type) {
    case 'FeatureCollection': {
      if (!Array.isArray(doc.features)) throw new UserError('FeatureCollection without a "features" array');
      doc.features.forEach((f, k) => take(featureGeometry(f, `feature ${k}`), `feature ${k}`));
      break;
    }
    case 'Feature':
      take(featureGeometry(doc, 'the feature'), 'the feature');
      break;
    default:
      take(doc, 'the geometry');
  }
  return { name: layerName, crs, features, nonPolygonCount };
}

function crsOf(doc: Record<string, unknown>): Crs {
  const crs = doc.crs;
  if (crs === undefined || crs === null) return WGS84;
  if (isObject(crs) && crs.type === 'name' && isObject(crs.properties) && typeof crs.properties.name === 'string') {
    const code = epsgCodeOf(crs.properties.name);
    if (code === undefined) throw new UserError(`unknown CRS "${crs.properties.name}" in the GeoJSON "crs" member`);
    return crsFromEpsg(code);
  }
  if (isObject(crs) && crs.type === 'EPSG' && isObject(crs.properties) && typeof crs.properties.code === 'number') {
    return crsFromEpsg(crs.properties.code);
  }
  throw new UserError('unsupported GeoJSON "crs" member: use {"type":"name","properties":{"name":"EPSG:xxxx"}}');
}

function featureGeometry(f: unknown, where: string): unknown {
  if (!isObject(f) || f.type !== 'Feature') throw new UserError(`${where} is not a GeoJSON Feature`);
  return f.geometry;
}

/** The polygons of a geometry, [] for a null geometry, undefined for a non-polygon geometry. */
function polygonsOf(g: unknown, where: string): MultiPolygon | undefined {
  if (g === null) return [];
  if (!isObject(g) || typeof g.type !== 'string') throw new UserError(`${where} has no valid geometry`);
  switch (g.type) {
    case 'Polygon':
      return [polygon(g.coordinates, where)];
    case 'MultiPolygon':
      if (!Array.isArray(g.coordinates)) throw new UserError(`${where}: MultiPolygon without coordinates`);
      return g.coordinates.map((p) => polygon(p, where));
    case 'GeometryCollection': {
      if (!Array.isArray(g.geometries)) throw new UserError(`${where}: GeometryCollection without geometries`);
      const parts = g.geometries.map((x) => polygonsOf(x, where)).filter((x): x is MultiPolygon => x !== undefined);
      return parts.length ? parts.flat() : undefined;
    }
    case 'Point':
    case 'MultiPoint':
    case 'LineString':
    case 'MultiLineString':
      return undefined;
    default:
      throw new UserError(`${where} has an unknown geometry type "${g.type}"`);
  }
}

function polygon(coords: unknown, where: string): Polygon {
  if (!Array.isArray(coords)) throw new UserError(`${where}: Polygon coordinates must be an array of rings`);
  return coords.map((ring, k) => {
    if (!Array.isArray(ring)) throw new UserError(`${where}: ring ${k} is not an array of positions`);
    return ring.map((p): Position => {
      if (!Array.isArray(p) || p.length < 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number') {
        throw new UserError(`${where}: ring ${k} has a position that is not [x, y] numbers`);
      }
      return [p[0], p[1]];
    });
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
