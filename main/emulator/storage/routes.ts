import { FileBody } from '../http/file-body';
import { multipartBoundary, splitMultipart, type MultipartPart } from '../http/multipart';
import { driveError, json, noContent, type Reply } from '../http/reply';
import type { EmuRequest, Route } from '../http/router';
import type { ObjectStore, StoredObject } from './store';

/**
 * The Cloud Storage JSON API subset that `@google-cloud/storage` 7.x uses for Tessera (main/emulator/README.md,
 * "Cloud Storage"): objects.list (`prefix`, `delimiter`, `pageToken`, `maxResults`), objects.get (metadata, or the bytes
 * with `alt=media` and an optional `Range`), objects.delete, buckets.get, and simple/multipart uploads
 * (the lease object). Errors are the JSON API's `{ error: { code, message, errors: [{ reason }] } }`.
 */

/** Google's cap on one page: "this parameter or 1,000 items, whichever is smaller". */
const MAX_PAGE = 1000;

export function storageRoutes(store: ObjectStore, rfc3339: (t: number) => string): Route[] {
  const r = (method: string, template: string, handler: (req: EmuRequest) => Promise<Reply> | Reply): Route => ({ method, template, service: 'storage', handler });
  const resource = (o: StoredObject) => objectResource(o, rfc3339);
  return [
    r('GET', '/storage/v1/b/{bucket}', (req) => {
      const b = req.params.bucket as string;
      if (!store.hasBucket(b)) return noBucket();
      return json(200, { kind: 'storage#bucket', id: b, name: b, location: 'US', storageClass: 'STANDARD', metageneration: '1' });
    }),
    r('GET', '/storage/v1/b/{bucket}/o', (req) => list(store, req, resource)),
    r('GET', '/storage/v1/b/{bucket}/o/{object}', (req) => {
      const b = req.params.bucket as string;
      if (!store.hasBucket(b)) return noBucket();
      const o = store.get(b, req.params.object as string);
      if (!o || !generationMatches(o, req.query.get('generation'))) return noObject(b, req.params.object as string);
      if (req.query.get('alt') === 'media') return media(store, o, req.headers.range);
      return json(200, resource(o));
    }),
    r('DELETE', '/storage/v1/b/{bucket}/o/{object}', async (req) => {
      const b = req.params.bucket as string;
      const name = req.params.object as string;
      if (!store.hasBucket(b)) return noBucket();
      const o = store.get(b, name);
      if (!o || !generationMatches(o, req.query.get('generation'))) return noObject(b, name);
      const want = req.query.get('ifGenerationMatch');
      if (want !== null && want !== o.generation) return preconditionFailed();
      await store.remove(b, name);
      return noContent();
    }),
    r('POST', '/upload/storage/v1/b/{bucket}/o', async (req) => {
      const b = req.params.bucket as string;
      if (!store.hasBucket(b)) return noBucket();
      const upload = readUpload(req);
      if ('error' in upload) return driveError(400, upload.error, { reason: 'invalid' });
      const existing = store.get(b, upload.name);
      const want = req.query.get('ifGenerationMatch');
      // ifGenerationMatch=0: "only if no live object has this name" (how a lease is taken without a race).
      if (want !== null && (want === '0' ? existing !== undefined : existing?.generation !== want)) return preconditionFailed();
      const o = await store.write(b, upload.name, upload.bytes, upload.contentType, upload.metadata);
      return json(200, resource(o));
    }),
  ];
}

function list(store: ObjectStore, req: EmuRequest, resource: (o: StoredObject) => Record<string, unknown>): Reply {
  const b = req.params.bucket as string;
  if (!store.hasBucket(b)) return noBucket();
  const prefix = req.query.get('prefix') ?? '';
  const rawMax = req.query.get('maxResults');
  const max = rawMax === null ? MAX_PAGE : Number(rawMax);
  if (!Number.isInteger(max) || max < 0) return driveError(400, `Invalid unsigned integer: "${rawMax}"`, { reason: 'invalidParameter', location: 'maxResults', locationType: 'parameter' });
  const size = Math.min(max === 0 ? MAX_PAGE : max, MAX_PAGE);
  const token = req.query.get('pageToken');
  // The page token is the last entry of the previous page (opaque to clients, base64 like Google's).
  const after = token ? Buffer.from(token, 'base64').toString('utf8') : null;
  const all = entries(store.list(b, prefix), prefix, req.query.get('delimiter') || null).filter((e) => after === null || e.key > after);
  // "Maximum number of items plus prefixes to return in a single page."
  const page = all.slice(0, size);
  const items = page.flatMap((e) => (e.object ? [resource(e.object)] : []));
  const prefixes = page.flatMap((e) => (e.object ? [] : [e.key]));
  const out: Record<string, unknown> = { kind: 'storage#objects' };
  // An empty listing has no `items` key at all, as Google answers; `prefixes` only when there are some.
  if (prefixes.length) out.prefixes = prefixes;
  if (items.length) out.items = items;
  if (all.length > size) out.nextPageToken = Buffer.from((page[page.length - 1] as Entry).key, 'utf8').toString('base64');
  return json(200, out);
}

/** One entry of a listing: an object, or (with a delimiter) a rolled-up prefix. */
interface Entry {
  key: string;
  object?: StoredObject;
}

/**
 * With a delimiter, objects whose name goes on past `prefix` to a delimiter are rolled up into that
 * prefix (up to and including the delimiter), listed once; entries in lexicographic order.
 */
function entries(objects: StoredObject[], prefix: string, delimiter: string | null): Entry[] {
  if (delimiter === null) return objects.map((o) => ({ key: o.name, object: o }));
  const out: Entry[] = [];
  for (const o of objects) {
    const at = o.name.indexOf(delimiter, prefix.length);
    if (at < 0) out.push({ key: o.name, object: o });
    else {
      const rolled = o.name.slice(0, at + delimiter.length);
      if (out[out.length - 1]?.key !== rolled) out.push({ key: rolled });
    }
  }
  return out;
}

