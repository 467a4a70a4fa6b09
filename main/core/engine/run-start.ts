import { access, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors';
import type { Job } from '../job/job-file';
import { prepareOutputFolder } from '../job/output-folder';
import type { Store } from '../ports/store';
import { fileHash, planTiles, roiContentHash } from './plan';
import { extendPeriods } from './period-plan';
import { descriptionProblem, planUnits } from '../periods';

/**
 * Plans the job once (its units in grid order, journaled) and refuses to go on when what defines its
 * outputs changed since it started (the job file's keys, the ROI file, a custom recipe's code).
 */
export async function planOnce(job: Job, store: Store, log: (level: 'info' | 'warn', message: string) => void): Promise<void> {
  const fingerprint: Record<string, string> = { ...job.fingerprint, roiContent: await roiContentHash(job).catch(() => 'unreadable') };
  // A custom recipe's code defines the outputs as much as the job file does.
  if (job.recipe && 'file' in job.recipe) fingerprint.recipeContent = await fileHash(job.recipe.file).catch(() => 'unreadable');
  const before = store.state.meta.fingerprint;
  if (before) {
    const changed = Object.keys(fingerprint).filter((k) => before[k] !== undefined && before[k] !== fingerprint[k]);
    if (changed.length) {
      const names: Record<string, string> = { roiContent: 'the ROI file', recipeContent: 'the recipe file' };
      const keys = changed.map((k) => names[k] ?? `"${k}"`).join(', ');
      throw new UserError(
        `the job changed since it started: ${keys} differ${changed.length === 1 ? 's' : ''}; undo the change, or give the job a new name to start over`,
      );
    }
  }
  if (store.state.meta.planned) {
    await extendPeriods(job, store, log);
    return;
  }
  const { tiles, warnings } = await planTiles(job);
  for (const w of warnings) log('warn', w);
  if (tiles.length === 0) throw new UserError('the ROI covers no tile with positive area');
  const units = planUnits(tiles, job.periods, job.periodOrder);
  if (job.periods) {
    const longest = tiles.reduce((a, t) => (t.id.length > a.length ? t.id : a), '');
    const problem = descriptionProblem({ job: job.name, tileId: longest, splitDepth: job.splitDepth, retries: job.retries, periods: job.periods });
    if (problem) throw new UserError(problem);
  }
  await store.append({ type: 'meta', patch: { fingerprint, ...(job.periods ? { periods: [...job.periods] } : {}) } }, { type: 'plan', tiles: units });
  log('info', job.periods ? `planned ${units.length} units (${tiles.length} tiles × ${job.periods.length} periods)` : `planned ${tiles.length} tiles`);
}

/** The output folder exists and can be written (made one level at a time; output-folder.ts). */
export async function prepareOutput(job: Job): Promise<void> {
  try {
    await prepareOutputFolder(job.output);
    await access(job.output, constants.W_OK);
    // A job with periods downloads into one subfolder per period (docs/periods.md#names).
    for (const p of job.periods ?? []) await mkdir(join(job.output, p.id), { recursive: true });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`the output folder ${job.output} cannot be written (${(e as Error).message}); nothing was submitted or deleted`, 3);
  }
}
