import type { Job } from '../job/job-file';
import { updateResults, type JobSummary, type ResultsCache } from '../recipes/results';
import type { Store } from '../ports/store';

export interface ResultsWriter {
  /** A unit is done: rewrite soon (its id joins the cache's list once the list exists). */
  soon(unit: string): void;
  /** Waits for a rewrite under way, then rewrites once more and answers what it made. */
  now(): Promise<Pick<JobSummary, 'mosaic' | 'table'>>;
}

/**
 * Rewrites the mosaic / merged table as units arrive: at most one rewrite at a time, coalesced, and spaced
 * by 20× the last rewrite's time (at least 0.5 s), so a job of 100,000 tiles spends ≤ 5 % of a core on it.
 */
export function resultsWriter(job: Job, store: Store, warn: (message: string) => void): ResultsWriter {
  let running: Promise<unknown> = Promise.resolve();
  let queued = false;
  let pauseMs = 500;
  const cache: ResultsCache = { headers: new Map() };
  const run = async (): Promise<Pick<JobSummary, 'mosaic' | 'table'>> => {
    const t0 = performance.now();
    try {
      return await updateResults(job, store.state, cache, warn);
    } catch (e) {
      warn(`results could not be updated (${(e as Error).message})`);
      return {};
    } finally {
      pauseMs = Math.max(500, 20 * (performance.now() - t0));
    }
  };
  return {
    soon(unit: string): void {
      cache.done?.add(unit);
      if (queued) return;
      queued = true;
      running = running.then(() => new Promise((r) => setTimeout(r, pauseMs))).then(() => {
        queued = false;
        return run();
      });
    },
    async now() {
      await running;
      return run();
    },
  };
}
