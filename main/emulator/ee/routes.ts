import { readFileSync } from 'node:fs';
import type { EmuRequest, Route } from '../http/router';
import { eeError, json, type Reply } from '../http/reply';
import { listAlgorithmsResponse } from './algorithms';
import { EeEvaluationError, evaluateValue, MalformedExpressionError } from './evaluator';
import { MESSAGES, readExportRequest, RequestError, type ExportKind } from './export-request';
import { NotEmulatedError } from './product';
import type { Operation, TaskEngine } from './tasks';
import { assetRoutes, type AssetStore } from './assets';
import type { ComputePixels } from './compute-pixels';

/**
 * Earth Engine REST v1 as `@google/earthengine` calls it (docs/earth-engine-client.md#what-the-emulator-must-serve): the algorithm catalog,
 * image/table exports to Drive, and the long-running operations they create.
 */
export interface EeSettings {
  /** The one project accepted, or null for any. */
  project(): string | null;
  queueLimit(): number;
  /** A catalog file to serve instead of the built-in subset (e.g. Google's full catalog). */
  catalogPath(): string | null;
}

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

export function eeRoutes(engine: TaskEngine, settings: EeSettings, assets: AssetStore | null = null, compute: ComputePixels | null = null): Route[] {
  let catalogCache: { path: string; body: string } | null = null;
  const catalogBody = (): string => {
    const path = settings.catalogPath();
    if (path === null) return JSON.stringify(listAlgorithmsResponse());
    if (catalogCache?.path !== path) catalogCache = { path, body: readFileSync(path, 'utf8') };
    return catalogCache.body;
  };

  /** null when the project is served; otherwise Google's answer for a project the caller cannot use. */
  const projectError = (req: EmuRequest): Reply | null => {
    const p = req.params.project as string;
    const only = settings.project();
    if (only === null || p === only || p === 'earthengine-legacy') return null;
    return eeError(403, `Permission denied on resource project ${p}.`, { info: { reason: 'CONSUMER_INVALID', metadata: { service: 'earthengine.googleapis.com', consumer: `projects/${p}` } } });
  };

  const exportHandler = (type: ExportKind) => (req: EmuRequest): Reply => {
    const denied = projectError(req);
    if (denied) return denied;
    const project = req.params.project as string;
    let body: unknown;
    try {
      body = parseJsonBody(req);
    } catch (e) {
      return eeError(400, (e as Error).message);
    }
    let job;
    try {
      job = readExportRequest(body, type, assets?.lookup());
    } catch (e) {
      if (e instanceof RequestError) return eeError(400, e.message);
      throw e;
    }
    // The same requestId again is the same request: answer with the task it started, never a second one.
    if (job.requestId) {
      const existing = engine.findByRequestId(project, job.requestId);
      if (existing) return json(200, engine.toJson(existing));
    }
    const limit = settings.queueLimit();
    if (engine.pendingCount(project) >= limit) {
      // HTTP status unverified (RESOURCE_EXHAUSTED is Google's code for quota errors); the message is Google's.
      return eeError(429, MESSAGES.queueFull(limit));
    }
    return json(200, engine.toJson(engine.submit(project, job)));
  };

  const findOp = (req: EmuRequest): Operation | Reply => {
    const name = `projects/${req.params.project as string}/operations/${req.params.operation as string}`;
    const op = engine.ops.get(name);
    return op ?? eeError(404, `Operation ${name} not found.`);
  };

  return [
    {
      method: 'GET', template: '/v1/projects/{project}/algorithms', service: 'ee',
      handler: (req) => projectError(req) ?? { status: 200, headers: { 'Content-Type': 'application/json; charset=UTF-8' }, body: catalogBody() },
    },
    { method: 'POST', template: '/v1/projects/{project}/image:export', service: 'ee', handler: exportHandler('EXPORT_IMAGE') },
    { method: 'POST', template: '/v1/projects/{project}/table:export', service: 'ee', handler: exportHandler('EXPORT_FEATURES') },
    {
      // getInfo / evaluate of small values: constants, band names, image descriptions, features.
      method: 'POST', template: '/v1/projects/{project}/value:compute', service: 'ee',
      handler: (req) => {
        const denied = projectError(req);
        if (denied) return denied;
        let body: unknown;
        try {
          body = parseJsonBody(req);
          return json(200, { result: evaluateValue(body, assets?.lookup()) });
        } catch (e) {
          // EE answers what it cannot compute with 400 and its message; so does the emulator for what it cannot follow.
          if (e instanceof NotEmulatedError || e instanceof EeEvaluationError || e instanceof MalformedExpressionError) return eeError(400, e.message);
          if (e instanceof Error && /^Invalid JSON payload/.test(e.message)) return eeError(400, e.message);
          throw e;
        }
      },
    },
    {
      method: 'GET', template: '/v1/projects/{project}/operations', service: 'ee',
      handler: (req) => {
        const denied = projectError(req);
        if (denied) return denied;
        if (req.query.get('filter')) return eeError(400, 'not emulated: the filter parameter of operations.list');
        const sizeText = req.query.get('pageSize');
        const size = sizeText === null || sizeText === '' ? DEFAULT_PAGE_SIZE : Number(sizeText);
        if (!Number.isInteger(size) || size < 0) return eeError(400, `Invalid value at 'page_size' (TYPE_INT32), "${sizeText}"`);
        const pageSize = Math.min(size === 0 ? DEFAULT_PAGE_SIZE : size, MAX_PAGE_SIZE);
        const all = engine.list(req.params.project as string);
        // Newest first; the token is the submission number of the last one returned, so tasks created
        // between pages neither shift nor repeat entries.
        let start = all.length - 1;
        const token = req.query.get('pageToken');
        if (token) {
          const seq = decodeToken(token);
          if (seq === null) return eeError(400, 'Invalid page token.');
          while (start >= 0 && (all[start] as Operation).seq >= seq) start--;
        }
        const page: Operation[] = [];
        let i = start;
        for (; i >= 0 && page.length < pageSize; i--) page.push(all[i] as Operation);
        const out: Record<string, unknown> = {};
        if (page.length) out.operations = page.map((op) => engine.toJson(op));
        const last = page[page.length - 1];
        if (last && i >= 0) out.nextPageToken = encodeToken(last.seq);
        return json(200, out);
      },
    },
    {
      method: 'GET', template: '/v1/projects/{project}/operations/{operation}', service: 'ee',
      handler: (req) => {
        const denied = projectError(req);
        if (denied) return denied;
        const op = findOp(req);
        return 'status' in op ? op : json(200, engine.toJson(op));
      },
    },
    {
      method: 'POST', template: '/v1/projects/{project}/operations/{operation}:cancel', service: 'ee',
      handler: (req) => {
        const denied = projectError(req);
        if (denied) return denied;
        const op = findOp(req);
        if ('status' in op) return op;
        // Wording unverified: cancelling a finished task is refused rather than silently ignored.
        if (engine.cancel(op) === 'done') return eeError(400, `Operation ${op.name} is already done (${op.state}).`, { status: 'FAILED_PRECONDITION' });
        return json(200, {});
      },
    },
    ...(assets ? assetRoutes(assets, projectError) : []),
    ...(compute
      ? [{
        // Direct download (ee/compute-pixels.ts): computed beside other requests, not under the lock.
        method: 'POST', template: '/v1/projects/{project}/image:computePixels', service: 'ee' as const, concurrent: true,
        handler: (req: EmuRequest) => projectError(req) ?? compute.handle(req),
      }]
      : []),
  ];
}

/** Google refuses a POST whose body is not JSON (the client sends an empty form body after its own token refresh). */
function parseJsonBody(req: EmuRequest): unknown {
  const text = req.body.toString('utf8');
  const type = req.headers['content-type'] ?? '';
  if (text.trim() === '') throw new Error('Invalid JSON payload received. Unexpected end of string.');
  if (type && !/json/i.test(type)) throw new Error(`Invalid JSON payload received. Unexpected content type: ${type}.`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error('Invalid JSON payload received. Unexpected token.');
  }
}

function encodeToken(seq: number): string {
  return Buffer.from(`ops:${seq}`).toString('base64url');
}

function decodeToken(token: string): number | null {
  const m = /^ops:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : null;
}
