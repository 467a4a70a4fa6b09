import type { CompactSnapshot } from './compact-view';
import type { CommandResult, DashboardSnapshot, GridPreview, JobSummary, NewJobResult, RecipeCheck, StreamMessage, TileDetail } from './dashboard';

/**
 * What a dashboard host answers (main/core/engine/host.ts implements it), whatever carries the calls: the
 * HTTP server of `tessera serve` (main/server/server.ts) or the renderer's in-process transport
 * (renderer/transport/in-process.ts). Each adds what only it needs.
 */
export interface DashboardHostCalls {
  snapshot(): DashboardSnapshot;
  /** The compact snapshot (shared/compact-view.ts); a host without it is answered from `snapshot`, every unit an object. */
  compactSnapshot?(): CompactSnapshot;
  summary(job: string): JobSummary;
  tile(job: string, id: string): TileDetail;
  command(input: unknown): Promise<CommandResult>;
  subscribe(listener: (m: StreamMessage) => void): () => void;
  position(): number;
  /** The job wizard (optional: a host without it answers 404). */
  previewGrid?(input: unknown): Promise<GridPreview>;
  createJob?(input: unknown): Promise<NewJobResult>;
  /** The wizard's recipe field, checked as `tessera recipes check` does. */
  checkRecipe?(input: unknown): Promise<RecipeCheck>;
}
