import type { TileView } from '../../../shared/dashboard';
import type { Job } from '../job/job-file';
import type { JobLock } from '../job/lock';
import type { FileJobRepository } from '../job/repository';
import type { Recipe } from '../recipes';
import type { RunOutcome } from '../engine/runner';
import type { Store } from '../ports/store';
import type { JobSession } from '../session/job-session';
import type { Connection } from './connections';
import type { JobFeed } from './job-feed';

/** How a run ended: the runner's outcome, or an error that stopped it (exit code 1 or the UserError's). */
export interface RunEnd {
  exitCode: number;
  message: string | null;
  outcome?: RunOutcome;
  /** Asset jobs: what the merge made (one line). */
  merged?: string;
}

/** A job open in the host: its lock, journal and connection, its run, and what the dashboards show. */
export interface HostedJob {
  readonly job: Job;
  readonly lock: JobLock;
  readonly repo: FileJobRepository;
  /** The journal as runs see it: every batch of entries also updates the dashboards' view. */
  readonly observed: Store;
  readonly conn: Connection;
  /** What each tile exports (undefined: the built-in image). */
  readonly recipe: Recipe | undefined;
  /** Tiles as drawn: outline computed once, state kept current from the journal. */
  readonly views: Map<string, TileView>;
  readonly feed: JobFeed;
  roi: number[][];
  bounds: [number, number, number, number] | null;
  session: JobSession | undefined;
  abort: AbortController | undefined;
  running: Promise<void> | undefined;
  end: RunEnd | null;
}
