/** Tile states of docs/states.md#tile-states, shared by the engine, the CLI and the dashboard. */
export const TILE_STATES = [
  'pending',
  'submitting',
  'queued',
  'running',
  'exported',
  'downloading',
  'verified',
  'done',
  'retrying',
  'split',
  'failed',
  'cancelled',
  'skipped',
] as const;
export type TileState = (typeof TILE_STATES)[number];

/** Why a job is not submitting although tiles remain (docs/states.md#waiting-reasons). */
export const WAITING_REASONS = ['quota', 'budget', 'queue-full', 'offline', 'signed-out', 'paused', 'locked', 'asset-quota'] as const;
export type WaitingReason = (typeof WAITING_REASONS)[number];
