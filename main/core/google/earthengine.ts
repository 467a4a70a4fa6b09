import type { Session } from './session';
import { isTransientEeMessage } from './transient';
import { loadEarthEngineClient } from './ee-client';

/**
 * Tessera's view of Earth Engine, over the unmodified `@google/earthengine` client. Only its async calls
 * are used (its synchronous mode blocks the event loop, and hangs in Electron). The access token is
 * refreshed by Tessera before every call: the client's own on-demand refresh drops POST bodies.
 */

/** An Earth Engine operation as JSON (docs/earth-engine-client.md#operations). */
export interface Operation {
  name: string;
  done?: boolean | null;
  error?: { code?: number; message: string } | null;
  metadata?: {
    state?: 'PENDING' | 'RUNNING' | 'CANCELLING' | 'SUCCEEDED' | 'CANCELLED' | 'FAILED' | string;
    description?: string;
    /** RFC 3339: when the operation was created (the ownership rule compares Drive files with it). */
    createTime?: string;
    /** RFC 3339, EE's clock: when the task started running, last changed (now, while it runs) and ended. */
    startTime?: string;
    updateTime?: string;
    endTime?: string;
    destinationUris?: string[];
    batchEecuUsageSeconds?: number;
    attempt?: number;
    progress?: number;
    type?: string;
  } | null;
}

/** What every export names: its request id, description, priority and destination (Drive, an asset or a bucket). */
export interface ExportTarget {
  requestId: string;
  description: string;
  folder: string;
  fileNamePrefix: string;
  priority?: number;
  /** Asset jobs: export to this asset (`Export.*.toAsset`, never overwriting) instead of Drive. */
  assetId?: string;
  /** Cloud Storage jobs: export to this bucket (`Export.*.toCloudStorage`, fileNamePrefix the object name's start). */
  bucket?: string;
}

export interface ImageExport extends ExportTarget {
  crs: string;
  crsTransform: readonly number[];
  dimensions: readonly [number, number];
  /** Square file size in pixels (a multiple of shardSize): decides how many files one tile makes. */
  fileDimensions: number;
  shardSize?: number;
  maxPixels?: number;
  /** Builds the image to export; gets the initialised `ee` module. */
  image: (ee: EeModule) => unknown;
  noData?: number;
  cloudOptimized?: boolean;
  skipEmptyTiles?: boolean;
}

/** A table export to Drive (one file per tile): `ee.batch.Export.table.toDrive`. */
export interface TableExport extends ExportTarget {
  fileFormat: 'CSV' | 'GeoJSON';
  selectors?: string[];
  /** Builds the FeatureCollection to export; gets the initialised `ee` module. */
  collection: (ee: EeModule) => unknown;
}

/** The export method for files: to the bucket when there is one, else to Drive. */
const fileMethod = (x: ExportTarget) => (x.bucket !== undefined ? 'toCloudStorage' : 'toDrive');
/** A file export's description, place (bucket or Drive folder) and file name prefix. */
const fileTarget = (x: ExportTarget) => ({
  description: x.description,
  ...(x.bucket !== undefined ? { bucket: x.bucket } : { folder: x.folder }),
  fileNamePrefix: x.fileNamePrefix,
});
const priorityOf = (x: ExportTarget) => (x.priority !== undefined ? { priority: x.priority } : {});

/** An Earth Engine asset as listed (REST `EarthEngineAsset`, the fields Tessera reads). */
export interface EeAsset {
  name: string;
  type: string;
  updateTime?: string;
  sizeBytes?: number;
  featureCount?: number;
  /** Images (from getAsset): the first band's pixel grid size [width, height]. */
  dimensions?: [number, number];
}

/** The asset quota of a project root (getAssetRootQuota). */
export interface AssetQuota {
  assetCount: number;
  maxAssets: number;
  sizeBytes: number;
  maxSizeBytes: number;
}

/** A task or create refused because the project's asset count quota is full (emulator wording; Google's is unverified). */
export const ASSET_QUOTA = /Asset quota exceeded|asset limit|too many assets/i;