/** The bytes, whole (200) or one `Range` (206); faults may cut the body (reply.media). */
async function media(store: ObjectStore, o: StoredObject, range: string | undefined): Promise<Reply> {
  const headers: Record<string, string> = {
    'Content-Type': o.contentType,
    'x-goog-hash': [`crc32c=${o.crc32c}`, ...(o.md5Hash ? [`md5=${o.md5Hash}`] : [])].join(','),
    'x-goog-generation': o.generation,
    'x-goog-metageneration': '1',
    'x-goog-stored-content-length': String(o.size),
    'x-goog-stored-content-encoding': 'identity',
    'Accept-Ranges': 'bytes',
  };
  let start = 0;
  let end = o.size - 1;
  let status = 200;
  if (range) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    if (m && (m[1] !== '' || m[2] !== '')) {
      if (m[1] === '') {
        start = Math.max(0, o.size - Number(m[2]));
      } else {
        start = Number(m[1]);
        if (m[2] !== '') end = Math.min(end, Number(m[2]));
      }
      if (start >= o.size || start > end) {
        return { ...driveError(416, 'The requested range cannot be satisfied.', { reason: 'requestedRangeNotSatisfiable' }), headers: { 'Content-Range': `bytes */${o.size}`, 'Content-Type': 'application/json; charset=UTF-8' } };
      }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${o.size}`;
    }
  }
  const length = o.size === 0 ? 0 : end - start + 1;
  headers['Content-Length'] = String(length);
  if (length === 0) return { status, headers, body: Buffer.alloc(0) };
  return { status, headers, body: await new FileBody(store.path(o), start, end).opened(), media: true };
}

export function objectResource(o: StoredObject, rfc3339: (t: number) => string): Record<string, unknown> {
  const id = `${o.bucket}/${o.name}/${o.generation}`;
  const enc = encodeURIComponent(o.name);
  return {
    kind: 'storage#object',
    id,
    selfLink: `https://www.googleapis.com/storage/v1/b/${o.bucket}/o/${enc}`,
    mediaLink: `https://storage.googleapis.com/download/storage/v1/b/${o.bucket}/o/${enc}?generation=${o.generation}&alt=media`,
    name: o.name,
    bucket: o.bucket,
    generation: o.generation,
    metageneration: '1',
    contentType: o.contentType,
    storageClass: 'STANDARD',
    // int64 fields are strings in the JSON API.
    size: String(o.size),
    ...(o.md5Hash ? { md5Hash: o.md5Hash } : {}),
    crc32c: o.crc32c,
    ...(o.componentCount !== null ? { componentCount: o.componentCount } : {}),
    ...(o.metadata ? { metadata: o.metadata } : {}),
    etag: Buffer.from(o.generation).toString('base64'),
    timeCreated: rfc3339(o.timeCreated),
    updated: rfc3339(o.updated),
    timeStorageClassUpdated: rfc3339(o.timeCreated),
  };
}

function generationMatches(o: StoredObject, generation: string | null): boolean {
  return generation === null || generation === o.generation;
}

export function noBucket(): Reply {
  return driveError(404, 'The specified bucket does not exist.', { reason: 'notFound' });
}

function noObject(bucket: string, name: string): Reply {
  return driveError(404, `No such object: ${bucket}/${name}`, { reason: 'notFound' });
}

function preconditionFailed(): Reply {
  return driveError(412, 'At least one of the pre-conditions you specified did not hold.', { reason: 'conditionNotMet', location: 'If-Match', locationType: 'header' });
}

type Upload = { name: string; bytes: Buffer; contentType: string; metadata?: Record<string, string> } | { error: string };

/** `uploadType=media` (name in the query) or `multipart` (JSON metadata part, then the bytes). */
function readUpload(req: EmuRequest): Upload {
  const type = req.query.get('uploadType');
  if (type === 'media') {
    const name = req.query.get('name');
    if (!name) return { error: 'Required parameter: name' };
    return { name, bytes: req.body, contentType: req.headers['content-type'] ?? 'application/octet-stream' };
  }
  if (type !== 'multipart') return { error: `uploadType ${type ?? '(missing)'} is not emulated; use media or multipart` };
  const boundary = multipartBoundary(req.headers['content-type']);
  if (!boundary) return { error: 'Multipart upload needs a boundary' };
  const parts = splitMultipart(req.body, boundary) ?? [];
  if (parts.length < 2) return { error: 'Multipart upload needs a metadata part and a media part' };
  const [metaPart, mediaPart] = parts as [MultipartPart, MultipartPart];
  let meta: { name?: unknown; contentType?: unknown; metadata?: unknown };
  try {
    meta = JSON.parse(metaPart.body.toString('utf8')) as typeof meta;
  } catch {
    return { error: 'Metadata part is not JSON' };
  }
  const name = typeof meta.name === 'string' ? meta.name : req.query.get('name');
  if (!name) return { error: 'Required parameter: name' };
  const contentType = typeof meta.contentType === 'string' ? meta.contentType : (mediaPart.headers['content-type'] ?? 'application/octet-stream');
  const metadata = customMetadata(meta.metadata);
  if (metadata === null) return { error: 'Invalid value for metadata: its values must be strings' };
  return { name, bytes: mediaPart.body, contentType, ...(metadata ? { metadata } : {}) };
}

/** The upload's custom metadata: string values only; null when malformed, undefined when absent. */
function customMetadata(raw: unknown): Record<string, string> | null | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') return null;
    out[k] = v;
  }
  return out;
}

