import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { copyFile, link, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The one atomic writer (docs/ARCHITECTURE.md, "The durable store"): a file is replaced whole or not at
 * all, and survives a power cut once the call returns — a temporary file beside it (never a name Tessera
 * did not make), fsynced, renamed over the target, then the folder fsynced so the rename itself is kept.
 */
export interface AtomicWriteOptions {
  /** The file's mode whatever the umask (0600 for secrets); default 0644 less the umask. */
  mode?: number;
  /** Mode of the folder when it must be created (0700 beside secrets); default: not created. */
  dirMode?: number;
  /**
   * Create the file, never replace one: when the target exists the call fails with EEXIST and leaves it
   * as it was (the temporary file is linked to its name, which refuses an existing one, instead of renamed).
   */
  exclusive?: boolean;
}

/** fsyncs a folder so a rename inside it survives a power cut; a no-op where the OS refuses. */
export async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
  } catch {
    return; // folders cannot be opened on every platform; the rename itself is still atomic
  }
  try {
    await fh.sync();
  } catch {
    // not supported on every file system
  } finally {
    await fh.close();
  }
}

export function syncDirSync(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // not supported on every file system
  } finally {
    closeSync(fd);
  }
}

/** The temporary name beside `path`: hidden, unique, recognisably ours. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Moves a finished temporary file (written by a stream or another program: a download, a GeoTIFF) over
 * its target: the file fsynced, renamed, the folder fsynced.
 */
export async function commitFile(temp: string, path: string): Promise<void> {
  const fh = await open(temp, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(temp, path);
  await syncDir(dirname(path));
}

/**
 * `data` may be a sequence of chunks, made one at a time while they are written, so a large file (the job's
 * snapshot, docs/scale.md) never exists whole in memory. They are written synchronously, each as soon as it
 * is made, without yielding to the event loop in between: a generator that encodes live state sees it at
 * one moment, never half before and half after a change (the fsync and rename after them are asynchronous).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array | Iterable<Uint8Array>, options: AtomicWriteOptions = {}): Promise<void> {
  if (options.dirMode !== undefined) await mkdir(dirname(path), { recursive: true, mode: options.dirMode });
  const tmp = tempPathFor(path);
  const fh = await open(tmp, 'wx', options.mode ?? 0o644);
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) await fh.writeFile(data);
    else
      for (const chunk of data) {
        let written = 0;
        while (written < chunk.length) written += writeSync(fh.fd, chunk, written, chunk.length - written);
      }
    if (options.mode !== undefined) await fh.chmod(options.mode);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    if (options.exclusive) await linkOrCopyExclusive(tmp, path);
    else await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  if (options.exclusive) await rm(tmp, { force: true });
  await syncDir(dirname(path));
}

/** The same, synchronously (settings and sign-ins are written from synchronous code). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  if (options.dirMode !== undefined) mkdirSync(dirname(path), { recursive: true, mode: options.dirMode });
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'wx', options.mode ?? 0o644);
  try {
    if (typeof data === 'string') writeSync(fd, data);
    else writeSync(fd, data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    if (options.mode !== undefined) chmodSync(tmp, options.mode);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  syncDirSync(dirname(path));
}

/**
 * Writes a file only its owner may read (a sign-in, an OAuth client, settings), whole or not at all: mode
 * 0600 whatever the umask, in a folder made 0700 when missing.
 */
export function writePrivateFileSync(path: string, data: string | Uint8Array): void {
  writeFileAtomicSync(path, data, { mode: 0o600, dirMode: 0o700 });
}

/**
 * `tmp` under the name `path` unless `path` exists (EEXIST). A hard link is atomic; a file system without
 * hard links (FAT, exFAT, some network shares: EPERM, ENOTSUP, ENOSYS) gets an exclusive copy, fsynced.
 */
async function linkOrCopyExclusive(tmp: string, path: string): Promise<void> {
  try {
    await link(tmp, path);
  } catch (e) {
    if (!['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
    await copyFile(tmp, path, constants.COPYFILE_EXCL);
    const fh = await open(path, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}