export const ASSET_MISSING = /does not exist or doesn't allow this operation/;
export const ASSET_EXISTS = /^Cannot overwrite asset '([^']+)'/;

/** An EE call failed; `transient` when re-sending the same request may succeed (network, 5xx, 429). */
export class EarthEngineError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
    this.name = 'EarthEngineError';
  }
}

export const QUEUE_FULL = /Too many tasks already in the queue/;
const UNAUTHENTICATED = /invalid authentication credentials|missing required authentication|UNAUTHENTICATED|HTTP code: 401\b/i;

/** The slice of the untyped client Tessera uses. */
export interface EeModule {
  initialize(base: string | null, tile: string | null, ok: () => void, err: (e: Error) => void, xsrf: null, project: string): void;
  reset(): void;
  data: {
    setAuthToken(clientId: string, type: string, token: string, expiresIn: number, scopes: string[], cb: undefined, updateAuthLibrary: false): void;
    setAuthTokenRefresher(fn: (args: unknown, done: (r: { access_token?: string; token_type?: string; expires_in?: number; error?: string }) => void) => void): void;
    startProcessing(id: string, config: unknown, cb: (r: { name?: string; taskId?: string } | null, err?: string) => void): void;
    getOperation(names: string[], cb: (r: Record<string, unknown> | null, err?: string) => void): void;
    listOperations(limit: number | undefined, cb: (r: unknown[] | null, err?: string) => void): void;
    cancelOperation(names: string[], cb: (r: unknown, err?: string) => void): void;
    listAssets(parent: string, params: Record<string, unknown>, cb: (r: { assets?: unknown[]; nextPageToken?: string } | null, err?: string) => void): void;
    getAsset(id: string, cb: (r: unknown, err?: string) => void): void;
    getAssetRootQuota(rootId: string, cb: (r: { asset_count?: { usage?: number; limit?: number }; asset_size?: { usage?: number; limit?: number } } | null, err?: string) => void): void;
    createAsset(value: Record<string, unknown>, path: string, force: boolean, properties: Record<string, unknown>, cb: (r: unknown, err?: string) => void): void;
    deleteAsset(id: string, cb: (r: unknown, err?: string) => void): void;
  };
  apiclient: { serialize(o: unknown): unknown };
  batch: {
    Export: {
      image: { toDrive(params: Record<string, unknown>): { config_: unknown }; toAsset(params: Record<string, unknown>): { config_: unknown }; toCloudStorage(params: Record<string, unknown>): { config_: unknown } };
      table: { toDrive(params: Record<string, unknown>): { config_: unknown }; toAsset(params: Record<string, unknown>): { config_: unknown }; toCloudStorage(params: Record<string, unknown>): { config_: unknown } };
    };
  };
  /** `ee.Image(id)` (Image.load) and `ee.Image.constant`. */
  Image: ((id: string) => unknown) & { constant(v: number | number[]): unknown } & Record<string, unknown>;
  /** `ee.FeatureCollection(id | list)`: Collection.loadTable / Collection. */
  FeatureCollection(v: unknown): { flatten(): unknown; merge(other: unknown): unknown };
  ImageCollection(v: unknown): { mosaic(): unknown };
  List(v: unknown[]): unknown;
}

let initialisedFor: string | undefined;

/** The client's own throttle interval (350 ms) while we have it scaled; undefined when it is the client's. */
let ownThrottleMs: number | undefined;

/** The client's throttle interval divided by the emulator's time scale; back to the client's own for time scale 1. */
function scaleRequestThrottle(ee: EeModule, timeScale: number): void {
  const throttle = (ee.apiclient as unknown as { RequestThrottle?: { interval_?: unknown } }).RequestThrottle;
  if (!throttle || typeof throttle.interval_ !== 'number') return; // another client version: leave it as it is
  if (timeScale > 1) {
    ownThrottleMs ??= throttle.interval_;
    throttle.interval_ = Math.max(1, Math.round(ownThrottleMs / timeScale));
  } else if (ownThrottleMs !== undefined) {
    throttle.interval_ = ownThrottleMs;
    ownThrottleMs = undefined;
  }
}

