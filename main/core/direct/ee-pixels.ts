import { httpFetch } from '../net/http';
import { loadEarthEngineClient } from '../google/ee-client';
import type { EeModule } from '../google/earthengine';
import { DirectRequestError } from './failures';

/**
 * One `image:computePixels` request (docs/direct-download.md#the-request), built by the unmodified
 * `@google/earthengine` client: its generated `ee.api.ComputePixelsRequest` and
 * `ee.api.ProjectsImageApiClientImpl` make the path, method and body. The client's own request service
 * cannot return binary bodies (it parses every answer as JSON) and queues every request behind one
 * 350 ms throttle, so the request goes out through a small request service of ours: `httpFetch` with
 * the session's token, no retries of its own (429s are the concurrency limiter's business).
 */
export interface PixelGrid {
  readonly crs: string;
  /** Earth Engine order [scaleX, shearX, translateX, shearY, scaleY, translateY]. */
  readonly crsTransform: readonly number[];
  readonly dimensions: readonly [number, number];
}

export interface PixelConnection {
  /** Earth Engine's base URL, no trailing slash. */
  readonly baseUrl: string;
  readonly project: string;
  /** A valid access token (refreshed when `fresh`). */
  token(fresh?: boolean): Promise<string>;
}

/** The parts of the client this module uses (generated classes, the serializer). */
interface PixelsClient {
  api: Record<string, new (...args: unknown[]) => unknown>;
  apiclient: { VERSION: string; PromiseRequestService: new () => object };
  Serializer: { encodeCloudApiExpression(o: unknown): unknown };
}

interface RequestParams {
  path: string;
  httpMethod: string;
  body?: unknown;
  queryParams?: Record<string, unknown>;
}

export type ComputePixels = (grid: PixelGrid, image: (ee: EeModule) => unknown, signal?: AbortSignal) => Promise<Buffer>;

function client(): EeModule & PixelsClient {
  return loadEarthEngineClient<EeModule & PixelsClient>();
}

/** A computePixels function over a connection (EarthEngine.connection() gives one). */
export function computePixelsVia(conn: PixelConnection, ee: EeModule & PixelsClient = client()): ComputePixels {
  return async (grid, image, signal) => {
    const { api, apiclient, Serializer } = ee;
    const [scaleX, shearX, translateX, shearY, scaleY, translateY] = grid.crsTransform;
    const request = new api.ComputePixelsRequest!({
      expression: Serializer.encodeCloudApiExpression(image(ee)),
      fileFormat: 'GEO_TIFF',
      grid: new api.PixelGrid!({
        dimensions: new api.GridDimensions!({ width: grid.dimensions[0], height: grid.dimensions[1] }),
        affineTransform: new api.AffineTransform!({ scaleX, shearX, translateX, shearY, scaleY, translateY }),
        crsCode: grid.crs,
      }),
    });
    const send = async (params: RequestParams, fresh: boolean): Promise<Buffer> => {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(params.queryParams ?? {})) if (v !== undefined) query.set(k, String(v));
      const url = `${conn.baseUrl}${params.path}${query.size ? `?${query}` : ''}`;
      let res;
      try {
        res = await httpFetch(url, {
          method: params.httpMethod,
          headers: { Authorization: `Bearer ${await conn.token(fresh)}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(params.body),
          ...(signal ? { signal } : {}),
        });
      } catch (e) {
        throw new DirectRequestError(`computePixels got no answer: ${(e as Error).message}${(e as { cause?: Error }).cause ? ` (${(e as { cause: Error }).cause.message})` : ''}`, null);
      }
      let bytes: Buffer;
      try {
        bytes = Buffer.from(await res.arrayBuffer());
      } catch (e) {
        throw new DirectRequestError(`computePixels answer broke off: ${(e as Error).message}`, null);
      }
      if (res.ok) return bytes;
      if (res.status === 401 && !fresh) return send(params, true);
      throw new DirectRequestError(errorMessage(res.status, bytes), res.status);
    };
    class BytesService extends apiclient.PromiseRequestService {
      send(params: RequestParams): Promise<Buffer> {
        return send(params, false);
      }
      makeRequest(): void {}
    }
    const images = new api.ProjectsImageApiClientImpl!(apiclient.VERSION, new BytesService()) as { computePixels(project: string, r: unknown): Promise<Buffer> };
    return images.computePixels(`projects/${conn.project}`, request);
  };
}

/** Google's `error.message`, or the status when the body has none. */
function errorMessage(status: number, body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
  } catch {
    // not JSON (a proxy's HTML page): the status says enough
  }
  return `Server returned HTTP code: ${status} for computePixels`;
}
