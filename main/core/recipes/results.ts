import { execFile } from 'node:child_process';
import { open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { commitFile, writeFileAtomic } from '../../common/atomic-write';
import type { Job } from '../job/job-file';
import type { JobSnapshot, TileRecord } from '../job/state';
import { periodOf, unitParts } from '../periods/units';
import { countByPeriod } from '../periods/status';
import { filePrefix, periodMosaicPath } from '../sync/names';
import { newStacState, writeStac, type StacState } from '../stac';

/**
 * What a job hands back beside the per-tile files: a VRT mosaic of the GeoTIFFs (one seamless layer in
 * QGIS), the per-tile tables merged into one with a `tile_id` column, and a summary (JSON + text).
 * Everything is rewritten atomically (temporary file, rename), so a reader never sees half a file.
 */

export interface RasterInfo {
  name: string;
  width: number;
  height: number;
  bands: number;
  dataType: string;
  /** [x0, sx, 0, y0, 0, sy] (GDAL order). */
  geoTransform: [number, number, number, number, number, number];
  blockWidth: number;
  blockHeight: number;
  /** Band names from GDAL's metadata tag (42112; Earth Engine writes them), when present. */
  bandNames?: string[];
  /** The NoData value from GDAL's tag (42113), when present. */
  noData?: number;
}

const TYPES: Record<string, string> = { '8/1': 'Byte', '8/2': 'Int8', '16/1': 'UInt16', '16/2': 'Int16', '32/1': 'UInt32', '32/2': 'Int32', '32/3': 'Float32', '64/3': 'Float64' };
const SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8, 17: 8, 18: 8 };