/** Loaded lazily (ee-client.ts keeps the one instance): commands without Earth Engine don't pay its time and ~36 MB. */
function eeModule(): EeModule {
  return loadEarthEngineClient<EeModule>();
}

export class EarthEngine {
  private constructor(
    private readonly ee: EeModule,
    private readonly session: Session,
  ) {}

  /**
   * `timeScale` > 1 only for a time-scaled emulator (its clock runs that many times faster): the client's
   * request throttle, one request every 350 ms of real time, shrinks by the same factor as every other
   * interval of the engine — so a job sees as many requests per emulated second as against Google
   * (docs/earth-engine-client.md#request-throttle).
   */
  static async connect(session: Session, timeScale = 1): Promise<EarthEngine> {
    const ee = eeModule();
    scaleRequestThrottle(ee, timeScale);
    const engine = new EarthEngine(ee, session);
    await engine.ensureToken();
    ee.data.setAuthTokenRefresher((_args, done) => {
      session.accessToken().then(
        (t) => done({ access_token: t.token, token_type: 'Bearer', expires_in: Math.max(1, Math.floor((t.expiresAt - Date.now()) / 1000)) }),
        (e: Error) => done({ error: e.message }),
      );
    });
    const key = `${session.endpoints.eeBaseUrl}|${session.project}`;
    if (initialisedFor !== key) {
      if (initialisedFor !== undefined) ee.reset();
      await new Promise<void>((ok, fail) =>
        ee.initialize(session.endpoints.eeBaseUrl, null, ok, (e) => fail(classify(e.message)), null, session.project),
      );
      initialisedFor = key;
    }
    return engine;
  }

  /** Sends an image export; resolves with the operation name. */
  async exportImage(x: ImageExport): Promise<string> {
    await this.ensureToken();
    const image = x.image(this.ee);
    const task = x.assetId !== undefined
      ? this.ee.batch.Export.image.toAsset({
        image,
        description: x.description,
        assetId: x.assetId,
        overwrite: false,
        crs: x.crs,
        crsTransform: [...x.crsTransform],
        dimensions: `${x.dimensions[0]}x${x.dimensions[1]}`,
        maxPixels: x.maxPixels ?? 1e8,
        ...priorityOf(x),
      })
      : this.ee.batch.Export.image[fileMethod(x)]({
      image,
      ...fileTarget(x),
      crs: x.crs,
      crsTransform: [...x.crsTransform],
      dimensions: `${x.dimensions[0]}x${x.dimensions[1]}`,
      fileDimensions: [x.fileDimensions, x.fileDimensions],
      shardSize: x.shardSize ?? 256,
      maxPixels: x.maxPixels ?? 1e8,
      ...priorityOf(x),
      ...(x.skipEmptyTiles !== undefined ? { skipEmptyTiles: x.skipEmptyTiles } : {}),
      ...(x.noData !== undefined || x.cloudOptimized !== undefined
        ? { formatOptions: { ...(x.noData !== undefined ? { noData: x.noData } : {}), ...(x.cloudOptimized !== undefined ? { cloudOptimized: x.cloudOptimized } : {}) } }
        : {}),
    });
    return this.startExport(x, task);
  }

  /** Sends a table export (CSV or GeoJSON in Drive); resolves with the operation name. */
  async exportTable(x: TableExport): Promise<string> {
    await this.ensureToken();
    const collection = x.collection(this.ee);
    const task = x.assetId !== undefined
      ? this.ee.batch.Export.table.toAsset({ collection, description: x.description, assetId: x.assetId, overwrite: false, ...priorityOf(x) })
      : this.ee.batch.Export.table[fileMethod(x)]({
      collection,
      ...fileTarget(x),
      fileFormat: x.fileFormat,
      ...(x.selectors ? { selectors: x.selectors } : {}),
      ...priorityOf(x),
    });
    return this.startExport(x, task);
  }

