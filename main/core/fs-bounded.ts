import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { UserError } from './errors';

/**
 * Reading a file the user named (ROI, point layer, job file): only a regular file, at most `maxBytes`,
 * asynchronously. A device such as /dev/zero would be read for ever, and opening a FIFO waits for a
 * writer; both are refused with one line (docs/security.md, "Input files"). The file is opened without
 * blocking and checked through its descriptor, so it cannot be swapped between the check and the read.
 */

/** Largest ROI or point layer Tessera reads (it is parsed in memory). */
export const ROI_MAX_BYTES = 512 * 1024 * 1024;
/** Largest job file. */
export const JOB_FILE_MAX_BYTES = 16 * 1024 * 1024;

export interface BoundedRead {
  /** Names the file in messages (the path as given). */
  label: string;
  maxBytes: number;
  /** What to give instead (ends the "not a regular file" line), e.g. "give a .gpkg or .geojson file". */
  hint: string;
  /** The line for a missing file. */
  missing: string;
}

export async function readBoundedFile(path: string, o: BoundedRead): Promise<Buffer> {
  // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer (not on Windows, which has no FIFOs in paths).
  const flags = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
  let fh;
  try {
    fh = await open(path, flags);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(o.missing);
    if (code === 'EISDIR') throw new UserError(`${o.label} is a folder; ${o.hint}`);
    if (code === 'EACCES' || code === 'EPERM') throw new UserError(`${o.label} cannot be read (permission denied)`);
    if (code === 'ENXIO') throw new UserError(`${o.label} is not a regular file; ${o.hint}`);
    throw new UserError(`${o.label} cannot be read (${code ?? (e as Error).message})`);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new UserError(`${o.label} is a folder; ${o.hint}`);
    if (!st.isFile()) throw new UserError(`${o.label} is not a regular file; ${o.hint}`);
    if (st.size > o.maxBytes) throw new UserError(`${o.label} is larger than ${Math.round(o.maxBytes / 1024 ** 2)} MB, the most Tessera reads; ${o.hint}`);
    // Read to the size seen, plus one byte to notice a file that grows meanwhile.
    const buf = Buffer.allocUnsafe(Math.min(st.size + 1, o.maxBytes + 1));
    let filled = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, filled, buf.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > o.maxBytes) throw new UserError(`${o.label} is larger than ${Math.round(o.maxBytes / 1024 ** 2)} MB, the most Tessera reads; ${o.hint}`);
      if (filled === buf.length) break; // grew past its size: read what was there
    }
    return buf.subarray(0, filled);
  } finally {
    await fh.close();
  }
}
