import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { syncDirSync } from '../../common/atomic-write';
import { join } from 'node:path';
import type { EmuRequest, Route } from '../http/router';
import { eeError, json, type Reply } from '../http/reply';
import type { AssetLookup } from './evaluator';
import type { ExportGrid, ExportProduct, GeoJsonGeometry, PropertyValue, TableFeature } from './product';

/**
 * Earth Engine assets (docs/earth-engine-client.md#assets): folders, image collections, and the IMAGE / TABLE assets that
 * `toAsset` exports create. Plain records, journalled like operations and Drive files; a deleted asset
 * stays in the store with `deletedAt` (for `/__emulator/state`) but is invisible to the API.
 */
export type AssetType = 'FOLDER' | 'IMAGE_COLLECTION' | 'IMAGE' | 'TABLE';

export interface Asset {
  /** Unique per record (a name can be deleted and created again). */
  uid: number;
  /** `projects/{p}/assets/{id}`. */
  name: string;
  type: AssetType;
  createTime: number;
  updateTime: number;
  sizeBytes: number | null;
  featureCount: number | null;
  bands: { id: string; dataType: string }[] | null;
  /** Images: the pixel grid (EE order transform). */
  grid?: { crs: string; crsTransform: readonly number[]; width: number; height: number } | null;
  properties: Record<string, unknown>;
  deletedAt: number | null;
}

const BYTES: Record<string, number> = { Int8: 1, UInt8: 1, Int16: 2, UInt16: 2, Int32: 4, UInt32: 4, Float32: 4, Float64: 8 };

export const ASSET_MESSAGES = {
  /** Google's wording (docs/earth-engine-client.md#assets). */
  missing: (name: string) => `Asset '${name}' does not exist or doesn't allow this operation.`,
  cannotOverwrite: (name: string) => `Cannot overwrite asset '${name}'.`,
  /** UNVERIFIED wording (Google's text for a full asset quota is not documented). */
  assetLimit: (project: string, max: number) => `Asset quota exceeded: project '${project}' already holds the maximum of ${max} assets.`,
  /** UNVERIFIED wording. */
  notEmpty: (name: string) => `Cannot delete asset '${name}': it is not empty.`,
  badParent: (name: string) => `Asset '${name}' does not exist or doesn't allow this operation.`,
} as const;

export class AssetError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** The project root of a name, or null for a name that is not `projects/{p}/assets/…`. */
export function splitAssetName(name: string): { project: string; id: string } | null {
  const m = /^projects\/([^/]+)\/assets\/(.+)$/.exec(name);
  if (!m) return null;
  const id = (m[2] as string).replace(/\/+$/, '');
  if (id === '' || id.split('/').some((s) => s === '' || !/^[A-Za-z0-9_-]+$/.test(s))) return null;
  return { project: m[1] as string, id };
}

function parentOf(name: string): string {
  return name.slice(0, name.lastIndexOf('/'));
}

function isRoot(name: string): boolean {
  return /^projects\/[^/]+\/assets$/.test(name);
}

export class AssetStore {
  /** Every record by uid, deleted ones included. */
  private readonly records = new Map<number, Asset>();
  /** Live assets by name. */
  private readonly all = new Map<string, Asset>();
  private changed = new Set<Asset>();
  private nextUid = 1;

  /**
   * @param tablesDir where TABLE assets keep their features (one compact JSON file per asset record,
   *   `{uid}.json`: columns once, then one row per feature), so a table never sits in memory
   * @param durable fsync each table file before the asset record is journalled
   * @param maxAssets the asset count quota of a project (export and create refuse beyond it)
   */
  constructor(
    private readonly now: () => number,
    private readonly tablesDir: string | null = null,
    private readonly durable = false,
    private readonly maxAssets: () => number = () => MAX_ASSETS,
    private readonly dropFeatures: () => number = () => 0,
  ) {}

  /** The asset count limit of a project (the `maxAssets` option). */
  limit(): number {
    return this.maxAssets();
  }

