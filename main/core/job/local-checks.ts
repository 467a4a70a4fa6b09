import { constants } from 'node:fs';
import { access, lstat, open, readdir, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UserError } from '../errors';
import type { Job } from './job-file';

/**
 * What a run checks on this computer before it makes anything (docs/security.md, "Input files"): the
 * input files are readable regular files, the job folder can hold the job's state, and the output folder
 * can be written. Each problem is one line naming the file or folder and what is wrong; exit 1 (bad input:
 * nothing has started, the user fixes the job file or the folder and runs again).
 */
export async function checkLocalInputs(job: Job): Promise<void> {
  await inputFile(job.roi.path, (p) => `ROI file not found: ${p}`, 'give a .gpkg or .geojson file');
  if (job.points) await inputFile(job.points.path, (p) => `the points layer ${p} was not found`, 'give a .geojson or .gpkg file');
  if (job.recipe && 'file' in job.recipe) await inputFile(job.recipe.file, (p) => `job file: recipe file not found: ${p}`, 'give the recipe as a .js file');
  await writableFolder(job.stateDir, (blocking) =>
    `the ${blocking === job.dir ? 'job folder' : 'folder'} ${blocking} is not writable (%s): Tessera keeps the job's journal in ${job.stateDir}; make the folder writable or move the job file`,
  );
  if (!job.assetFolder) {
    await writableFolder(job.output, (blocking) =>
      blocking === job.output
        ? `the output folder ${job.output} is not writable (%s); make it writable or choose another "output" in the job file`
        : `the output folder ${job.output} cannot be made: ${blocking} is not writable (%s); make it writable or choose another "output" in the job file`,
    );
  }
}

function denied(code: string | undefined): string | undefined {
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  return undefined;
}

/** A regular file that can be read (opened without blocking, so a FIFO does not wait for a writer). */
async function inputFile(path: string, missing: (p: string) => string, hint: string): Promise<void> {
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(missing(path));
    if (code === 'EISDIR') throw new UserError(`${path} is a folder; ${hint}`);
    const why = denied(code);
    throw new UserError(`${path} cannot be read (${why ?? code ?? (e as Error).message})`);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new UserError(`${path} is a folder; ${hint}`);
    if (!st.isFile()) throw new UserError(`${path} is not a regular file; ${hint}`);
  } finally {
    await fh.close();
  }
}

/**
 * The folder exists and is writable, or its nearest existing ancestor is (so it can be made). `message`
 * gets the folder that blocks and has `%s` where the reason goes.
 */
async function writableFolder(path: string, message: (blocking: string) => string): Promise<void> {
  let existing = path;
  for (;;) {
    try {
      const st = await stat(existing);
      if (!st.isDirectory()) throw new UserError(`${existing} is a file, where ${existing === path ? 'a folder' : `a folder for ${path}`} is needed`);
      break;
    } catch (e) {
      if (e instanceof UserError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        throw new UserError(message(existing).replace('%s', denied(code) ?? code ?? (e as Error).message));
      }
      const parent = dirname(existing);
      if (parent === existing) return;
      existing = parent;
    }
  }
  try {
    await access(existing, constants.W_OK | constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(message(existing).replace('%s', denied(code) ?? code ?? (e as Error).message));
  }
}

/** Files a run writes in a new state folder before it has any state: removable when the run was refused. */
const FRESH_STATE_FILES = new Set(['journal.jsonl', 'lock', 'log']);

/**
 * A job's state folder, made by this run: when the run ends without having written any state (refused
 * for bad input), the folder goes again, and `.tessera` too when this run made it and it is empty. Only
 * folders that did not exist before are touched, only the files listed above, only when empty.
 */
export async function freshStateFolder(stateDir: string): Promise<{ discardIfUnused(): Promise<void> }> {
  const made: string[] = [];
  for (const dir of [stateDir, dirname(stateDir)]) {
    if (!(await lstat(dir).then(() => true, () => false))) made.push(dir);
  }
  return {
    async discardIfUnused() {
      if (!made.includes(stateDir)) return;
      let names: string[];
      try {
        names = await readdir(stateDir);
      } catch {
        return;
      }
      if (names.some((n) => !FRESH_STATE_FILES.has(n))) return;
      const journal = await stat(join(stateDir, 'journal.jsonl')).catch(() => undefined);
      if (journal && journal.size > 0) return; // the run wrote state: it is the job's now
      for (const n of names) await unlink(join(stateDir, n)).catch(() => undefined);
      await rmdir(stateDir).catch(() => undefined);
      if (made.includes(dirname(stateDir))) await rmdir(dirname(stateDir)).catch(() => undefined);
    },
  };
}