/** Reads the first IFD of a (Big)TIFF: size, bands, data type and georeferencing. */
export async function readGeoTiffInfo(path: string, name: string): Promise<RasterInfo> {
  const fh = await open(path, 'r');
  try {
    const read = async (pos: number, len: number) => {
      const b = Buffer.alloc(len);
      await fh.read(b, 0, len, pos);
      return b;
    };
    const head = await read(0, 16);
    const notTiff = () => new Error(`${name} is not a GeoTIFF`);
    const order = head.toString('latin1', 0, 2);
    if (order !== 'II' && order !== 'MM') throw notTiff();
    const le = order === 'II';
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u64 = (b: Buffer, o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
    const magic = u16(head, 2);
    if (magic !== 42 && magic !== 43) throw notTiff();
    const big = magic === 43;
    const ifd = big ? u64(head, 8) : u32(head, 4);
    const fileSize = (await fh.stat()).size;
    if (ifd < 8 || ifd >= fileSize) throw notTiff();
    const countBytes = big ? 8 : 2;
    const entrySize = big ? 20 : 12;
    const cb = await read(ifd, countBytes);
    const n = big ? u64(cb, 0) : u16(cb, 0);
    if (n === 0 || n > 4096) throw notTiff(); // a real first IFD holds a few dozen tags
    const entries = await read(ifd + countBytes, n * entrySize);
    const tags = new Map<number, number[]>();
    const texts = new Map<number, string>();
    for (let k = 0; k < n; k++) {
      const e = k * entrySize;
      const id = u16(entries, e);
      const type = u16(entries, e + 2);
      const count = big ? u64(entries, e + 4) : u32(entries, e + 4);
      const size = (SIZES[type] ?? 1) * count;
      const inline = size <= (big ? 8 : 4);
      const valueAt = e + (big ? 12 : 8);
      if (id === 42112 || id === 42113) {
        // GDAL's ASCII tags: band names (XML) and the NoData value (text); bounded reads.
        const raw = inline ? entries.subarray(valueAt, valueAt + size) : await read(big ? u64(entries, valueAt) : u32(entries, valueAt), Math.min(size, 65_536));
        texts.set(id, raw.toString('latin1').replace(/\0+$/, ''));
        continue;
      }
      if (![256, 257, 258, 277, 278, 322, 323, 339, 33550, 33922, 34264].includes(id)) continue;
      const data = inline ? entries.subarray(valueAt, valueAt + size) : await read(big ? u64(entries, valueAt) : u32(entries, valueAt), Math.min(size, 1024));
      const values: number[] = [];
      for (let i = 0; i < Math.min(count, 128); i++) {
        const o = i * (SIZES[type] ?? 1);
        values.push(type === 3 ? u16(data, o) : type === 4 ? u32(data, o) : type === 16 ? u64(data, o) : type === 12 ? (le ? data.readDoubleLE(o) : data.readDoubleBE(o)) : data[o]!);
      }
      tags.set(id, values);
    }
    const width = tags.get(256)?.[0];
    const height = tags.get(257)?.[0];
    if (!width || !height) throw notTiff();
    const bits = tags.get(258)?.[0] ?? 8;
    const format = tags.get(339)?.[0] ?? 1;
    let gt: RasterInfo['geoTransform'];
    const scale = tags.get(33550);
    const tie = tags.get(33922);
    const m = tags.get(34264);
    if (scale && tie) gt = [tie[3]! - tie[0]! * scale[0]!, scale[0]!, 0, tie[4]! + tie[1]! * scale[1]!, 0, -scale[1]!];
    else if (m) gt = [m[3]!, m[0]!, m[1]!, m[7]!, m[4]!, m[5]!];
    else throw new Error(`${name} has no georeferencing`);
    return {
      name,
      width,
      height,
      bands: tags.get(277)?.[0] ?? 1,
      dataType: TYPES[`${bits}/${format}`] ?? 'Float32',
      geoTransform: gt,
      blockWidth: tags.get(322)?.[0] ?? width,
      blockHeight: tags.get(323)?.[0] ?? tags.get(278)?.[0] ?? 1,
      ...bandMetadata(texts.get(42112), texts.get(42113)),
    };
  } finally {
    await fh.close();
  }
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Band names from GDAL_METADATA's DESCRIPTION items, and the GDAL_NODATA value. */
function bandMetadata(metadata: string | undefined, noData: string | undefined): Pick<RasterInfo, 'bandNames' | 'noData'> {
  const out: Pick<RasterInfo, 'bandNames' | 'noData'> = {};
  if (metadata) {
    const names: string[] = [];
    for (const m of metadata.matchAll(/<Item name="DESCRIPTION" sample="(\d+)" role="description">([^<]*)<\/Item>/g)) names[Number(m[1])] = unescapeXml(m[2]!);
    if (names.length) out.bandNames = Array.from(names, (n) => n ?? '');
  }
  const value = noData === undefined ? NaN : Number(noData.trim());
  if (noData !== undefined && noData.trim() !== '' && !Number.isNaN(value)) out.noData = value;
  return out;
}

const unescapeXml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** The VRT XML of rasters on one grid (same CRS, pixel size, bands and type): each a SimpleSource at its offset. */
export function vrtXml(rasters: RasterInfo[], crs: string, noData?: number): string {
  const [first] = rasters;
  if (!first) throw new Error('no rasters');
  const sx = first.geoTransform[1];
  const sy = first.geoTransform[5];
  const x0 = Math.min(...rasters.map((r) => r.geoTransform[0]));
  const y0 = Math.max(...rasters.map((r) => r.geoTransform[3]));
  const col = (r: RasterInfo) => Math.round((r.geoTransform[0] - x0) / sx);
  const row = (r: RasterInfo) => Math.round((r.geoTransform[3] - y0) / sy);
  const width = Math.max(...rasters.map((r) => col(r) + r.width));
  const height = Math.max(...rasters.map((r) => row(r) + r.height));
  const lines = [
    `<VRTDataset rasterXSize="${width}" rasterYSize="${height}">`,
    `  <SRS dataAxisToSRSAxisMapping="1,2">${esc(crs)}</SRS>`,
    `  <GeoTransform>${[x0, sx, 0, y0, 0, sy].map((v) => v.toString()).join(', ')}</GeoTransform>`,
  ];
  // NoData: the job's export.noData, else what the tiles carry; band names from the tiles (EE writes them).
  const nodata = noData ?? first.noData;
  for (let b = 1; b <= first.bands; b++) {
    lines.push(`  <VRTRasterBand dataType="${first.dataType}" band="${b}">`);
    const name = first.bandNames?.[b - 1];
    if (name) lines.push(`    <Description>${esc(name)}</Description>`);
    if (nodata !== undefined) lines.push(`    <NoDataValue>${nodata}</NoDataValue>`);
    for (const r of rasters) {
      lines.push(
        '    <SimpleSource>',
        `      <SourceFilename relativeToVRT="1">${esc(r.name)}</SourceFilename>`,
        `      <SourceBand>${b}</SourceBand>`,
        `      <SourceProperties RasterXSize="${r.width}" RasterYSize="${r.height}" DataType="${r.dataType}" BlockXSize="${r.blockWidth}" BlockYSize="${r.blockHeight}" />`,
        `      <SrcRect xOff="0" yOff="0" xSize="${r.width}" ySize="${r.height}" />`,
        `      <DstRect xOff="${col(r)}" yOff="${row(r)}" xSize="${r.width}" ySize="${r.height}" />`,
        '    </SimpleSource>',
      );
    }
    lines.push('  </VRTRasterBand>');
  }
  lines.push('</VRTDataset>', '');
  return lines.join('\n');
}

/** The one atomic writer (main/common/atomic-write.ts): temporary file, fsync, rename, folder fsync. */
const writeAtomic = writeFileAtomic;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The job's downloaded outputs of the given extension, with the tile each belongs to (from the journal). */
/**
 * What a rewrite may keep from the last one, so its cost follows the tiles done, not the job's size: the
 * headers read of verified GeoTIFFs (they never change), and the ids of the tiles done so far (filled by
 * one scan of the state, then told of each tile as it is done).
 */
export interface ResultsCache {
  headers: Map<string, RasterInfo>;
  done?: Set<string>;
  /** Files left out of the mosaic because they are not GeoTIFFs (warned about once each). */
  skipped?: Set<string>;
  /** A job with periods: how many done units each period's mosaic was last written with. */
  periodMosaics?: Map<string, number>;
  /** A job with periods: the STAC Items written so far. */
  stac?: StacState;
}

/** Told of a file left out of the results (one line, once per file). */
export type ResultsWarning = (message: string) => void;

function doneTiles(state: JobSnapshot, cache?: ResultsCache): TileRecord[] {
  if (!cache) return Object.values(state.tiles).filter((t) => t.state === 'done' || t.state === 'verified');
  cache.done ??= new Set(Object.values(state.tiles).filter((t) => t.state === 'done' || t.state === 'verified').map((t) => t.id));
  return [...cache.done].flatMap((id) => (state.tiles[id] ? [state.tiles[id]] : []));
}

/** The done units of a job with periods, by period id. */
function donePeriodUnits(state: JobSnapshot, cache?: ResultsCache): Map<string, TileRecord[]> {
  const byPeriod = new Map<string, TileRecord[]>();
  for (const t of doneTiles(state, cache)) {
    const p = periodOf(t.id);
    if (p === undefined) continue;
    let list = byPeriod.get(p);
    if (!list) byPeriod.set(p, (list = []));
    list.push(t);
  }
  return byPeriod;
}

async function tileOutputs(job: Job, state: JobSnapshot, ext: string, cache?: ResultsCache, only?: { dir: string; units: TileRecord[] }): Promise<{ name: string; tile: TileRecord }[]> {
  const names = new Set(await readdir(only?.dir ?? job.output).catch(() => [] as string[]));
  const out: { name: string; tile: TileRecord }[] = [];
  for (const tile of only?.units ?? doneTiles(state, cache)) {
    if (tile.state !== 'done' && tile.state !== 'verified') continue;
    const re = new RegExp(`^${escapeRe(filePrefix(job.name, tile.id))}(-\\d{10}-\\d{10})?\\.${ext}$`);
    for (const f of tile.files) if (f.verified && re.test(f.name) && names.has(f.name)) out.push({ name: f.name, tile });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * Writes `{job}.vrt` over every verified GeoTIFF of the job (split parts and split children included).
 * `cache` keeps what a rewrite may reuse (see ResultsCache).
 */
export async function writeMosaic(job: Job, state: JobSnapshot, cache?: ResultsCache, warn?: ResultsWarning): Promise<string | undefined> {
  if (job.periods) return writePeriodMosaics(job, state, cache, warn);
  return mosaicOf(job, state, join(job.output, `${job.name}.vrt`), cache, warn);
}

/**
 * A job with periods: one mosaic per period, `{output}/{periodId}/{job}_{periodId}.vrt`, over that
 * period's units only (docs/periods.md#names); a period is rewritten only when its done units changed.
 * Returns the newest period's mosaic.
 */
async function writePeriodMosaics(job: Job, state: JobSnapshot, cache?: ResultsCache, warn?: ResultsWarning): Promise<string | undefined> {
  const byPeriod = donePeriodUnits(state, cache);
  const written = cache ? (cache.periodMosaics ??= new Map<string, number>()) : new Map<string, number>();
  let last: string | undefined;
  for (const p of job.periods ?? []) {
    const units = byPeriod.get(p.id);
    if (!units) continue;
    const path = periodMosaicPath(job.output, job.name, p.id);
    if (written.get(p.id) !== units.length) {
      const made = await mosaicOf(job, state, path, cache, warn, { dir: join(job.output, p.id), units });
      if (!made) continue;
      written.set(p.id, units.length);
    }
    last = path;
  }
  return last;
}

async function mosaicOf(job: Job, state: JobSnapshot, path: string, cache?: ResultsCache, warn?: ResultsWarning, only?: { dir: string; units: TileRecord[] }): Promise<string | undefined> {
  const dir = only?.dir ?? job.output;
  const files = await tileOutputs(job, state, 'tif', cache, only);
  const headers = cache?.headers ?? new Map<string, RasterInfo>();
  const skipped = cache ? (cache.skipped ??= new Set<string>()) : new Set<string>();
  if (files.length === 0) return undefined;
  // A file under a tile's name that is not a GeoTIFF (replaced, damaged) is left out, not allowed to stop the mosaic.
  const read = await Promise.all(
    files.map(async (f): Promise<{ info: RasterInfo; tile: TileRecord } | undefined> => {
      let info = headers.get(f.name);
      if (!info) {
        try {
          info = await readGeoTiffInfo(join(dir, f.name), f.name);
        } catch (e) {
          if (!skipped.has(f.name)) {
            skipped.add(f.name);
            warn?.(`${join(dir, f.name)} is not a GeoTIFF Tessera can read (${(e as Error).message}); it is left out of the mosaic`);
          }
          return undefined;
        }
        headers.set(f.name, info);
      }
      return { info, tile: f.tile };
    }),
  );
  const good = read.filter((r): r is { info: RasterInfo; tile: TileRecord } => r !== undefined);
  if (good.length === 0) return undefined;
  await writeAtomic(path, vrtXml(good.map((g) => g.info), good[0]!.tile.crs, job.export.noData));
  return path;
}

/** RFC 4180 CSV into rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const csvField = (v: unknown) => {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * Merges the per-tile CSV / GeoJSON tables into `{job}.csv`: a `tile_id` column first, then the union
 * of every table's columns. Each tile's file is read once, so a point appears exactly once.
 */
export async function mergeTables(job: Job, state: JobSnapshot, cache?: ResultsCache): Promise<{ path: string; rows: number; gpkg: string } | undefined> {
  const files = job.periods ? await periodTableFiles(job, state, cache) : [...(await tileOutputs(job, state, 'csv', cache)), ...(await tileOutputs(job, state, 'geojson', cache))].map((f) => ({ ...f, dir: job.output }));
  if (files.length === 0) return undefined;
  // A time series: one table over all periods, each row naming its tile and its period (docs/periods.md).
  const lead = job.periods ? ['tile_id', 'period'] : ['tile_id'];
  const tagOf = (t: TileRecord) => (job.periods ? { tile_id: unitParts(t.id).tileId, period: unitParts(t.id).periodId } : { tile_id: t.id });
  const columns: string[] = [];
  const rows: Record<string, unknown>[] = [];
  const addColumn = (c: string) => !columns.includes(c) && columns.push(c);
  for (const f of files) {
    const text = await readFile(join(f.dir, f.name), 'utf8');
    if (f.name.endsWith('.csv')) {
      const [header, ...body] = parseCsv(text);
      if (!header) continue;
      header.forEach(addColumn);
      for (const r of body) if (r.length > 1 || r[0] !== '') rows.push({ ...tagOf(f.tile), ...Object.fromEntries(header.map((h, i) => [h, r[i]])) });
    } else {
      const doc = JSON.parse(text) as { features?: { id?: unknown; geometry?: unknown; properties?: Record<string, unknown> }[] };
      for (const feat of doc.features ?? []) {
        const r: Record<string, unknown> = { ...tagOf(f.tile), 'system:index': feat.id, ...feat.properties, '.geo': feat.geometry ?? null };
        Object.keys(r).forEach((k) => !lead.includes(k) && addColumn(k));
        rows.push(r);
      }
    }
  }
  const header = [...lead, ...columns.filter((c) => !lead.includes(c))];
  const text = [header.map(csvField).join(','), ...rows.map((r) => header.map((h) => csvField(r[h])).join(','))].join('\r\n') + '\r\n';
  const path = join(job.output, `${job.name}.csv`);
  await writeAtomic(path, text);
  const gpkg = join(job.output, `${job.name}.gpkg`);
  await writeAtomic(gpkg, await geoPackageOf(job.name, header, rows));
  return { path, rows: rows.length, gpkg };
}

/** A job with periods: the table files of each period's folder, with the unit each belongs to. */
async function periodTableFiles(job: Job, state: JobSnapshot, cache?: ResultsCache): Promise<{ name: string; tile: TileRecord; dir: string }[]> {
  const byPeriod = donePeriodUnits(state, cache);
  const out: { name: string; tile: TileRecord; dir: string }[] = [];
  for (const p of job.periods ?? []) {
    const units = byPeriod.get(p.id);
    if (!units) continue;
    const dir = join(job.output, p.id);
    for (const ext of ['csv', 'geojson']) for (const f of await tileOutputs(job, state, ext, cache, { dir, units })) out.push({ ...f, dir });
  }
  return out;
}

/** A point (lon, lat) from an EE `.geo` value (GeoJSON text or object), when it is one. */
function pointOf(geo: unknown): [number, number] | undefined {
  let g = geo;
  if (typeof g === 'string') {
    try {
      g = JSON.parse(g);
    } catch {
      return undefined;
    }
  }
  const c = (g as { type?: string; coordinates?: unknown } | null)?.coordinates;
  if ((g as { type?: string } | null)?.type === 'Point' && Array.isArray(c) && typeof c[0] === 'number' && typeof c[1] === 'number') return [c[0], c[1]];
  return undefined;
}

/** The merged table as a GeoPackage (sql.js): one layer named after the job, points in EPSG:4326 when the table has them. */
async function geoPackageOf(name: string, header: string[], rows: Record<string, unknown>[]): Promise<Uint8Array> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const SQL = await (require('sql.js') as () => Promise<import('sql.js').SqlJsStatic>)();
  const db = new SQL.Database();
  try {
    const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
    const cols = header.filter((h) => h !== '.geo');
    const numeric = new Set(cols.filter((c) => rows.every((r) => r[c] === undefined || r[c] === '' || r[c] === null || Number.isFinite(Number(r[c])))));
    db.exec(`PRAGMA application_id = 1196444487; PRAGMA user_version = 10300;
      CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
      INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', NULL), ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', NULL),
        ('WGS 84', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]', NULL);
      CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER);
      CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name));`);
    db.exec(`CREATE TABLE ${q(name)} (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom POINT${cols.map((c) => `, ${q(c)} ${numeric.has(c) ? 'REAL' : 'TEXT'}`).join('')})`);
    db.run('INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES (?, ?, ?, 4326)', [name, 'features', name]);
    db.run("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'POINT', 4326, 0, 0)", [name]);
    const stmt = db.prepare(`INSERT INTO ${q(name)} (geom${cols.map((c) => `, ${q(c)}`).join('')}) VALUES (?${cols.map(() => ', ?').join('')})`);
    for (const r of rows) {
      const p = pointOf(r['.geo']);
      let blob: Uint8Array | null = null;
      if (p) {
        const b = Buffer.alloc(8 + 21);
        b.write('GP', 0, 'latin1');
        b[2] = 0;
        b[3] = 1; // little-endian, no envelope
        b.writeInt32LE(4326, 4);
        b[8] = 1;
        b.writeUInt32LE(1, 9);
        b.writeDoubleLE(p[0], 13);
        b.writeDoubleLE(p[1], 21);
        blob = b;
      }
      const values = cols.map((c) => {
        const v = r[c];
        if (v === undefined || v === null || v === '') return null;
        return numeric.has(c) ? Number(v) : typeof v === 'string' ? v : JSON.stringify(v);
      });
      stmt.run([blob, ...values]);
    }
    stmt.free();
    return db.export();
  } finally {
    db.close();
  }
}

export interface JobSummary {
  job: string;
  finishedAt: string;
  tiles: Record<string, number>;
  files: number;
  bytes: number;
  eecuSeconds: number;
  failures: { tile: string; error: string }[];
  mosaic?: string;
  table?: { path: string; rows: number; gpkg?: string };
  /** A time series: units by period and state (docs/periods.md#status). */
  periods?: Record<string, Partial<Record<string, number>>>;
}

/** Writes `{job}.summary.json` and `{job}.summary.txt` into the output folder. */
export async function writeSummary(job: Job, state: JobSnapshot, extra: Pick<JobSummary, 'mosaic' | 'table'> = {}): Promise<JobSummary> {
  const tiles: Record<string, number> = {};
  let files = 0;
  let bytes = 0;
  let eecu = 0;
  const failures: JobSummary['failures'] = [];
  for (const t of Object.values(state.tiles)) {
    tiles[t.state] = (tiles[t.state] ?? 0) + 1;
    for (const f of t.files) {
      if (!f.verified) continue;
      files++;
      bytes += f.size;
    }
    eecu += t.eecuSeconds ?? 0;
    if (t.state === 'failed') failures.push({ tile: t.id, error: t.error ?? 'failed' });
  }
  const summary: JobSummary = { job: job.name, finishedAt: new Date().toISOString(), tiles, files, bytes, eecuSeconds: eecu, failures, ...extra, ...(job.periods ? { periods: countByPeriod(Object.values(state.tiles), job.periods) } : {}) };
  await writeAtomic(join(job.output, `${job.name}.summary.json`), `${JSON.stringify(summary, null, 2)}\n`);
  const text = [
    `job ${job.name} — ${summary.finishedAt}`,
    `tiles: ${Object.entries(tiles).map(([s, n]) => `${n} ${s}`).join(', ')}`,
    `files: ${files} (${bytes} bytes)`,
    `EECU-seconds reported by Earth Engine: ${eecu.toFixed(1)}`,
    ...(extra.mosaic ? [`mosaic: ${extra.mosaic}`] : []),
    ...(extra.table ? [`table: ${extra.table.path} (${extra.table.rows} rows)${extra.table.gpkg ? `, ${extra.table.gpkg}` : ''}`] : []),
    ...(summary.periods ? ['periods:', ...Object.entries(summary.periods).map(([id, c]) => `  ${id}: ${Object.entries(c).map(([s, n]) => `${n} ${s}`).join(', ') || 'none'}`)] : []),
    `failures: ${failures.length}`,
    ...failures.map((f) => `  ${f.tile}: ${f.error}`),
    '',
  ].join('\n');
  await writeAtomic(join(job.output, `${job.name}.summary.txt`), text);
  return summary;
}

/** Rewrites the mosaic and merged table; returns what exists now. */
export async function updateResults(job: Job, state: JobSnapshot, cache?: ResultsCache, warn?: ResultsWarning): Promise<Pick<JobSummary, 'mosaic' | 'table'>> {
  const mosaic = await writeMosaic(job, state, cache, warn);
  const table = await mergeTables(job, state, cache);
  // A time series also gets its STAC catalog, one Item per finished unit (docs/stac.md).
  if (job.periods) await writeStac(job, state, doneTiles(state, cache), cache ? (cache.stac ??= newStacState()) : newStacState());
  return { ...(mosaic ? { mosaic } : {}), ...(table ? { table } : {}) };
}

/**
 * Builds one Cloud-Optimized GeoTIFF `{job}.tif` from the mosaic with GDAL's `gdal_translate` (COG driver),
 * when GDAL is installed; otherwise says so (the VRT stays the result).
 */
export async function buildCog(job: Job, vrt: string): Promise<{ path: string } | { problem: string }> {
  const out = join(job.output, `${job.name}.tif`);
  const tmp = join(job.output, `${job.name}.tif.part`);
  const run = (args: string[]) =>
    new Promise<void>((ok, fail) => execFile('gdal_translate', args, { maxBuffer: 1 << 20 }, (e, _o, err) => (e ? fail(Object.assign(e, { stderr: err })) : ok())));
  try {
    await run(['-q', '-of', 'COG', '-co', 'COMPRESS=DEFLATE', vrt, tmp]);
    await commitFile(tmp, out);
    return { path: out };
  } catch (e) {
    await rm(tmp, { force: true });
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { problem: `GDAL is not installed (no gdal_translate on PATH): no single GeoTIFF was built; the mosaic ${vrt} opens in QGIS as it is` };
    return { problem: `gdal_translate could not build ${out}: ${String((e as { stderr?: string }).stderr || (e as Error).message).trim().split('\n')[0]}` };
  }
}