  /** Starts the export task under the export's request id; resolves with the operation name. */
  private async startExport(x: ExportTarget, task: { config_: unknown }): Promise<string> {
    const r = await this.call<{ name?: string } | null>((cb) => this.ee.data.startProcessing(x.requestId, task.config_, cb));
    if (!r?.name) throw new EarthEngineError('Earth Engine accepted the export but returned no operation name', true);
    return r.name;
  }

  /** An asset, or null when it does not exist. */
  async getAsset(name: string): Promise<EeAsset | null> {
    await this.ensureToken();
    try {
      // The client answers with its legacy view: `type` is 'Folder', 'Image', 'Table', …
      const r = (await this.call<unknown>((cb) => this.ee.data.getAsset(name, cb))) as Record<string, unknown> | null;
      if (!r) return null;
      const band = (Array.isArray(r.bands) ? r.bands[0] : undefined) as { dimensions?: number[] } | undefined;
      const size = (r.properties as Record<string, unknown> | undefined)?.['system:asset_size'];
      return {
        name,
        type: legacyType(String(r.type)),
        ...(r.featureCount !== undefined ? { featureCount: Number(r.featureCount) } : {}),
        ...(typeof size === 'number' ? { sizeBytes: size } : {}),
        ...(band?.dimensions && band.dimensions.length === 2 ? { dimensions: [Number(band.dimensions[0]), Number(band.dimensions[1])] as [number, number] } : {}),
      };
    } catch (e) {
      if (e instanceof EarthEngineError && ASSET_MISSING.test(e.message)) return null;
      throw e;
    }
  }

  /** Creates a FOLDER or IMAGE_COLLECTION asset (its parent must exist). */
  async createAsset(name: string, type: 'FOLDER' | 'IMAGE_COLLECTION'): Promise<void> {
    await this.ensureToken();
    await this.call<unknown>((cb) => this.ee.data.createAsset({ type: type === 'FOLDER' ? 'Folder' : 'ImageCollection' }, name, false, {}, cb));
  }

  /** The children of a folder or image collection (all pages). */
  async listAssets(parent: string): Promise<EeAsset[]> {
    await this.ensureToken();
    const r = await this.call<{ assets?: unknown[] } | null>((cb) => this.ee.data.listAssets(parent, {}, cb));
    return (r?.assets ?? []).map((a) => {
      const o = this.ee.apiclient.serialize(a) as Record<string, unknown>;
      return {
        name: String(o.name),
        type: String(o.type),
        ...(o.updateTime !== undefined ? { updateTime: String(o.updateTime) } : {}),
        ...(o.sizeBytes !== undefined ? { sizeBytes: Number(o.sizeBytes) } : {}),
        ...(o.featureCount !== undefined ? { featureCount: Number(o.featureCount) } : {}),
      };
    });
  }

  /** The asset quota of the project holding `name` (`getAssetRootQuota('projects/p/assets/')`). */
  async assetQuota(name: string): Promise<AssetQuota> {
    await this.ensureToken();
    const root = `${/^projects\/[^/]+\/assets/.exec(name)?.[0] ?? `projects/${this.session.project}/assets`}/`;
    const r = await this.call<{ asset_count?: { usage?: number; limit?: number }; asset_size?: { usage?: number; limit?: number } } | null>((cb) => this.ee.data.getAssetRootQuota(root, cb));
    return {
      assetCount: Number(r?.asset_count?.usage ?? 0),
      maxAssets: Number(r?.asset_count?.limit ?? 0),
      sizeBytes: Number(r?.asset_size?.usage ?? 0),
      maxSizeBytes: Number(r?.asset_size?.limit ?? 0),
    };
  }

  async deleteAsset(name: string): Promise<void> {
    await this.ensureToken();
    await this.call<unknown>((cb) => this.ee.data.deleteAsset(name, cb));
  }

