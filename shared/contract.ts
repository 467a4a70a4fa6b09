/**
 * The one typed contract between the engine and every front end (CLI, `tessera serve`, the desktop shell).
 * Commands flow in, events flow out; each has a zod schema so every boundary validates what it receives.
 * Names follow docs/states.md.
 */
import { z } from 'zod';
import { TILE_STATES, WAITING_REASONS } from './tile-state';

export { TILE_STATES, WAITING_REASONS, type TileState, type WaitingReason } from './tile-state';

export const TileStateSchema = z.enum(TILE_STATES);
export const WaitingReasonSchema = z.enum(WAITING_REASONS);
const JobName = z.string().regex(/^[A-Za-z0-9-]{1,40}$/);
const TileIds = z.array(z.string().min(1).max(200)).min(1).max(100_000);

export const CommandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), job: JobName }),
  z.object({ type: z.literal('pause'), job: JobName }),
  z.object({ type: z.literal('resume'), job: JobName }),
  z.object({ type: z.literal('cancel'), job: JobName }),
  z.object({ type: z.literal('retry'), job: JobName, tiles: TileIds }),
  /** Every failed tile of the job back to the queue ("Retry all failed"; `tessera retry --failed`). */
  z.object({ type: z.literal('retry-failed'), job: JobName }),
  z.object({ type: z.literal('skip'), job: JobName, tiles: TileIds }),
  z.object({ type: z.literal('status'), job: JobName }),
]);
export type Command = z.infer<typeof CommandSchema>;

export const TileCountsSchema = z.record(TileStateSchema, z.number().int().nonnegative());
export type TileCounts = z.infer<typeof TileCountsSchema>;

export const JobProgressSchema = z.object({
  job: JobName,
  total: z.number().int().nonnegative(),
  tiles: TileCountsSchema,
  /** Tasks of this job PENDING / RUNNING in Earth Engine. */
  queued: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
  waiting: WaitingReasonSchema.nullable(),
  /** Tiles done per hour over the recent window; null until measurable. */
  throughputPerHour: z.number().nonnegative().nullable(),
  etaSeconds: z.number().nonnegative().nullable(),
  bytesDownloaded: z.number().nonnegative(),
  finished: z.boolean(),
  /**
   * The tiles as planned, so the count does not jump when tiles split: `done` counts a split tile once
   * every part of it is done. `split`: how many planned tiles were split, into how many parts, and the
   * parts done (absent when nothing split).
   */
  planned: z.object({ total: z.number().int().nonnegative(), done: z.number().int().nonnegative() }).optional(),
  split: z.object({ tiles: z.number().int().nonnegative(), parts: z.number().int().nonnegative(), done: z.number().int().nonnegative() }).optional(),
});
export type JobProgress = z.infer<typeof JobProgressSchema>;

export const QuotaSchema = z.object({
  /** Bytes; null when Drive has no limit. */
  limit: z.number().nonnegative().nullable(),
  usage: z.number().nonnegative(),
  usageInDrive: z.number().nonnegative(),
  usageInDriveTrash: z.number().nonnegative(),
  at: z.string(),
});
export type Quota = z.infer<typeof QuotaSchema>;

export const EventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('tile-state'),
    job: JobName,
    tile: z.string(),
    state: TileStateSchema,
    attempt: z.number().int().nonnegative(),
    message: z.string().optional(),
    at: z.string(),
  }),
  z.object({ type: z.literal('job-progress'), progress: JobProgressSchema }),
  z.object({ type: z.literal('quota'), job: JobName, quota: QuotaSchema }),
  z.object({ type: z.literal('log'), job: JobName, level: z.enum(['debug', 'info', 'warn', 'error']), message: z.string(), at: z.string() }),
]);
export type EngineEvent = z.infer<typeof EventSchema>;

/** States after which a tile needs nothing more (until a user retries it). */
export const FINAL_TILE_STATES: readonly z.infer<typeof TileStateSchema>[] = ['done', 'failed', 'cancelled', 'skipped', 'split'];
