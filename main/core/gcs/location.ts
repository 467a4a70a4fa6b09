import type { DriveFile } from '../google/drive';
import type { GcsObject } from './port';

/**
 * Where a Cloud Storage job's objects live (docs/cloud-storage.md, "Names"): the bucket and the prefix's
 * folder. Object names are `{prefix}/{job}_{tileId}…`; the part after the folder is the file name that
 * §3's pattern and the ownership rule judge, exactly as for a Drive file.
 */
export interface GcsFolder {
  readonly bucket: string;
  /** '' (the bucket's top) or a folder ending in '/'. */
  readonly folder: string;
}

/** The job's folder from its `destination.prefix` ('' or 'a/b', never with slashes at the ends). */
export function jobFolder(bucket: string, prefix: string): GcsFolder {
  return { bucket, folder: prefix === '' ? '' : `${prefix}/` };
}

/** The `fileNamePrefix` of a unit's export. */
export function objectPrefix(prefix: string, filePrefix: string): string {
  return prefix === '' ? filePrefix : `${prefix}/${filePrefix}`;
}

/**
 * The folder an operation's `destinationUris` names (the console's browser link,
 * `…/storage/browser/{bucket}/{folder}`); undefined when it names none.
 */
export function operationFolder(destinationUris: readonly string[] | undefined): GcsFolder | undefined {
  for (const uri of destinationUris ?? []) {
    const m = /\/storage\/browser\/([^/?#]+)\/?([^?#]*)$/.exec(uri);
    if (!m) continue;
    const folder = decodeURIComponent(m[2] ?? '');
    return { bucket: decodeURIComponent(m[1] as string), folder: folder === '' || folder.endsWith('/') ? folder : `${folder}/` };
  }
  return undefined;
}

/** A folder as one string for the journal's `folderId` (`gs://bucket/folder/`). */
export function folderKey(f: GcsFolder): string {
  return `gs://${f.bucket}/${f.folder}`;
}

export function parseFolderKey(key: string): GcsFolder | undefined {
  const m = /^gs:\/\/([^/]+)\/(.*)$/.exec(key);
  return m ? { bucket: m[1] as string, folder: m[2] as string } : undefined;
}

/**
 * The objects directly in `folder` as the ownership rule reads files: `name` is the part after the folder,
 * `createdTime` the object's `timeCreated`, `id` the object and generation (fileId below). Objects in
 * deeper "subfolders" are not in the folder.
 */
export function asFolderFiles(objects: readonly GcsObject[], f: GcsFolder): DriveFile[] {
  const out: DriveFile[] = [];
  for (const o of objects) {
    if (o.bucket !== f.bucket || !o.name.startsWith(f.folder)) continue;
    const name = o.name.slice(f.folder.length);
    if (name === '' || name.includes('/')) continue;
    out.push({ id: fileId(o), name, size: o.size, md5: checksumOf(o), ...(o.timeCreated ? { createdTime: o.timeCreated } : {}) });
  }
  return out;
}

/** The journal's file id of an object version: `gs://bucket/name#generation`. */
export function fileId(o: Pick<GcsObject, 'bucket' | 'name' | 'generation'>): string {
  return `gs://${o.bucket}/${o.name}#${o.generation}`;
}

export function parseFileId(id: string): { bucket: string; name: string; generation: string } | undefined {
  const m = /^gs:\/\/([^/]+)\/(.+)#(\d*)$/.exec(id);
  return m ? { bucket: m[1] as string, name: m[2] as string, generation: m[3] as string } : undefined;
}

/**
 * The checksum kept in the journal's `md5` field: the object's base64 MD5, or `crc32c:` and its CRC32C
 * when it has no MD5 (a composite object).
 */
export function checksumOf(o: Pick<GcsObject, 'md5Hash' | 'crc32c'>): string {
  return o.md5Hash ?? (o.crc32c ? `crc32c:${o.crc32c}` : '');
}

export function checksumsFrom(md5Field: string): Pick<GcsObject, 'md5Hash' | 'crc32c'> {
  if (md5Field.startsWith('crc32c:')) return { crc32c: md5Field.slice('crc32c:'.length) };
  return md5Field ? { md5Hash: md5Field } : {};
}
