import { createHash } from 'node:crypto';
import { FileBody } from '../http/file-body';
import type { EmuRequest, Handler, Route } from '../http/router';
import { multipartBoundary, splitMultipart } from '../http/multipart';
import { driveError, driveInvalid, driveNotFound, json, noContent, type Reply } from '../http/reply';
import { ABOUT_SHAPE, applyFields, checkFields, FieldsError, FILE_LIST_SHAPE, FILE_SHAPE, parseFields, type Shape } from './fields';
import { parseQuery, QueryError } from './query';
import { FOLDER_MIME, type DriveFile, type DriveStore } from './store';

/**
 * Drive v3 as `@googleapis/drive` calls it with `rootUrl` pointed here: files.list / get (metadata and
 * media with Range) / create (folders, empty files) / update (trash, rename, move) / delete / emptyTrash,
 * and about.get for the storage quota.
 */
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

const DEFAULT_FILE_FIELDS = 'kind,id,name,mimeType';
const DEFAULT_LIST_FIELDS = 'kind,incompleteSearch,nextPageToken,files(kind,id,name,mimeType)';

/** Drive's late listings (main/emulator/README.md, "Faults"): new files reach files.list only this long after creation. */
export interface ListingSettings {
  listingDelaySeconds(): number;
  /** The time Drive's timestamps are in (simulated epoch milliseconds). */
  now(): number;
}

export function driveRoutes(drive: DriveStore, listing?: ListingSettings): Route[] {
  /** The handler of a route on one file (`{fileId}`): Drive's 404 when no file has that id. */
  const onFile = (handle: (f: DriveFile, req: EmuRequest) => Promise<Reply> | Reply): Handler => (req) => {
    const id = req.params.fileId as string;
    const f = drive.get(id);
    return f ? handle(f, req) : driveNotFound(id);
  };

  return [
    { method: 'GET', template: '/drive/v3/files', service: 'drive', handler: (req) => list(drive, req, listing) },
    { method: 'POST', template: '/drive/v3/files', service: 'drive', handler: (req) => create(drive, req) },
    { method: 'POST', template: '/upload/drive/v3/files', service: 'drive', handler: (req) => upload(drive, req) },
    { method: 'PATCH', template: '/upload/drive/v3/files/{fileId}', service: 'drive', handler: onFile((f, req) => uploadUpdate(drive, f, req)) },
    {
      method: 'DELETE', template: '/drive/v3/files/trash', service: 'drive',
      handler: () => {
        drive.emptyTrash();
        return noContent();
      },
    },
    {
      method: 'GET', template: '/drive/v3/files/{fileId}', service: 'drive',
      handler: onFile(async (f, req) => {
        if (req.query.get('alt') === 'media') return media(drive, f, req.headers.range);
        if (selectsDigests(req)) await drive.contentDigests(f);
        return resource(req, fileResource(drive, f, req.caller?.email), DEFAULT_FILE_FIELDS, FILE_SHAPE);
      }),
    },
    { method: 'PATCH', template: '/drive/v3/files/{fileId}', service: 'drive', handler: onFile((f, req) => update(drive, f, req)) },
    {
      method: 'DELETE', template: '/drive/v3/files/{fileId}', service: 'drive',
      handler: onFile((f) => {
        if (f === drive.root) return driveError(403, 'The user does not have sufficient permissions for this file.', { reason: 'insufficientFilePermissions' });
        drive.delete(f);
        return noContent();
      }),
    },
    {
      method: 'GET', template: '/drive/v3/about', service: 'drive',
      handler: (req) => {
        if (!req.query.get('fields')) {
          return driveError(400, "The 'fields' parameter is required for this method.", { reason: 'required', location: 'fields', locationType: 'parameter' });
        }
        const q = drive.quota();
        const email = req.caller?.email ?? '';
        const storageQuota: Record<string, string> = {};
        if (q.limit !== null) storageQuota.limit = String(q.limit);
        storageQuota.usage = String(q.usage);
        storageQuota.usageInDrive = String(q.usage);
        storageQuota.usageInDriveTrash = String(q.usageInDriveTrash);
        const about = {
          kind: 'drive#about',
          user: userResource(email),
          storageQuota,
          maxUploadSize: '5242880000000',
          canCreateDrives: false,
        };
        return resource(req, about, '', ABOUT_SHAPE);
      },
    },
  ];
}

