import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuthState } from './auth/oauth';
import type { DriveFile } from './drive/store';
import type { Operation } from './ee/tasks';
import type { Asset } from './ee/assets';
import type { EmulatorConfig } from './options';
import { Journal } from '../common/journal';

/**
 * The emulator's state on disk (with `dataDir`), so that a stopped or killed emulator restarts with every
 * operation, Drive file, token, quota figure, the simulated clock and the positions of its random streams.
 *
 * Two files beside Drive's bytes (`drive/`):
 * - `state.json`: a full snapshot, replaced atomically (main/common/atomic-write.ts);
 * - `journal.jsonl`: one line per change set, appended and fdatasync'ed after every request (or
 *   simulated event) that changed something, before its answer is sent. Each line holds the *whole*
 *   current value of every record it names (operations by name, files by id, grants, tokens, codes) and
 *   the small global state, so replaying it over the snapshot is idempotent.
 * When the journal outgrows the snapshot, the snapshot is rewritten and the journal emptied (a crash in
 * between only replays lines already in the snapshot). A torn last line (a crash mid-append) is cut off on
 * open. The journal and the atomic snapshot are main/common/journal.ts's, shared with the engine.
 */
export const STATE_FILE = 'state.json';
export const JOURNAL_FILE = 'journal.jsonl';
const FORMAT = 1;
/** The journal is compacted into the snapshot once it is larger than this and than the snapshot. */
const MIN_COMPACT_BYTES = 256 * 1024;

/** The small global state, written with every journal line. */
export interface PersistedMeta {
  readonly format: number;
  /** The live configuration, without the start-only keys that belong to the process (port, dataDir, catalogPath). */
  readonly config: Partial<EmulatorConfig>;
  /** Simulated epoch milliseconds of the clock when written: a restart resumes simulated time here. */
  readonly simulatedNow: number;
  readonly engine: { readonly seq: number; readonly cursor: number };
  readonly rng: { readonly ids: number; readonly internal: number; readonly faults: Record<string, number> };
  readonly requests: Record<string, number>;
  readonly driveRoot: DriveFile;
}

export interface JournalEntry {
  readonly meta: PersistedMeta;
  readonly ops?: readonly Operation[];
  readonly files?: readonly DriveFile[];
  readonly auth?: Partial<AuthState>;
  readonly assets?: readonly Asset[];
}

export interface Snapshot {
  readonly meta: PersistedMeta;
  readonly ops: readonly Operation[];
  readonly files: readonly DriveFile[];
  readonly auth: AuthState;
  /** Absent in state written before assets were emulated. */
  readonly assets?: readonly Asset[];
}

export class Persistence {
  private snapshotBytes = 0;

  private constructor(
    readonly dir: string,
    private readonly journal: Journal<JournalEntry>,
  ) {}

  /** Opens (creating) the journal of `dir` and reads what a previous run left: null when nothing. */
  static async open(dir: string, log: (message: string) => void): Promise<{ store: Persistence; state: Snapshot | null }> {
    const snapText = await readSnapshotText(dir);
    const replay = snapText === null ? null : new Replay(parseSnapshot(dir, snapText));
    const journalPath = join(dir, JOURNAL_FILE);
    // Without a snapshot there is no state to replay into: a journal left alone is emptied by the first snapshot.
    const opened = await Journal.open<JournalEntry>(journalPath, (entry) => replay?.apply(entry));
    const damaged = opened.replay.damaged;
    if (damaged?.followedByMore) log(`${journalPath}: line ${damaged.line} is damaged; ignoring it and the rest`);
    const store = new Persistence(dir, opened.journal);
    store.snapshotBytes = snapText === null ? 0 : Buffer.byteLength(snapText);
    return { store, state: replay?.result() ?? null };
  }

  /** Appends one change set and waits until it is on disk. */
  async append(entry: JournalEntry): Promise<void> {
    await this.journal.append(entry);
  }

  get compactionDue(): boolean {
    return this.journal.size > Math.max(MIN_COMPACT_BYTES, this.snapshotBytes);
  }

  /** Replaces the snapshot atomically, then empties the journal. */
  async writeSnapshot(snapshot: Snapshot): Promise<void> {
    const bytes = Buffer.from(JSON.stringify({ format: FORMAT, ...snapshot }), 'utf8');
    await this.journal.compact(join(this.dir, STATE_FILE), () => bytes);
    this.snapshotBytes = bytes.length;
  }

  async close(): Promise<void> {
    await this.journal.close();
  }
}

async function readSnapshotText(dir: string): Promise<string | null> {
  try {
    return await readFile(join(dir, STATE_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function parseSnapshot(dir: string, text: string): Snapshot {
  const snap = JSON.parse(text) as Snapshot & { format?: number };
  if (snap.format !== FORMAT) throw new Error(`${join(dir, STATE_FILE)}: unknown emulator state format ${String(snap.format)}`);
  return snap;
}

/** The snapshot with journal lines applied over it, later values winning (lines hold whole records). */
class Replay {
  private meta: PersistedMeta;
  private readonly ops: Map<string, Operation>;
  private readonly files: Map<string, DriveFile>;
  private readonly grants: Map<string, AuthState['grants'][number]>;
  private readonly tokens: Map<string, AuthState['tokens'][number]>;
  private readonly codes: Map<string, AuthState['codes'][number]>;
  private readonly assets: Map<Asset['uid'], Asset>;

  constructor(private readonly snap: Snapshot) {
    this.meta = snap.meta;
    this.ops = new Map(snap.ops.map((o) => [o.name, o]));
    this.files = new Map(snap.files.map((f) => [f.id, f]));
    this.grants = new Map(snap.auth.grants.map((g) => [g.refreshToken, g]));
    this.tokens = new Map(snap.auth.tokens.map((t) => [t.token, t]));
    this.codes = new Map(snap.auth.codes.map((c) => [c.code, c]));
    this.assets = new Map((snap.assets ?? []).map((a) => [a.uid, a]));
  }

  apply(entry: JournalEntry): void {
    this.meta = entry.meta;
    for (const o of entry.ops ?? []) this.ops.set(o.name, o);
    for (const f of entry.files ?? []) this.files.set(f.id, f);
    for (const g of entry.auth?.grants ?? []) this.grants.set(g.refreshToken, g);
    for (const t of entry.auth?.tokens ?? []) this.tokens.set(t.token, t);
    for (const c of entry.auth?.codes ?? []) this.codes.set(c.code, c);
    for (const a of entry.assets ?? []) this.assets.set(a.uid, a);
  }

  result(): Snapshot {
    return {
      meta: this.meta,
      ops: [...this.ops.values()],
      files: [...this.files.values()],
      auth: { key: this.snap.auth.key, grants: [...this.grants.values()], tokens: [...this.tokens.values()], codes: [...this.codes.values()] },
      assets: [...this.assets.values()],
    };
  }
}
