import type { MultiPolygon, Polygon, Position, Ring } from '../geo/geometry';

/** A decoded geometry: its polygons, or the name of a geometry type that holds none. */
export type DecodedGeometry = { kind: 'polygons'; polygons: MultiPolygon } | { kind: 'other'; type: string } | { kind: 'empty' };

export class WkbError extends Error {}

const TYPE_NAMES: Record<number, string> = {
  1: 'Point', 2: 'LineString', 3: 'Polygon', 4: 'MultiPoint', 5: 'MultiLineString', 6: 'MultiPolygon',
  7: 'GeometryCollection', 8: 'CircularString', 9: 'CompoundCurve', 10: 'CurvePolygon', 11: 'MultiCurve',
  12: 'MultiSurface', 13: 'Curve', 14: 'Surface', 15: 'PolyhedralSurface', 16: 'TIN', 17: 'Triangle',
};

/**
 * Decodes a GeoPackage geometry blob (GeoPackage 1.x §2.1.3: "GP", version, flags, srs_id, envelope,
 * then ISO WKB, with Z / M / ZM dimensions; EWKB dimension flags are accepted as well).
 */
export function decodeGpkgGeometry(blob: Uint8Array): DecodedGeometry {
  if (blob.length < 8 || blob[0] !== 0x47 || blob[1] !== 0x50) throw new WkbError('geometry blob does not start with "GP"');
  const flags = blob[3]!;
  const envelopeKind = (flags >> 1) & 0x07;
  const envelopeBytes = [0, 32, 48, 48, 64][envelopeKind];
  if (envelopeBytes === undefined) throw new WkbError(`invalid envelope indicator ${envelopeKind}`);
  if ((flags >> 5) & 1) throw new WkbError('extended GeoPackage geometry types are not supported');
  if ((flags >> 4) & 1) return { kind: 'empty' };
  const reader = new WkbReader(blob, 8 + envelopeBytes);
  return reader.geometry();
}

export function decodeWkb(wkb: Uint8Array): DecodedGeometry {
  return new WkbReader(wkb, 0).geometry();
}

class WkbReader {
  private readonly view: DataView;
  private little = true;
  private dims = 2;

  constructor(
    private readonly bytes: Uint8Array,
    private pos: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  geometry(): DecodedGeometry {
    const { type } = this.header();
    if (type === 3) return polygonsOrEmpty([this.polygonBody()]);
    if (type === 6) {
      const n = this.count();
      const polys: MultiPolygon = [];
      for (let k = 0; k < n; k++) {
        const h = this.header();
        if (h.type !== 3) throw new WkbError(`MultiPolygon holds a ${TYPE_NAMES[h.type] ?? h.type}`);
        polys.push(this.polygonBody());
      }
      return polygonsOrEmpty(polys);
    }
    if (type === 7) {
      const n = this.count();
      const polys: MultiPolygon = [];
      let other: string | undefined;
      for (let k = 0; k < n; k++) {
        const g = this.geometry();
        if (g.kind === 'polygons') polys.push(...g.polygons);
        else if (g.kind === 'other') other ??= g.type;
      }
      if (polys.length) return { kind: 'polygons', polygons: polys };
      return other ? { kind: 'other', type: 'GeometryCollection' } : { kind: 'empty' };
    }
    if (type === 10 || type === 12 || type === 8 || type === 9 || type === 11) {
      throw new WkbError(`curved geometry (${TYPE_NAMES[type]}) is not supported: linearise it first, e.g. ogr2ogr -nlt MULTIPOLYGON`);
    }
    const name = TYPE_NAMES[type];
    if (!name) throw new WkbError(`unknown WKB geometry type ${type}`);
    return { kind: 'other', type: name };
  }

  private header(): { type: number } {
    const order = this.u8();
    if (order !== 0 && order !== 1) throw new WkbError(`invalid WKB byte order ${order}`);
    this.little = order === 1;
    let raw = this.u32();
    let hasZ = false;
    let hasM = false;
    // EWKB flags (PostGIS) before ISO codes.
    if (raw & 0x80000000) hasZ = true;
    if (raw & 0x40000000) hasM = true;
    if (raw & 0x20000000) this.u32(); // embedded SRID
    raw &= 0x0fffffff;
    const iso = Math.floor(raw / 1000);
    if (iso === 1 || iso === 3) hasZ = true;
    if (iso === 2 || iso === 3) hasM = true;
    this.dims = 2 + (hasZ ? 1 : 0) + (hasM ? 1 : 0);
    return { type: raw % 1000 };
  }

  private polygonBody(): Polygon {
    const rings = this.count();
    const poly: Polygon = [];
    for (let r = 0; r < rings; r++) {
      const n = this.count();
      const ring: Ring = [];
      for (let k = 0; k < n; k++) {
        const x = this.f64();
        const y = this.f64();
        for (let d = 2; d < this.dims; d++) this.f64();
        ring.push([x, y] satisfies Position);
      }
      if (ring.length) poly.push(ring);
    }
    return poly;
  }

  private count(): number {
    const n = this.u32();
    // Each element needs at least 8 bytes: a count beyond the remaining bytes means a corrupt blob.
    if (n > (this.bytes.length - this.pos) / 8 + 1) throw new WkbError('WKB count runs past the end of the blob');
    return n;
  }

  private need(k: number): void {
    if (this.pos + k > this.bytes.length) throw new WkbError('WKB ends early');
  }

  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, this.little);
    this.pos += 4;
    return v;
  }

  private f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, this.little);
    this.pos += 8;
    return v;
  }
}

function polygonsOrEmpty(polys: MultiPolygon): DecodedGeometry {
  const kept = polys.filter((p) => p.length > 0);
  return kept.length ? { kind: 'polygons', polygons: kept } : { kind: 'empty' };
}