function userResource(email: string): Record<string, unknown> {
  return {
    kind: 'drive#user',
    displayName: email.split('@')[0] ?? email,
    me: true,
    permissionId: createHash('sha1').update(email).digest('hex').slice(0, 20).replace(/[a-f]/g, (c) => String(c.charCodeAt(0) % 10)),
    emailAddress: email,
  };
}

/** A file as Drive v3 describes it (all of what the emulator knows; `fields` picks from it). */
function fileResource(drive: DriveStore, f: DriveFile, email = ''): Record<string, unknown> {
  const isFolder = f.mimeType === FOLDER_MIME;
  const out: Record<string, unknown> = {
    kind: 'drive#file',
    id: f.id,
    name: f.name,
    mimeType: f.mimeType,
  };
  if (f !== drive.root) out.parents = f.parents;
  if (f.description !== null) out.description = f.description;
  Object.assign(out, {
    starred: false,
    trashed: f.trashed,
    explicitlyTrashed: f.explicitlyTrashed,
    spaces: ['drive'],
    version: '1',
    webViewLink: isFolder ? `https://drive.google.com/drive/folders/${f.id}` : `https://drive.google.com/file/d/${f.id}/view?usp=drivesdk`,
    iconLink: `https://drive-thirdparty.googleusercontent.com/16/type/${f.mimeType}`,
    hasThumbnail: false,
    viewedByMe: true,
    createdTime: new Date(f.createdTime).toISOString(),
    modifiedTime: new Date(f.modifiedTime).toISOString(),
    modifiedByMe: true,
    owners: [userResource(email)],
    shared: false,
    ownedByMe: true,
    quotaBytesUsed: String(f.size ?? 0),
    isAppAuthorized: true,
  });
  if (f.trashedTime !== null) out.trashedTime = new Date(f.trashedTime).toISOString();
  if (f.size !== null) {
    const ext = /\.([^.]+)$/.exec(f.name)?.[1];
    const fullExt = /^[^.]*\.(.+)$/.exec(f.name)?.[1];
    if (!isFolder) {
      out.webContentLink = `https://drive.google.com/uc?id=${f.id}&export=download`;
      out.originalFilename = f.name;
      out.fullFileExtension = fullExt ?? '';
      out.fileExtension = ext ?? '';
      out.md5Checksum = f.md5Checksum;
      if (f.sha1Checksum !== undefined) out.sha1Checksum = f.sha1Checksum;
      if (f.sha256Checksum !== undefined) out.sha256Checksum = f.sha256Checksum;
      out.headRevisionId = `0B${f.id.slice(1, 40)}`;
    }
    out.size = String(f.size);
  }
  return out;
}

/** True when `fields` asks for the SHA checksums (by name or with `*`), which are computed on first request. */
function selectsDigests(req: EmuRequest): boolean {
  return /sha1Checksum|sha256Checksum|\*/.test(req.query.get('fields') ?? '');
}

/** Applies `fields` (or the method's defaults); a selection of unknown fields is Drive's 400. */
function resource(req: EmuRequest, value: Record<string, unknown>, defaults: string, shape: Shape): Reply {
  const fields = req.query.get('fields') || defaults;
  try {
    const mask = parseFields(fields);
    checkFields(mask, shape);
    return json(200, applyFields(value, mask));
  } catch (e) {
    if (e instanceof FieldsError) return driveInvalid('fields', e.message, 'invalidParameter');
    throw e;
  }
}

// ---- files.list ---------------------------------------------------------------------------------------

type SortKey = { get: (f: DriveFile) => string | number; desc: boolean; natural?: boolean };

const SORT_FIELDS: Record<string, (f: DriveFile) => string | number> = {
  createdTime: (f) => f.createdTime,
  modifiedTime: (f) => f.modifiedTime,
  modifiedByMeTime: (f) => f.modifiedTime,
  recency: (f) => f.modifiedTime,
  viewedByMeTime: (f) => f.modifiedTime,
  name: (f) => f.name.toLowerCase(),
  name_natural: (f) => f.name.toLowerCase(),
  folder: (f) => (f.mimeType === FOLDER_MIME ? 0 : 1),
  quotaBytesUsed: (f) => f.size ?? 0,
  starred: () => 0,
  sharedWithMeTime: () => 0,
};