  private checkQuota(name: string): void {
    const project = splitAssetName(name)?.project;
    if (project === undefined) return;
    const max = this.maxAssets();
    // 400, not 429: the client would retry a 429 for ever, and waiting does not free an asset quota.
    if (this.quota(project).assetCount >= max) throw new AssetError(400, ASSET_MESSAGES.assetLimit(project, max));
  }

  private tableFile(uid: number): string {
    return join(this.tablesDir as string, `${uid}.json`);
  }

  /** Writes a table's features compactly (columns once; rows of id, geometry, values). */
  private writeFeatures(uid: number, features: readonly TableFeature[]): void {
    if (this.tablesDir === null) return;
    const columns = [...new Set(features.flatMap((f) => Object.keys(f.properties)))].sort();
    mkdirSync(this.tablesDir, { recursive: true });
    const fd = openSync(this.tableFile(uid), 'w');
    try {
      writeSync(fd, `{"columns":${JSON.stringify(columns)},"rows":[`);
      features.forEach((f, i) => {
        // Dense rows (every column present) as arrays; a feature lacking some column as an object.
        const dense = columns.every((c) => c in f.properties);
        const row = dense ? [f.id, f.geometry, ...columns.map((c) => f.properties[c])] : { i: f.id, g: f.geometry, p: f.properties };
        writeSync(fd, `${i ? ',' : ''}${JSON.stringify(row)}`);
      });
      writeSync(fd, ']}');
      if (this.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // The new name too, so the file outlives a power cut as surely as the record naming it.
    if (this.durable) syncDirSync(this.tablesDir);
  }

  /** The features of a live TABLE asset, read from its file; null when there is no such table. */
  tableFeatures(name: string): TableFeature[] | null {
    const a = this.get(name);
    if (!a || a.type !== 'TABLE' || this.tablesDir === null) return null;
    let text: string;
    try {
      text = readFileSync(this.tableFile(a.uid), 'utf8');
    } catch {
      return null; // a table written before features were kept
    }
    type Dense = [string, GeoJsonGeometry | null, ...PropertyValue[]];
    type Sparse = { i: string; g: GeoJsonGeometry | null; p: Record<string, PropertyValue> };
    const t = JSON.parse(text) as { columns: string[]; rows: (Dense | Sparse)[] };
    return t.rows.map((row): TableFeature => {
      if (!Array.isArray(row)) return { id: row.i, geometry: row.g, properties: row.p };
      const [id, geometry, ...values] = row;
      const properties: Record<string, PropertyValue> = {};
      t.columns.forEach((c, k) => {
        properties[c] = values[k] as PropertyValue;
      });
      return { id, geometry, properties };
    });
  }

  /** What the evaluator may load: the project's tables and image collections. */
  lookup(): AssetLookup {
    const view = (a: Asset) => ({ bands: a.bands ?? [], grid: a.grid ? { crs: a.grid.crs, crsTransform: a.grid.crsTransform as ExportGrid['crsTransform'], width: a.grid.width, height: a.grid.height } : null });
    return {
      table: (name) => this.tableFeatures(name),
      image: (name) => {
        const a = this.get(name);
        return a && a.type === 'IMAGE' ? view(a) : null;
      },
      collection: (name) => {
        const c = this.get(name);
        if (!c || c.type !== 'IMAGE_COLLECTION') return null;
        return this.children(name)
          .filter((a) => a.type === 'IMAGE')
          .map(view);
      },
    };
  }

  restore(assets: readonly Asset[]): void {
    for (const a of assets) {
      this.records.set(a.uid, a);
      if (a.deletedAt === null) this.all.set(a.name, a);
      this.nextUid = Math.max(this.nextUid, a.uid + 1);
    }
  }

  /** Every asset ever created, deleted ones included, in creation order. */
  everything(): Asset[] {
    return [...this.records.values()].sort((a, b) => a.uid - b.uid);
  }

  takeChanged(): Asset[] {
    const out = [...this.changed];
    this.changed = new Set();
    return out;
  }

  get(name: string): Asset | null {
    return this.all.get(name) ?? null;
  }

  /** Live children of a parent (`projects/p/assets` for the root), by name. */
  children(parent: string): Asset[] {
    const prefix = `${parent}/`;
    const out: Asset[] = [];
    for (const a of this.all.values()) {
      if (a.name.startsWith(prefix) && !a.name.slice(prefix.length).includes('/')) out.push(a);
    }
    return out.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  }

  private checkParent(name: string, childType: AssetType): void {
    const parent = parentOf(name);
    if (isRoot(parent)) return;
    const p = this.get(parent);
    const ok = p !== null && (p.type === 'FOLDER' || (p.type === 'IMAGE_COLLECTION' && childType === 'IMAGE'));
    if (!ok) throw new AssetError(400, ASSET_MESSAGES.badParent(parent));
  }

  private put(fields: Omit<Asset, 'uid'>): Asset {
    const a: Asset = { uid: this.nextUid++, ...fields };
    this.records.set(a.uid, a);
    this.all.set(a.name, a);
    this.changed.add(a);
    return a;
  }

  create(name: string, type: AssetType, properties: Record<string, unknown> = {}): Asset {
    if (!splitAssetName(name)) throw new AssetError(400, `Invalid asset name '${name}'.`);
    if (this.get(name)) throw new AssetError(409, ASSET_MESSAGES.cannotOverwrite(name));
    this.checkParent(name, type);
    this.checkQuota(name);
    const t = this.now();
    return this.put({ name, type, createTime: t, updateTime: t, sizeBytes: type === 'FOLDER' || type === 'IMAGE_COLLECTION' ? null : 0, featureCount: null, bands: null, properties, deletedAt: null });
  }

  /** What a succeeded `toAsset` export writes; throws AssetError with the message the task fails with. */
  writeExport(name: string, overwrite: boolean, product: ExportProduct): Asset {
    if (!splitAssetName(name)) throw new AssetError(400, `Invalid asset name '${name}'.`);
    const type: AssetType = product.kind === 'image' ? 'IMAGE' : 'TABLE';
    const existing = this.get(name);
    if (existing && (!overwrite || existing.type === 'FOLDER' || existing.type === 'IMAGE_COLLECTION')) throw new AssetError(409, ASSET_MESSAGES.cannotOverwrite(name));
    this.checkParent(name, type);
    if (!existing) this.checkQuota(name);
    if (existing) this.remove(existing);
    const t = this.now();
    if (product.kind === 'image') {
      const px = product.grid.width * product.grid.height;
      const sizeBytes = product.bands.reduce((n, b) => n + px * (BYTES[b.dataType] ?? 4), 0);
      return this.put({ name, type, createTime: t, updateTime: t, sizeBytes, featureCount: null, bands: product.bands.map((b) => ({ id: b.name, dataType: b.dataType })), grid: { crs: product.grid.crs, crsTransform: [...product.grid.crsTransform], width: product.grid.width, height: product.grid.height }, properties: {}, deletedAt: null });
    }
    // The dropFeatures fault: the last features go missing.
    const drop = Math.min(this.dropFeatures(), product.features.length);
    if (drop > 0) product = { ...product, features: product.features.slice(0, product.features.length - drop) };
    // The byte length of the features as one JSON array, without building that string.
    const n = product.features.length;
    const sizeBytes = product.features.reduce((sum, f) => sum + Buffer.byteLength(JSON.stringify(f), 'utf8'), 0) + Math.max(0, n - 1) + 2;
    const a = this.put({ name, type, createTime: t, updateTime: t, sizeBytes, featureCount: product.features.length, bands: null, properties: {}, deletedAt: null });
    this.writeFeatures(a.uid, product.features);
    return a;
  }

  delete(name: string): void {
    const a = this.get(name);
    if (!a) throw new AssetError(404, ASSET_MESSAGES.missing(name));
    if (this.children(name).length) throw new AssetError(400, ASSET_MESSAGES.notEmpty(name));
    this.remove(a);
  }

  private remove(a: Asset): void {
    a.deletedAt = this.now();
    this.changed.add(a);
    this.all.delete(a.name);
  }

  /** `:copy` / `:move` of an IMAGE or TABLE (folders and collections: not emulated). */
  copy(from: string, to: string, overwrite: boolean, move: boolean): Asset {
    const a = this.get(from);
    if (!a) throw new AssetError(404, ASSET_MESSAGES.missing(from));
    if (a.type === 'FOLDER' || a.type === 'IMAGE_COLLECTION') throw new AssetError(400, `not emulated: copying or moving a ${a.type}`);
    if (!splitAssetName(to)) throw new AssetError(400, `Invalid asset name '${to}'.`);
    const existing = this.get(to);
    if (existing && !overwrite) throw new AssetError(409, ASSET_MESSAGES.cannotOverwrite(to));
    this.checkParent(to, a.type);
    if (!existing && !move) this.checkQuota(to);
    if (existing) this.remove(existing);
    const t = this.now();
    const { uid: _uid, ...rest } = a;
    const out = this.put({ ...rest, name: to, createTime: t, updateTime: t, properties: { ...a.properties }, bands: a.bands ? [...a.bands] : null });
    if (a.type === 'TABLE' && this.tablesDir !== null) {
      try {
        copyFileSync(this.tableFile(a.uid), this.tableFile(out.uid));
      } catch {
        // a table written before features were kept: it stays without features
      }
    }
    if (move) this.remove(a);
    return out;
  }

  quota(project: string): { assetCount: number; sizeBytes: number } {
    let assetCount = 0;
    let sizeBytes = 0;
    for (const a of this.all.values()) {
      if (!a.name.startsWith(`projects/${project}/assets/`)) continue;
      assetCount++;
      sizeBytes += a.sizeBytes ?? 0;
    }
    return { assetCount, sizeBytes };
  }

  /** The REST `EarthEngineAsset`. */
  toJson(a: Asset): Record<string, unknown> {
    const out: Record<string, unknown> = { type: a.type, name: a.name, id: splitAssetName(a.name)?.id ?? a.name, updateTime: new Date(a.updateTime).toISOString() };
    if (Object.keys(a.properties).length) out.properties = a.properties;
    if (a.sizeBytes !== null) out.sizeBytes = String(a.sizeBytes);
    if (a.featureCount !== null) out.featureCount = String(a.featureCount);
    const g = a.grid;
    const grid = g ? { crsCode: g.crs, affineTransform: { scaleX: g.crsTransform[0], shearX: g.crsTransform[1], translateX: g.crsTransform[2], shearY: g.crsTransform[3], scaleY: g.crsTransform[4], translateY: g.crsTransform[5] }, dimensions: { width: g.width, height: g.height } } : { crsCode: 'EPSG:4326' };
    if (a.bands) out.bands = a.bands.map((b) => ({ id: b.id, dataType: { precision: /Float/.test(b.dataType) ? (b.dataType === 'Float64' ? 'DOUBLE' : 'FLOAT') : 'INT' }, grid }));
    return out;
  }
}

/** Asset quota shown at the project root (Google's default figures for a Cloud project). */
export const MAX_ASSETS = 10_000;
const MAX_SIZE_BYTES = 250 * 1024 ** 3;
const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;

export function assetRoutes(store: AssetStore, projectError: (req: EmuRequest) => Reply | null): Route[] {
  const guard = (fn: (req: EmuRequest) => Reply) => (req: EmuRequest): Reply => {
    const denied = projectError(req);
    if (denied) return denied;
    try {
      return fn(req);
    } catch (e) {
      if (e instanceof AssetError) return eeError(e.code, e.message);
      throw e;
    }
  };
  const nameOf = (req: EmuRequest): string => `projects/${req.params.project as string}/assets/${(req.params.asset as string).replace(/\/+$/, '')}`;

  const list = (parent: string, req: EmuRequest): Reply => {
    if (!isRoot(parent)) {
      const p = store.get(parent);
      if (!p || (p.type !== 'FOLDER' && p.type !== 'IMAGE_COLLECTION')) return eeError(404, ASSET_MESSAGES.missing(parent));
    }
    const sizeText = req.query.get('pageSize');
    const size = sizeText === null || sizeText === '' ? DEFAULT_PAGE : Number(sizeText);
    if (!Number.isInteger(size) || size < 0) return eeError(400, `Invalid value at 'page_size' (TYPE_INT32), "${sizeText}"`);
    const pageSize = Math.min(size === 0 ? DEFAULT_PAGE : size, MAX_PAGE);
    let children = store.children(parent);
    const token = req.query.get('pageToken');
    if (token) {
      const after = Buffer.from(token, 'base64url').toString('utf8');
      if (!after.startsWith(`${parent}/`)) return eeError(400, 'Invalid page token.');
      children = children.filter((a) => a.name > after);
    }
    const page = children.slice(0, pageSize);
    const out: Record<string, unknown> = { assets: page.map((a) => store.toJson(a)) };
    const last = page[page.length - 1];
    if (last && children.length > pageSize) out.nextPageToken = Buffer.from(last.name).toString('base64url');
    return json(200, out);
  };

  const bodyOf = (req: EmuRequest): Record<string, unknown> => {
    const text = req.body.toString('utf8').trim();
    if (text === '') return {};
    try {
      const v = JSON.parse(text) as unknown;
      return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
    } catch {
      throw new AssetError(400, 'Invalid JSON payload received. Unexpected token.');
    }
  };

  const copyOrMove = (move: boolean) => guard((req) => {
    const b = bodyOf(req);
    const to = typeof b.destinationName === 'string' ? b.destinationName : '';
    return json(200, store.toJson(store.copy(nameOf(req), to, b.overwrite === true, move)));
  });

  return [
    { method: 'GET', template: '/v1/projects/{project}:listAssets', service: 'ee', handler: guard((req) => list(`projects/${req.params.project as string}/assets`, req)) },
    { method: 'GET', template: '/v1/projects/{project}/assets/{asset*}:listAssets', service: 'ee', handler: guard((req) => list(nameOf(req), req)) },
    { method: 'GET', template: '/v1/projects/{project}/assets/{asset*}:listImages', service: 'ee', handler: guard((req) => {
      const r = list(nameOf(req), req);
      if (r.status !== 200) return r;
      const v = JSON.parse(r.body as string) as { assets: Record<string, unknown>[]; nextPageToken?: string };
      return json(200, { images: v.assets.filter((a) => a.type === 'IMAGE'), ...(v.nextPageToken ? { nextPageToken: v.nextPageToken } : {}) });
    }) },
    { method: 'POST', template: '/v1/projects/{project}/assets/{asset*}:move', service: 'ee', handler: copyOrMove(true) },
    { method: 'POST', template: '/v1/projects/{project}/assets/{asset*}:copy', service: 'ee', handler: copyOrMove(false) },
    {
      method: 'POST', template: '/v1/projects/{project}/assets', service: 'ee',
      handler: guard((req) => {
        const id = req.query.get('assetId') ?? '';
        const b = bodyOf(req);
        const type = b.type === 'IMAGE_COLLECTION' ? 'IMAGE_COLLECTION' : b.type === 'FOLDER' || b.type === undefined ? 'FOLDER' : null;
        if (type === null) return eeError(400, `not emulated: creating an asset of type ${String(b.type)}`);
        const props = b.properties && typeof b.properties === 'object' ? (b.properties as Record<string, unknown>) : {};
        return json(200, store.toJson(store.create(`projects/${req.params.project as string}/assets/${id}`, type, props)));
      }),
    },
    {
      // getAssetRootQuota: the project root itself.
      method: 'GET', template: '/v1/projects/{project}/assets/', service: 'ee',
      handler: guard((req) => {
        const p = req.params.project as string;
        const q = store.quota(p);
        return json(200, { type: 'FOLDER', name: `projects/${p}/assets`, id: '', quota: { assetCount: String(q.assetCount), maxAssets: String(store.limit()), sizeBytes: String(q.sizeBytes), maxSizeBytes: String(MAX_SIZE_BYTES) } });
      }),
    },
    {
      method: 'GET', template: '/v1/projects/{project}/assets/{asset*}', service: 'ee',
      handler: guard((req) => {
        const a = store.get(nameOf(req));
        return a ? json(200, store.toJson(a)) : eeError(404, ASSET_MESSAGES.missing(nameOf(req)));
      }),
    },
    {
      method: 'DELETE', template: '/v1/projects/{project}/assets/{asset*}', service: 'ee',
      handler: guard((req) => {
        store.delete(nameOf(req));
        return json(200, {});
      }),
    },
  ];
}