  /** What a custom recipe's worker needs to sign in its own client like this one. */
  connection(): { baseUrl: string; project: string; token: () => Promise<{ token: string; expiresIn: number }> } {
    return {
      baseUrl: this.session.endpoints.eeBaseUrl,
      project: this.session.project,
      token: async () => {
        const t = await this.session.accessToken();
        return { token: t.token, expiresIn: Math.max(1, Math.floor((t.expiresAt - Date.now()) / 1000)) };
      },
    };
  }

  /** Evaluates an object built with this client (`value:compute`, asynchronously): e.g. an image's bands. */
  async compute(make: (ee: EeModule) => unknown): Promise<unknown> {
    await this.ensureToken();
    const obj = make(this.ee) as { evaluate(cb: (r: unknown, err?: string) => void): void };
    return this.call<unknown>((cb) => obj.evaluate(cb));
  }

  /** Reads many operations with one batched request (`POST /batch`). */
  async getOperations(names: string[]): Promise<Map<string, Operation>> {
    const out = new Map<string, Operation>();
    if (names.length === 0) return out;
    await this.ensureToken();
    const r = await this.call<Record<string, unknown> | null>((cb) => this.ee.data.getOperation(names, cb));
    for (const [name, op] of Object.entries(r ?? {})) out.set(name, this.ee.apiclient.serialize(op) as Operation);
    return out;
  }

  /**
   * Every recent operation of the project (all pages); with `limit`, pages stop once that many are read
   * (one page of 500 when the project has as many).
   */
  async listOperations(limit?: number): Promise<Operation[]> {
    await this.ensureToken();
    const r = await this.call<unknown[] | null>((cb) => this.ee.data.listOperations(limit, cb));
    return (r ?? []).map((op) => this.ee.apiclient.serialize(op) as Operation);
  }

  /** Cancels operations (one batched request). */
  async cancelOperations(names: string[]): Promise<void> {
    if (names.length === 0) return;
    await this.ensureToken();
    await this.call<unknown>((cb) => this.ee.data.cancelOperation(names, cb));
  }

  private async ensureToken(): Promise<void> {
    const t = await this.session.accessToken();
    // Always the real remaining lifetime: a token set without one inherits the previous expiry (docs/earth-engine-client.md#tokens-and-refresh).
    const seconds = Math.max(1, Math.floor((t.expiresAt - Date.now()) / 1000));
    this.ee.data.setAuthToken('tessera', 'Bearer', t.token, seconds, [], undefined, false);
  }

  /**
   * One EE call. A 401 (a token revoked or expired early) refreshes the token and tries once more; if
   * Google refuses the refresh, the session's error says the user is signed out (exit 3).
   */
  private async call<T>(start: (cb: (r: T, err?: string) => void) => void): Promise<T> {
    try {
      return await this.callOnce(start);
    } catch (e) {
      if (!(e instanceof EarthEngineError) || !UNAUTHENTICATED.test(e.message)) throw e;
      await this.session.accessToken(true);
      await this.ensureToken();
      return this.callOnce(start);
    }
  }

  private callOnce<T>(start: (cb: (r: T, err?: string) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        start((r, err) => (err ? reject(classify(err)) : resolve(r)));
      } catch (e) {
        reject(classify(e instanceof Error ? e.message : String(e)));
      }
    });
  }
}

/** The client reports only message strings; these are the ones worth sending again. */
function classify(message: string): EarthEngineError {
  return new EarthEngineError(message, isTransientEeMessage(message) || QUEUE_FULL.test(message));
}

/** The legacy asset type names `getAsset` answers with, as REST types. */
function legacyType(t: string): string {
  const map: Record<string, string> = { Folder: 'FOLDER', ImageCollection: 'IMAGE_COLLECTION', Image: 'IMAGE', Table: 'TABLE', FeatureCollection: 'TABLE' };
  return map[t] ?? t;
}

/** The Drive folder id in an operation's destinationUris (`…/#folders/ID` or `…/folders/ID`). */
export function driveFolderId(op: Operation): string | undefined {
  for (const uri of op.metadata?.destinationUris ?? []) {
    const m = /folders\/([A-Za-z0-9_-]+)/.exec(uri);
    if (m) return m[1];
  }
  return undefined;
}
