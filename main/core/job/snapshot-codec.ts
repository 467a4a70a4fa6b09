import { PlannedUnits } from './planned-unit';
import { tileTable, type JobMeta, type JobSnapshot, type TileRecord } from './state';

/**
 * The job's snapshot on disk (docs/scale.md). Version 1 stored every unit as a full record (about 235
 * bytes per unit, a quarter of a gigabyte for a million units). Version 2 stores the units in the same
 * order, but a unit that was only planned (pending, never touched since) goes into a run of its
 * neighbours as nine values: id, transform, dimensions. Every other unit keeps its full record. Both
 * versions are read; version 2 is written.
 */
interface PlannedRun {
  /** When the run was planned (the `at` of each unit's one history entry), and its CRS. */
  at: string;
  crs: string;
  /** id, crsTransform[0..5], width, height — per unit, flat. */
  rows: (string | number)[];
}

interface SnapshotV2 {
  version: 2;
  seq: number;
  meta: JobMeta;
  units: (TileRecord | { run: PlannedRun })[];
}

interface SnapshotV1 {
  version: 1;
  seq: number;
  meta: JobMeta;
  tiles: Record<string, TileRecord>;
}

const ROW = 9;
/** The keys of a record fresh from planning: id, crs, crsTransform, dimensions, state, attempt, files, history. */
const PLANNED_KEYS = 8;

/** A record that `PlannedUnits.record` would make again from its plan and time. */
function onlyPlanned(t: TileRecord): boolean {
  return (
    t.state === 'pending' &&
    t.attempt === 0 &&
    t.files.length === 0 &&
    t.history.length === 1 &&
    t.history[0]!.state === 'pending' &&
    Object.keys(t).length === PLANNED_KEYS
  );
}

/** The snapshot as UTF-8 JSON, in one buffer (see `snapshotChunks`). */
export function encodeSnapshot(state: JobSnapshot): Uint8Array {
  return Buffer.concat([...snapshotChunks(state)]);
}

/**
 * The snapshot as UTF-8 JSON, made piece by piece into buffers of about a megabyte, each only when the
 * writer asks for it: a million units never exist as one array of rows, one string or all their buffers
 * beside the state (55 MB more at each compaction, on top of the heap's peak). The consumer must take
 * them all in one synchronous run (`writeFileAtomic` does): the snapshot is then the state at one `seq`,
 * never a mix of two.
 */
export function* snapshotChunks(state: JobSnapshot): Generator<Buffer> {
  let text = `{"version":2,"seq":${JSON.stringify(state.seq)},"meta":${JSON.stringify(state.meta)},"units":[`;
  const full: Buffer[] = [];
  const put = (piece: string) => {
    text += piece;
    if (text.length > 1 << 20) {
      full.push(Buffer.from(text));
      text = '';
    }
  };
  let run: { at: string; crs: string } | undefined;
  let first = true;
  for (const id in state.tiles) {
    const t = state.tiles[id]!;
    while (full.length) yield full.shift()!;
    if (!onlyPlanned(t)) {
      if (run) put(']}}');
      run = undefined;
      put((first ? '' : ',') + JSON.stringify(t));
      first = false;
      continue;
    }
    const at = t.history[0]!.at;
    if (!run || run.at !== at || run.crs !== t.crs) {
      if (run) put(']}}');
      run = { at, crs: t.crs };
      put(`${first ? '' : ','}{"run":{"at":${JSON.stringify(at)},"crs":${JSON.stringify(t.crs)},"rows":[${row(t)}`);
      first = false;
    } else put(',' + row(t));
  }
  if (run) put(']}}');
  put(']}');
  yield* full;
  yield Buffer.from(text);
}

/** One unit of a run: id, crsTransform[0..5], width, height (JSON numbers: finite by construction of a grid). */
function row(t: TileRecord): string {
  const x = t.crsTransform;
  const d = t.dimensions;
  if (!Number.isFinite(x[0] + x[1] + x[2] + x[3] + x[4] + x[5] + d[0] + d[1])) throw new Error(`unit ${t.id} has a non-finite transform or size`);
  return `${JSON.stringify(t.id)},${x[0]},${x[1]},${x[2]},${x[3]},${x[4]},${x[5]},${d[0]},${d[1]}`;
}

/** Parses a snapshot of either version into the in-memory state; throws on anything else. */
export function decodeSnapshot(text: string): JobSnapshot {
  const parsed = JSON.parse(text) as SnapshotV1 | SnapshotV2;
  if (parsed.version === 1) return { version: 1, seq: parsed.seq, meta: parsed.meta, tiles: tileTable(parsed.tiles) };
  if (parsed.version !== 2 || !Array.isArray(parsed.units)) throw new Error(`unknown snapshot version ${String((parsed as { version?: unknown }).version)}`);
  const tiles = tileTable();
  const planned = new PlannedUnits();
  for (const u of parsed.units) {
    if (!('run' in u)) {
      tiles[u.id] = u;
      continue;
    }
    const { at, crs, rows } = u.run;
    if (rows.length % ROW !== 0) throw new Error('a run of planned units is cut short');
    for (let k = 0; k < rows.length; k += ROW) {
      const id = rows[k] as string;
      const x = rows as number[];
      tiles[id] = planned.record({ id, crs, crsTransform: [x[k + 1]!, x[k + 2]!, x[k + 3]!, x[k + 4]!, x[k + 5]!, x[k + 6]!], dimensions: [x[k + 7]!, x[k + 8]!] }, at);
    }
  }
  return { version: 1, seq: parsed.seq, meta: parsed.meta, tiles };
}
