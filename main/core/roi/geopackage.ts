import { UserError } from '../errors';
import { crsFromDefinition, crsFromEpsg, WGS84, type Crs } from '../geo/crs';
import type { MultiPolygon } from '../geo/geometry';
import type { LayerInfo, RoiLayer } from './types';
import { decodeGpkgGeometry, WkbError } from './wkb';
import type { Database, SqlJsStatic } from 'sql.js';

const POLYGON_TYPES = new Set(['POLYGON', 'MULTIPOLYGON', 'GEOMETRY', 'GEOMETRYCOLLECTION']);

let sqlJs: Promise<SqlJsStatic> | undefined;

/** sql.js (SQLite in WebAssembly) loads once, lazily: no native module, so no Electron rebuild. */
function loadSqlJs(): Promise<SqlJsStatic> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sqlJs ??= (require('sql.js') as (cfg?: object) => Promise<SqlJsStatic>)();
  return sqlJs;
}

const SQLITE_MAGIC = 'SQLite format 3\0';

export function looksLikeSqlite(bytes: Uint8Array): boolean {
  return bytes.length >= 16 && Buffer.from(bytes.subarray(0, 16)).toString('latin1') === SQLITE_MAGIC;
}

interface GeometryColumn {
  table: string;
  column: string;
  geometryType: string;
  srsId: number;
}

export class GeoPackage {
  private constructor(
    private readonly db: Database,
    private readonly label: string,
  ) {}

  static async open(bytes: Uint8Array, label: string): Promise<GeoPackage> {
    if (!looksLikeSqlite(bytes)) throw new UserError(`${label} is not a GeoPackage (not an SQLite database)`);
    const SQL = await loadSqlJs();
    let db: Database;
    try {
      db = new SQL.Database(bytes);
      db.exec('SELECT count(*) FROM sqlite_master');
    } catch (e) {
      throw new UserError(`${label} cannot be read as a GeoPackage (${sqliteReason(e)})`);
    }
    const gpkg = new GeoPackage(db, label);
    if (gpkg.query("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_contents'").length === 0) {
      gpkg.fail('it has no gpkg_contents table, so it is an SQLite file but not a GeoPackage');
    }
    return gpkg;
  }

  close(): void {
    this.db.close();
  }

  layers(): LayerInfo[] {
    return this.geometryColumns().map((g) => ({
      name: g.table,
      geometryType: g.geometryType,
      featureCount: Number(this.query(`SELECT count(*) FROM ${quoteIdent(g.table)}`)[0]?.[0] ?? 0),
    }));
  }

  /** Reads the polygon features of a layer: the named one, or the only polygon layer. */
  readLayer(requested?: string): RoiLayer {
    const columns = this.geometryColumns();
    if (columns.length === 0) this.fail('it has no feature layers');
    let col: GeometryColumn;
    if (requested !== undefined) {
      const found = columns.find((c) => c.table === requested);
      if (!found) this.fail(`it has no layer "${requested}" (layers: ${describe(columns)})`);
      col = found;
      if (!POLYGON_TYPES.has(col.geometryType)) {
        this.fail(`layer "${requested}" holds ${col.geometryType} geometries, not polygons`);
      }
    } else {
      const polygonal = columns.filter((c) => POLYGON_TYPES.has(c.geometryType));
      if (polygonal.length === 0) this.fail(`it has no polygon layer (layers: ${describe(columns)})`);
      if (polygonal.length > 1) {
        this.fail(`it has ${polygonal.length} polygon layers (${polygonal.map((c) => c.table).join(', ')}): choose one with --layer`);
      }
      col = polygonal[0]!;
    }
    const features = this.readPolygons(col);
    return { name: col.table, crs: this.crsOf(col.srsId, col.table), features };
  }

  private readPolygons(col: GeometryColumn): MultiPolygon[] {
    const rows = this.query(`SELECT ${quoteIdent(col.column)} FROM ${quoteIdent(col.table)}`);
    const features: MultiPolygon[] = [];
    let others = 0;
    rows.forEach((row, k) => {
      const blob = row[0];
      if (blob === null || blob === undefined) return;
      if (!(blob instanceof Uint8Array)) this.fail(`feature ${k + 1} of layer "${col.table}" has no geometry blob`);
      try {
        const g = decodeGpkgGeometry(blob);
        if (g.kind === 'polygons') features.push(g.polygons);
        else if (g.kind === 'other') others++;
      } catch (e) {
        if (e instanceof WkbError) this.fail(`feature ${k + 1} of layer "${col.table}": ${e.message}`);
        throw e;
      }
    });
    if (features.length === 0) {
      this.fail(others ? `layer "${col.table}" holds no polygons` : `layer "${col.table}" is empty`);
    }
    return features;
  }

  private crsOf(srsId: number, table: string): Crs {
    if (srsId === 0) return WGS84; // "undefined geographic" in the spec: longitude/latitude
    const row = this.query(
      `SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ${Number(srsId)}`,
    )[0];
    if (!row) this.fail(`layer "${table}" refers to srs_id ${srsId}, which gpkg_spatial_ref_sys does not define`);
    const [org, orgId, definition] = row as [unknown, unknown, unknown];
    if (typeof org === 'string' && org.toUpperCase() === 'EPSG' && typeof orgId === 'number' && orgId > 0) {
      return crsFromEpsg(orgId);
    }
    if (typeof definition === 'string' && definition.trim() && definition.trim().toLowerCase() !== 'undefined') {
      return crsFromDefinition(definition, `${String(org ?? 'srs')}:${String(orgId ?? srsId)}`);
    }
    return this.fail(`layer "${table}" has no usable CRS (srs_id ${srsId}): assign one, e.g. ogr2ogr -a_srs EPSG:xxxx`);
  }

  private geometryColumns(): GeometryColumn[] {
    const hasTable = this.query("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_geometry_columns'").length > 0;
    if (!hasTable) return [];
    return this.query(
      `SELECT g.table_name, g.column_name, g.geometry_type_name, g.srs_id FROM gpkg_geometry_columns g
       JOIN gpkg_contents c ON c.table_name = g.table_name ORDER BY g.table_name`,
    ).map(([table, column, type, srs]) => ({
      table: String(table),
      column: String(column),
      geometryType: String(type).toUpperCase(),
      srsId: Number(srs),
    }));
  }

  private query(sql: string): unknown[][] {
    try {
      return this.db.exec(sql)[0]?.values ?? [];
    } catch (e) {
      return this.fail(`it cannot be read (${sqliteReason(e)})`);
    }
  }

  private fail(why: string): never {
    throw new UserError(`${this.label}: ${why}`);
  }
}

function describe(cols: GeometryColumn[]): string {
  return cols.map((c) => `${c.table} (${c.geometryType})`).join(', ');
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function sqliteReason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return /malformed|not a database|file is not a database/i.test(msg) ? `${msg}; the file may be truncated or damaged` : msg;
}
