import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuthState } from './auth/oauth';
import type { DriveFile } from './drive/store';
import type { Operation } from './ee/tasks';
import type { Asset } from './ee/assets';
import type { EmulatorConfig } from './options';
import { syncDir } from '../core/fs-durable';

/**
 * The emulator's state on disk (with `dataDir`), so that a stopped or killed emulator restarts with every
 * operation, Drive file, token, quota figure, the simulated clock and the positions of its random streams.
 *
 * Two files beside Drive's bytes (`drive/`):
 * - `state.json`: a full snapshot, replaced atomically (temporary file, fsync, rename, fsync of the
 *   folder);
 * - `journal.jsonl`: one line per change set, appended and fdatasync'ed after every request (or
 *   simulated event) that changed something, before its answer is sent. Each line holds the *whole*
 *   current value of every record it names (operations by name, files by id, grants, tokens, codes) and
 *   the small global state, so replaying it over the snapshot is idempotent.
 * When the journal outgrows the snapshot, the snapshot is rewritten and the journal emptied (a crash in
 * between only replays lines already in the snapshot). A torn last line (a crash mid-append) is ignored.
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
  private journalBytes = 0;
  private snapshotBytes = 0;

  private constructor(
    readonly dir: string,
    private journal: FileHandle,
  ) {}

  /** Opens (creating) the journal of `dir` and reads what a previous run left: null when nothing. */
  static async open(dir: string, log: (message: string) => void): Promise<{ store: Persistence; state: Snapshot | null }> {
    const state = await load(dir, log);
    const journal = await open(join(dir, JOURNAL_FILE), 'a');
    const store = new Persistence(dir, journal);
    store.journalBytes = (await journal.stat()).size;
    store.snapshotBytes = state ? (await readFile(join(dir, STATE_FILE))).length : 0;
    return { store, state };
  }

  /** Appends one change set and waits until it is on disk. */
  async append(entry: JournalEntry): Promise<void> {
    const line = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8');
    let done = 0;
    while (done < line.length) done += (await this.journal.write(line, done, line.length - done)).bytesWritten;
    await this.journal.datasync();
    this.journalBytes += line.length;
  }

  get compactionDue(): boolean {
    return this.journalBytes > Math.max(MIN_COMPACT_BYTES, this.snapshotBytes);
  }

  /** Replaces the snapshot atomically, then empties the journal. */
  async writeSnapshot(snapshot: Snapshot): Promise<void> {
    const bytes = Buffer.from(JSON.stringify({ format: FORMAT, ...snapshot }), 'utf8');
    const target = join(this.dir, STATE_FILE);
    const tmp = `${target}.tmp-${process.pid}`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
    await syncDir(this.dir);
    await this.journal.truncate(0);
    await this.journal.sync();
    this.journalBytes = 0;
    this.snapshotBytes = bytes.length;
  }

  async close(): Promise<void> {
    await this.journal.close();
  }
}

/** The snapshot with the journal replayed over it, or null when the folder holds no state yet. */
async function load(dir: string, log: (message: string) => void): Promise<Snapshot | null> {
  let text: string;
  try {
    text = await readFile(join(dir, STATE_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const snap = JSON.parse(text) as Snapshot & { format?: number };
  if (snap.format !== FORMAT) throw new Error(`${join(dir, STATE_FILE)}: unknown emulator state format ${String(snap.format)}`);
  let meta = snap.meta;
  const ops = new Map(snap.ops.map((o) => [o.name, o]));
  const files = new Map(snap.files.map((f) => [f.id, f]));
  const grants = new Map(snap.auth.grants.map((g) => [g.refreshToken, g]));
  const tokens = new Map(snap.auth.tokens.map((t) => [t.token, t]));
  const codes = new Map(snap.auth.codes.map((c) => [c.code, c]));
  const assets = new Map((snap.assets ?? []).map((a) => [a.uid, a]));

  let journal = '';
  try {
    journal = await readFile(join(dir, JOURNAL_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const lines = journal.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    let entry: JournalEntry;
    try {
      entry = JSON.parse(line) as JournalEntry;
    } catch {
      // A torn last line is a crash mid-append: what it held was never acknowledged to anyone.
      if (lines.slice(i + 1).some((l) => l.trim() !== '')) log(`${join(dir, JOURNAL_FILE)}: line ${i + 1} is damaged; ignoring it and the rest`);
      break;
    }
    meta = entry.meta;
    for (const o of entry.ops ?? []) ops.set(o.name, o);
    for (const f of entry.files ?? []) files.set(f.id, f);
    for (const g of entry.auth?.grants ?? []) grants.set(g.refreshToken, g);
    for (const t of entry.auth?.tokens ?? []) tokens.set(t.token, t);
    for (const c of entry.auth?.codes ?? []) codes.set(c.code, c);
    for (const a of entry.assets ?? []) assets.set(a.uid, a);
  }
  return {
    meta,
    ops: [...ops.values()],
    files: [...files.values()],
    auth: { key: snap.auth.key, grants: [...grants.values()], tokens: [...tokens.values()], codes: [...codes.values()] },
    assets: [...assets.values()],
  };
}