function parseOrderBy(text: string | null): SortKey[] | null {
  // No orderBy: Drive documents no order; the emulator uses creation order, stable for paging.
  if (!text) return [{ get: SORT_FIELDS.createdTime as SortKey['get'], desc: false }];
  const keys: SortKey[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*([A-Za-z_]+)(?:\s+(asc|desc))?\s*$/i.exec(part);
    const get = m ? SORT_FIELDS[m[1] as string] : undefined;
    if (!m || !get) return null;
    keys.push({ get, desc: (m[2] ?? '').toLowerCase() === 'desc', natural: m[1] === 'name_natural' });
  }
  return keys;
}

function compareValues(a: string | number, b: string | number, natural: boolean): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  if (natural) return sa.localeCompare(sb, 'en', { numeric: true });
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Sort-key values of a file plus its id: what a page token remembers about the last file of a page. */
type Cursor = (string | number)[];

function cursorOf(f: DriveFile, keys: SortKey[]): Cursor {
  return [...keys.map((k) => k.get(f)), f.id];
}

function compareCursor(a: Cursor, b: Cursor, keys: SortKey[]): number {
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as SortKey;
    const c = compareValues(a[i] as string | number, b[i] as string | number, !!k.natural);
    if (c !== 0) return k.desc ? -c : c;
  }
  return compareValues(a[keys.length] as string, b[keys.length] as string, false);
}

async function list(drive: DriveStore, req: EmuRequest, listing?: ListingSettings): Promise<Reply> {
  const q = req.query;
  const sizeText = q.get('pageSize');
  const pageSize = sizeText === null ? DEFAULT_PAGE_SIZE : Number(sizeText);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    return driveInvalid('pageSize', `Invalid value '${sizeText}'. Values must be within the range: [1, 1000]`, 'invalidParameter');
  }
  const keys = parseOrderBy(q.get('orderBy'));
  if (!keys) return driveInvalid('orderBy', 'Invalid Value', 'invalid');
  let parsed;
  try {
    parsed = parseQuery(q.get('q'), drive.root.id);
  } catch (e) {
    if (e instanceof QueryError) return driveInvalid('q', 'Invalid Value', 'invalid');
    throw e;
  }
  const spaces = q.get('spaces');
  const fingerprint = createHash('sha1').update(`${q.get('q') ?? ''}\u0000${q.get('orderBy') ?? ''}`).digest('base64url').slice(0, 10);
  let after: Cursor | null = null;
  const token = q.get('pageToken');
  if (token) {
    after = decodeCursor(token, fingerprint);
    if (!after) return driveInvalid('pageToken', 'Invalid Value', 'invalid');
  }

  const source = parsed.parent !== null ? drive.children(parsed.parent) : drive.live();
  const matches: { f: DriveFile; c: Cursor }[] = [];
  // Search is not read-after-write consistent on Drive: a file created less than the delay ago is not
  // listed yet (files.get finds it at once).
  const delayMs = (listing?.listingDelaySeconds() ?? 0) * 1000;
  const listedBefore = delayMs > 0 && listing ? listing.now() - delayMs : Number.POSITIVE_INFINITY;
  if (spaces === null || spaces.split(',').includes('drive')) {
    for (const f of source) if (f.createdTime <= listedBefore && parsed.test(f)) matches.push({ f, c: cursorOf(f, keys) });
  }
  matches.sort((a, b) => compareCursor(a.c, b.c, keys));
  let start = 0;
  if (after) {
    const cursor = after;
    while (start < matches.length && compareCursor((matches[start] as { c: Cursor }).c, cursor, keys) <= 0) start++;
  }
  const page = matches.slice(start, start + pageSize);
  if (selectsDigests(req)) for (const m of page) await drive.contentDigests(m.f);
  const body: Record<string, unknown> = { kind: 'drive#fileList', incompleteSearch: false, files: page.map((m) => fileResource(drive, m.f, req.caller?.email)) };
  const last = page[page.length - 1];
  if (last && start + pageSize < matches.length) body.nextPageToken = encodeCursor(last.c, fingerprint);
  // Key order as Drive writes it.
  const ordered: Record<string, unknown> = { kind: body.kind };
  if (body.nextPageToken) ordered.nextPageToken = body.nextPageToken;
  ordered.incompleteSearch = false;
  ordered.files = body.files;
  return resource(req, ordered, DEFAULT_LIST_FIELDS, FILE_LIST_SHAPE);
}

function encodeCursor(c: Cursor, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ f: fingerprint, c })).toString('base64url');
}

