import { UserError } from '../errors';
import type { Job } from '../job/job-file';
import type { NewEntry, TilePlan } from '../job/state';
import { comparePeriods, descriptionProblem, periodOf, planUnits, unitParts, type Period } from '../periods';
import type { Store } from '../ports/store';

/**
 * Refuses (UserError, exit 1) a change of `periods` that the journal cannot follow, before anything is
 * built or sent; answers what changed, or undefined for a job that never had periods or a fresh journal.
 */
export function checkPeriodChange(job: Job, store: Store): { added: Period[]; dropped: Period[] } | undefined {
  const before = store.state.meta.periods;
  if (!store.state.meta.planned || (!before && !job.periods)) return undefined;
  const busy = new Set<string>();
  for (const id in store.state.tiles) {
    const u = store.state.tiles[id]!;
    if (u.state !== 'pending' || u.attempt > 0) busy.add(periodOf(id) ?? '');
  }
  // A journal from before periods existed has no meta.periods: it started without them.
  const change = comparePeriods(before, job.periods, (id) => busy.has(id));
  if (!change.ok) throw new UserError(`the job's "periods" changed: ${change.message}`);
  return change;
}

/**
 * A resumed job whose `periods` changed (docs/periods.md, "Changing periods"): new periods are planned
 * for every tile of the job, periods removed before any of their work started are cancelled, and a
 * change to a period that has work is refused before anything is sent.
 */
export async function extendPeriods(job: Job, store: Store, log: (level: 'info' | 'warn', message: string) => void): Promise<void> {
  const change = checkPeriodChange(job, store);
  if (!change) return;
  const before = store.state.meta.periods;
  const units = Object.values(store.state.tiles);
  const entries: NewEntry[] = [];
  if (change.added.length) {
    const roots = new Map<string, TilePlan>();
    for (const u of units) {
      const { tileId } = unitParts(u.id);
      if (!tileId.includes('_q') && !roots.has(tileId)) roots.set(tileId, { id: tileId, crs: u.crs, crsTransform: u.crsTransform, dimensions: u.dimensions });
    }
    const tiles = [...roots.values()];
    const longest = tiles.reduce((a, t) => (t.id.length > a.length ? t.id : a), '');
    const problem = descriptionProblem({ job: job.name, tileId: longest, splitDepth: job.splitDepth, retries: job.retries, periods: change.added });
    if (problem) throw new UserError(problem);
    entries.push({ type: 'plan', tiles: planUnits(tiles, change.added, job.periodOrder) });
    log('info', `periods added: ${change.added.map((p) => p.id).join(', ')} (${tiles.length * change.added.length} more units)`);
  }
  const dropped = new Set(change.dropped.map((p) => p.id));
  if (dropped.size) {
    for (const u of units) if (dropped.has(periodOf(u.id) ?? '') && u.state === 'pending') entries.push({ type: 'tile', id: u.id, patch: { state: 'cancelled', error: 'its period was removed from the job file' } });
    log('info', `periods removed before any work: ${[...dropped].join(', ')} (their units are cancelled)`);
  }
  if (entries.length || JSON.stringify(before) !== JSON.stringify(job.periods)) {
    await store.append({ type: 'meta', patch: { periods: job.periods ? [...job.periods] : undefined } }, ...entries);
  }
}
