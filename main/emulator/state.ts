/** The shape of `GET /__emulator/state`: what tests and the dashboard read of the emulator's world. */

import type { DriveFile } from './drive/store';
import { rfc3339, type Operation, type TaskEngine } from './ee/tasks';

export interface StateOperation {
  name: string;
  requestId: string | null;
  description: string | null;
  type: string;
  state: string;
  attempt: number;
  createTime: string;
  startTime: string | null;
  endTime: string | null;
  error: { code: number; message: string } | null;
  history: { state: string; time: string }[];
  project: string;
  priority: number;
  pixels: number;
  progress: number;
  batchEecuUsageSeconds: number;
  destinationUris: string[];
  outputs: string[];
}

/** One Cloud Storage object version in `GET /__emulator/state` (deleted ones included). */
export interface StateObject {
  bucket: string;
  name: string;
  size: number;
  md5Hash: string | null;
  crc32c: string;
  timeCreated: string;
  deletedAt: string | null;
  generation: string;
}

export interface StateFile {
  id: string;
  name: string;
  parents: string[];
  mimeType: string;
  size: number | null;
  md5Checksum: string | null;
  trashed: boolean;
  createdTime: string;
  modifiedTime: string;
  deletedAt: string | null;
}

/** `GET /__emulator/state` (docs/emulator.md#state-endpoint): numbers are numbers; times are RFC 3339 strings. */
export interface EmulatorState {
  operations: StateOperation[];
  files: StateFile[];
  /** Every Cloud Storage object ever written (main/emulator/README.md, "Cloud Storage"). */
  objects: StateObject[];
  /** `dimensions` ([width, height]) for IMAGE assets: their pixel grid. */
  assets: { name: string; type: string; featureCount: number | null; sizeBytes: number | null; deletedAt: string | null; dimensions?: [number, number] }[];
  /** getAssetRootQuota's figures per project holding assets (numbers, not Google's strings). */
  assetQuota: Record<string, { assetCount: number; maxAssets: number; sizeBytes: number }>;
  quota: { limit: number | null; usage: number; usageInDriveTrash: number };
  requests: Record<string, number>;
  /** The simulated time the task queue has reached, and the real time of the snapshot. */
  clock: { simulated: string; real: string; timeScale: number };
}

/** One export operation as the state endpoint shows it (times as RFC 3339). */
export function stateOperation(e: TaskEngine, op: Operation): StateOperation {
  const iso = (t: number | null): string | null => (t === null ? null : rfc3339(t));
  return {
    name: op.name,
    requestId: op.job.requestId,
    description: op.job.description,
    type: op.job.type,
    state: op.state,
    attempt: op.attempt,
    createTime: rfc3339(op.createTime),
    startTime: iso(op.startTime),
    endTime: iso(op.endTime),
    error: op.error ? { code: op.error.code, message: op.error.message } : null,
    history: op.history.map((h) => ({ state: h.state, time: rfc3339(h.time) })),
    project: op.project,
    priority: op.job.priority,
    pixels: op.job.pixels,
    progress: e.progress(op),
    batchEecuUsageSeconds: e.eecu(op),
    destinationUris: op.destinationUris ?? [],
    outputs: [...op.outputs],
  };
}

/** One Drive file as the state endpoint shows it (trashed and deleted ones included). */
export function stateFile(f: DriveFile): StateFile {
  return {
    id: f.id,
    name: f.name,
    parents: [...f.parents],
    mimeType: f.mimeType,
    size: f.size,
    md5Checksum: f.md5Checksum,
    trashed: f.trashed,
    createdTime: new Date(f.createdTime).toISOString(),
    modifiedTime: new Date(f.modifiedTime).toISOString(),
    deletedAt: f.deletedAt === null ? null : new Date(f.deletedAt).toISOString(),
  };
}