function decodeCursor(token: string, fingerprint: string): Cursor | null {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { f?: unknown; c?: unknown };
    if (v.f !== fingerprint || !Array.isArray(v.c)) return null;
    return v.c.every((x) => typeof x === 'string' || typeof x === 'number') ? (v.c as Cursor) : null;
  } catch {
    return null;
  }
}

// ---- files.get?alt=media --------------------------------------------------------------------------------

async function media(drive: DriveStore, f: DriveFile, range: string | undefined): Promise<Reply> {
  const path = drive.blobPath(f);
  if (path === null || f.size === null) {
    return driveError(403, 'Only files with binary content can be downloaded. Use Export with Docs Editors files.', { reason: 'fileNotDownloadable', location: 'alt', locationType: 'parameter' });
  }
  const size = f.size;
  let start = 0;
  let end = size - 1;
  let partial = false;
  const r = range ? parseRange(range, size) : null;
  if (r === 'unsatisfiable') {
    return { ...driveError(416, 'Request range not satisfiable', { reason: 'requestedRangeNotSatisfiable' }), headers: { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Range': `bytes */${size}` } };
  }
  if (r) {
    [start, end] = r;
    partial = true;
  }
  const headers: Record<string, string> = {
    'Content-Type': f.mimeType,
    'Content-Length': String(end - start + 1),
    'Content-Disposition': `attachment; filename="${f.name.replace(/"/g, '')}"`,
    'X-Goog-Hash': `md5=${Buffer.from(f.md5Checksum ?? '', 'hex').toString('base64')}`,
  };
  if (partial) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  if (size === 0) return { status: 200, headers, body: Buffer.alloc(0), media: true };
  // Opened now, under the emulator's lock: a delete right after this reply still lets it finish.
  return { status: partial ? 206 : 200, headers, body: await new FileBody(path, start, end).opened(), media: true };
}

/** One `bytes=` range (RFC 9110); a malformed header is ignored, an unsatisfiable one is a 416. */
function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return null;
  if (start >= size) return 'unsatisfiable';
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  return [start, Math.min(end, size - 1)];
}

// ---- files.create / files.update ------------------------------------------------------------------------

type BodyResult = { ok: true; meta: Record<string, unknown> } | { ok: false; reply: Reply };

function jsonBody(req: EmuRequest): BodyResult {
  const text = req.body.toString('utf8').trim();
  if (text === '') return { ok: true, meta: {} };
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return { ok: true, meta: v as Record<string, unknown> };
  } catch {
    // fall through
  }
  return { ok: false, reply: driveError(400, 'Invalid JSON payload received.', { reason: 'parseError' }) };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

async function create(drive: DriveStore, req: EmuRequest): Promise<Reply> {
  const body = jsonBody(req);
  if (!body.ok) return body.reply;
  const meta = body.meta;
  const parents = Array.isArray(meta.parents) ? meta.parents.filter((p): p is string => typeof p === 'string') : [];
  if (parents.length > 1) {
    return driveError(403, 'Increasing the number of parents is not allowed. A file can only have one parent.', { reason: 'cannotAddParent' });
  }
  const parentId = parents[0] ?? 'root';
  const parent = drive.get(parentId);
  if (!parent) return driveNotFound(parentId);
  if (parent.mimeType !== FOLDER_MIME) return driveError(400, 'The specified parent is not a folder.', { reason: 'parentNotAFolder', location: 'parents', locationType: 'parameter' });
  const name = str(meta.name) ?? 'Untitled';
  const mimeType = str(meta.mimeType) ?? 'application/octet-stream';
  const description = str(meta.description) ?? null;
  const f = mimeType === FOLDER_MIME ? drive.createFolder(name, parent.id) : await drive.createEmpty(name, mimeType, parent.id, description);
  if (mimeType === FOLDER_MIME && description !== null) {
    f.description = description;
    drive.markChanged(f);
  }
  return resource(req, fileResource(drive, f, req.caller?.email), DEFAULT_FILE_FIELDS, FILE_SHAPE);
}

/**
 * `POST /upload/drive/v3/files?uploadType=multipart|media`, as `files.create({ requestBody, media })`
 * sends it: multipart/related with the JSON metadata first and the bytes second (or the bytes alone).
 * Resumable uploads are not emulated.
 */
async function upload(drive: DriveStore, req: EmuRequest): Promise<Reply> {
  const upload = uploadBody(req);
  if ('reply' in upload) return upload.reply;
  const { meta, bytes } = upload;
  const parents = Array.isArray(meta.parents) ? meta.parents.filter((p): p is string => typeof p === 'string') : [];
  const parent = drive.get(parents[0] ?? 'root');
  if (!parent) return driveNotFound(parents[0] ?? 'root');
  if (parent.mimeType !== FOLDER_MIME) return driveError(400, 'The specified parent is not a folder.', { reason: 'parentNotAFolder' });
  if (bytes.length > drive.freeBytes()) {
    return driveError(403, "The user's Drive storage quota has been exceeded.", { reason: 'storageQuotaExceeded' });
  }
  const md5 = createHash('md5').update(bytes).digest('hex');
  const f = await drive.createWithContent(str(meta.name) ?? 'Untitled', str(meta.mimeType) ?? 'application/octet-stream', parent.id, bytes, md5);
  return resource(req, fileResource(drive, f, req.caller?.email), DEFAULT_FILE_FIELDS, FILE_SHAPE);
}

/** An upload's metadata and bytes (`uploadType=media`: bytes only; `multipart`: JSON part, then bytes), or Drive's refusal. */
function uploadBody(req: EmuRequest): { meta: Record<string, unknown>; bytes: Buffer } | { reply: Reply } {
  const type = req.query.get('uploadType');
  if (type === 'media') return { meta: {}, bytes: req.body };
  if (type !== 'multipart') {
    return { reply: driveError(400, `Invalid value for uploadType: ${type ?? '(none)'}`, { reason: 'invalidParameter', location: 'uploadType', locationType: 'parameter' }) };
  }
  const boundary = multipartBoundary(req.headers['content-type']);
  const parts = boundary === undefined ? undefined : splitMultipart(req.body, boundary);
  if (!parts || parts.length !== 2) return { reply: driveError(400, 'Malformed multipart body.', { reason: 'badContent' }) };
  try {
    return { meta: JSON.parse(parts[0]!.body.toString('utf8')) as Record<string, unknown>, bytes: parts[1]!.body };
  } catch {
    return { reply: driveError(400, 'Invalid JSON payload received.', { reason: 'parseError' }) };
  }
}

/** `PATCH /upload/drive/v3/files/{id}?uploadType=media|multipart`: `files.update({ fileId, media })`, new content. */
async function uploadUpdate(drive: DriveStore, f: DriveFile, req: EmuRequest): Promise<Reply> {
  const upload = uploadBody(req);
  if ('reply' in upload) return upload.reply;
  const { meta, bytes } = upload;
  if (f.mimeType === FOLDER_MIME) return driveError(400, 'A folder has no content.', { reason: 'badContent' });
  if (bytes.length - (f.size ?? 0) > drive.freeBytes()) {
    return driveError(403, "The user's Drive storage quota has been exceeded.", { reason: 'storageQuotaExceeded' });
  }
  await drive.replaceContent(f, bytes, createHash('md5').update(bytes).digest('hex'));
  if (typeof meta.name === 'string') drive.rename(f, meta.name);
  return resource(req, fileResource(drive, f, req.caller?.email), DEFAULT_FILE_FIELDS, FILE_SHAPE);
}

function update(drive: DriveStore, f: DriveFile, req: EmuRequest): Reply {
  const body = jsonBody(req);
  if (!body.ok) return body.reply;
  const meta = body.meta;
  const add = req.query.get('addParents');
  const remove = req.query.get('removeParents');
  if (add) {
    const ids = add.split(',');
    if (ids.length > 1 || (!remove && f.parents.length > 0)) {
      return driveError(403, 'Increasing the number of parents is not allowed. A file can only have one parent.', { reason: 'cannotAddParent' });
    }
    const target = drive.get(ids[0] as string);
    if (!target) return driveNotFound(ids[0] as string);
    if (target.mimeType !== FOLDER_MIME) return driveError(400, 'The specified parent is not a folder.', { reason: 'parentNotAFolder' });
    drive.move(f, target.id);
  }
  if (typeof meta.name === 'string') drive.rename(f, meta.name);
  if (typeof meta.description === 'string') {
    f.description = meta.description;
    drive.markChanged(f);
  }
  if (typeof meta.trashed === 'boolean' && meta.trashed !== f.trashed) drive.setTrashed(f, meta.trashed);
  return resource(req, fileResource(drive, f, req.caller?.email), DEFAULT_FILE_FIELDS, FILE_SHAPE);
}
