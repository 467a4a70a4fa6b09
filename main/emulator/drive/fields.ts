/**
 * Google's partial-response `fields` parameter: `nextPageToken,files(id,name,size)`, `files/id`, `*`.
 * Selecting a field the resource does not have is a 400 ("Invalid field selection"), as on Drive.
 */
export class FieldsError extends Error {}

type Mask = Map<string, Mask | null>;

/** The shape of a resource: a key maps to `true` (a leaf) or to the shape of its object / array items. */
export interface Shape {
  readonly [key: string]: Shape | true;
}

export function parseFields(text: string): Mask {
  let i = 0;
  const s = text.replace(/\s+/g, '');

  const list = (): Mask => {
    const mask: Mask = new Map();
    for (;;) {
      const m = /^(\*|[A-Za-z_][A-Za-z0-9_]*)(\/(\*|[A-Za-z_][A-Za-z0-9_]*))*/.exec(s.slice(i));
      if (!m) throw new FieldsError(`Invalid field selection ${s.slice(i) || text}`);
      i += m[0].length;
      let sub: Mask | null = null;
      if (s[i] === '(') {
        i++;
        sub = list();
        if (s[i] !== ')') throw new FieldsError(`Invalid field selection ${text}`);
        i++;
      }
      merge(mask, m[0].split('/'), sub);
      if (s[i] !== ',') break;
      i++;
    }
    return mask;
  };

  const mask = list();
  if (i !== s.length) throw new FieldsError(`Invalid field selection ${text}`);
  return mask;
}

function merge(mask: Mask, path: string[], sub: Mask | null): void {
  const [head, ...rest] = path as [string, ...string[]];
  if (rest.length === 0) {
    const prev = mask.get(head);
    if (prev === null || sub === null) mask.set(head, null);
    else if (prev === undefined) mask.set(head, sub);
    else for (const [k, v] of sub) prev.set(k, v);
    return;
  }
  let next = mask.get(head);
  if (next === null) return; // already selected whole
  if (next === undefined) mask.set(head, (next = new Map()));
  merge(next, rest, sub);
}

/** Throws FieldsError when the mask names a field the shape does not have. */
export function checkFields(mask: Mask, shape: Shape): void {
  for (const [k, sub] of mask) {
    if (k === '*') continue;
    const s = shape[k];
    if (s === undefined) throw new FieldsError(`Invalid field selection ${k}`);
    if (sub && s !== true) checkFields(sub, s);
    else if (sub && s === true) throw new FieldsError(`Invalid field selection ${k}`);
  }
}

export function applyFields(value: unknown, mask: Mask): unknown {
  if (Array.isArray(value)) return value.map((v) => applyFields(v, mask));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  if (mask.has('*') && mask.get('*') === null) return obj;
  const out: Record<string, unknown> = {};
  for (const [k, sub] of mask) {
    if (k === '*') continue;
    if (!(k in obj) || obj[k] === undefined) continue;
    out[k] = sub === null ? obj[k] : applyFields(obj[k], sub);
  }
  return out;
}

export const FILE_SHAPE: Shape = {
  kind: true, id: true, name: true, mimeType: true, parents: true, size: true, md5Checksum: true, quotaBytesUsed: true,
  trashed: true, explicitlyTrashed: true, trashedTime: true, createdTime: true, modifiedTime: true, description: true,
  fileExtension: true, fullFileExtension: true, originalFilename: true, headRevisionId: true, version: true,
  starred: true, spaces: true, ownedByMe: true, webViewLink: true, webContentLink: true, iconLink: true, viewedByMe: true,
  shared: true, capabilities: true, owners: true, lastModifyingUser: true, driveId: true, sha1Checksum: true,
  sha256Checksum: true, hasThumbnail: true, thumbnailVersion: true, modifiedByMe: true, modifiedByMeTime: true,
  viewedByMeTime: true, writersCanShare: true, permissionIds: true, isAppAuthorized: true, copyRequiresWriterPermission: true,
  resourceKey: true, folderColorRgb: true, properties: true, appProperties: true, exportLinks: true,
  contentHints: true, imageMediaMetadata: true, videoMediaMetadata: true, labelInfo: true, linkShareMetadata: true,
  permissions: true, sharingUser: true, shortcutDetails: true, contentRestrictions: true, trashingUser: true,
  inheritedPermissionsDisabled: true, downloadRestrictions: true, hasAugmentedPermissions: true, sharedWithMeTime: true,
  thumbnailLink: true, teamDriveId: true,
};

export const FILE_LIST_SHAPE: Shape = { kind: true, incompleteSearch: true, nextPageToken: true, files: FILE_SHAPE };

const USER_SHAPE: Shape = { kind: true, displayName: true, emailAddress: true, me: true, permissionId: true, photoLink: true };

export const ABOUT_SHAPE: Shape = {
  kind: true,
  user: USER_SHAPE,
  storageQuota: { limit: true, usage: true, usageInDrive: true, usageInDriveTrash: true },
  maxUploadSize: true, appInstalled: true, exportFormats: true, importFormats: true, maxImportSizes: true,
  canCreateDrives: true, canCreateTeamDrives: true, folderColorPalette: true, driveThemes: true, teamDriveThemes: true,
  storageQuotaDetails: true,
};
