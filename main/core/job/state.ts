import type { TileState } from '../../../shared/tile-state';
import type { WaitingReason } from '../../../shared/tile-state';
import type { Period } from '../periods/periods';
import { PlannedUnits } from './planned-unit';

/** One output file of a tile, as Drive reported it, and how far it got. */
export interface FileRecord {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly md5: string;
  /** Drive's SHA-256 (hex) when it gave one; the download is then verified by it instead of the MD5. */
  readonly sha256?: string;
  /** Downloaded, checked against size and MD5, fsynced and renamed into the output folder. */
  verified: boolean;
  /** The cleanup policy was applied in Drive (deleted, trashed, or kept on purpose). */
  cleaned: boolean;
}

export interface TileRecord {
  readonly id: string;
  readonly crs: string;
  readonly crsTransform: [number, number, number, number, number, number];
  readonly dimensions: [number, number];
  state: TileState;
  /** The attempt in progress or last made (0: never submitted). */
  attempt: number;
  requestId?: string;
  description?: string;
  /** Earth Engine operation name (`projects/p/operations/ID`). */
  operation?: string;
  /** Drive folder id from the operation's destinationUris. */
  folderId?: string;
  /** The operation's createTime (RFC 3339): Drive files older than it are not its outputs (docs/ownership.md). */
  operationCreateTime?: string;
  /** The current attempt was started by another run and taken over with `--adopt` (docs/ownership.md). */
  adopted?: boolean;
  files: FileRecord[];
  error?: string;
  eecuSeconds?: number;
  /** Transient failures retried so far (waits for quota or the network do not count). */
  retriesUsed?: number;
  /** A retrying tile is not submitted before this time (ISO). */
  notBefore?: string;
  /** How the unit's pixels were made in `direct`/`auto` jobs (docs/direct-download.md): computePixels or a batch export. */
  via?: 'direct' | 'export';
  history: { state: TileState; at: string }[];
}

export interface JobMeta {
  waiting: WaitingReason | null;
  createdAt: string;
  /** Tile ids in grid order, fixed at the first run so later edits of the ROI cannot reshuffle a job. */
  planned: boolean;
  /** What defined the outputs when the job started (job-file keys → hash). */
  fingerprint?: Record<string, string>;
  /** The job's Drive folder, once an operation named it (destinationUris): the lease lives there. */
  driveFolderId?: string;
  /** Ids of Drive files with the job's output names that are not its outputs (docs/ownership.md). */
  foreignFiles?: string[];
  /** A time series: the periods the units were planned for (docs/periods.md, "Changing periods"). */
  periods?: Period[];
}

export interface JobSnapshot {
  version: 1;
  seq: number;
  meta: JobMeta;
  tiles: Record<string, TileRecord>;
}

export type TilePatch = Partial<Omit<TileRecord, 'id' | 'crs' | 'crsTransform' | 'dimensions' | 'history'>>;
export type TilePlan = Pick<TileRecord, 'id' | 'crs' | 'crsTransform' | 'dimensions'>;

export type JournalEntry =
  | { seq: number; at: string; type: 'plan'; tiles: TilePlan[] }
  | { seq: number; at: string; type: 'tile'; id: string; patch: TilePatch }
  | { seq: number; at: string; type: 'meta'; patch: Partial<JobMeta> };

export type NewEntry = JournalEntry extends infer E ? (E extends JournalEntry ? Omit<E, 'seq' | 'at'> : never) : never;

export function emptySnapshot(): JobSnapshot {
  return { version: 1, seq: 0, meta: { waiting: null, createdAt: new Date().toISOString(), planned: false }, tiles: tileTable() };
}

/**
 * The tiles by id, without a prototype: an id that arrives from a page or a journal ("__proto__",
 * "constructor", "toString") is an unknown tile, never a property of Object.prototype (docs/security.md).
 */
export function tileTable(from?: Record<string, TileRecord>): Record<string, TileRecord> {
  const table = Object.create(null) as Record<string, TileRecord>;
  if (from) for (const id of Object.keys(from)) table[id] = from[id]!;
  return table;
}

/** Applies one journal entry; the same function rebuilds state on load and advances it at run time. */
export function applyEntry(s: JobSnapshot, e: JournalEntry): void {
  s.seq = e.seq;
  switch (e.type) {
    case 'plan': {
      const planned = new PlannedUnits();
      for (const t of e.tiles) s.tiles[t.id] ??= planned.record(t, e.at);
      s.meta.planned = true;
      break;
    }
    case 'tile': {
      const tile = s.tiles[e.id];
      if (!tile) throw new Error(`journal names unknown tile ${e.id}`);
      if (e.patch.state !== undefined && e.patch.state !== tile.state) {
        const step = { state: e.patch.state, at: e.at };
        // A planned unit shares its frozen one-entry history with its neighbours (planned-unit.ts): its
        // first change gives it its own list.
        if (Object.isFrozen(tile.history)) tile.history = [...tile.history, step];
        else tile.history.push(step);
      }
      Object.assign(tile, structuredClone(e.patch));
      break;
    }
    case 'meta':
      Object.assign(s.meta, e.patch);
      break;
  }
}
