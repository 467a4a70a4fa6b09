import { open, readFile, rename, mkdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { applyEntry, emptySnapshot, tileTable, type JobSnapshot, type JournalEntry, type NewEntry } from './state';
import { syncDir } from '../fs-durable';

/**
 * Where a job's state lives. The engine only sees this port: `FileJobRepository` for real runs,
 * `MemoryJobRepository` for unit tests. `append` resolves once the entries are durable.
 */
export interface JobRepository {
  /** Current state (read-only for callers: change it through `append`). */
  readonly state: JobSnapshot;
  append(...entries: NewEntry[]): Promise<void>;
  close(): Promise<void>;
}

abstract class BaseRepository implements JobRepository {
  constructor(readonly state: JobSnapshot) {}

  protected stamp(entries: NewEntry[]): JournalEntry[] {
    const at = new Date().toISOString();
    return entries.map((e, k) => ({ ...e, seq: this.state.seq + 1 + k, at }) as JournalEntry);
  }

  async append(...entries: NewEntry[]): Promise<void> {
    const stamped = this.stamp(entries);
    for (const e of stamped) applyEntry(this.state, e);
    await this.persist(stamped);
  }

  protected abstract persist(entries: JournalEntry[]): Promise<void>;
  abstract close(): Promise<void>;
}

export class MemoryJobRepository extends BaseRepository {
  readonly written: JournalEntry[] = [];
  constructor() {
    super(emptySnapshot());
  }
  protected async persist(entries: JournalEntry[]): Promise<void> {
    this.written.push(...entries);
  }
  async close(): Promise<void> {}
}

const JOURNAL = 'journal.jsonl';
const SNAPSHOT = 'snapshot.json';

/**
 * An append-only JSONL journal with fsync, plus a periodic snapshot that lets the journal start over.
 * Entries written together share one write + fsync (group commit), so a busy engine does not pay one
 * disk flush per state change. A torn last line (a crash mid-write) is cut off on open.
 */
export class FileJobRepository extends BaseRepository {
  private pending: { lines: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private entriesSinceSnapshot = 0;

  private constructor(
    private readonly dir: string,
    state: JobSnapshot,
    private journal: FileHandle,
    private readonly compactEvery: number,
  ) {
    super(state);
  }

  static async open(dir: string, options: { compactEvery?: number } = {}): Promise<FileJobRepository> {
    await mkdir(dir, { recursive: true });
    const state = await readSnapshot(join(dir, SNAPSHOT));
    const path = join(dir, JOURNAL);
    const text = await readJournal(path);
    const { validBytes, replayed } = replay(text, state);
    const journal = await open(path, 'a+');
    if (validBytes < Buffer.byteLength(text)) await journal.truncate(validBytes); // cut a torn last line
    const repo = new FileJobRepository(dir, state, journal, options.compactEvery ?? 20_000);
    repo.entriesSinceSnapshot = replayed;
    return repo;
  }

  protected persist(entries: JournalEntry[]): Promise<void> {
    const lines = entries.map((e) => JSON.stringify(e) + '\n').join('');
    this.entriesSinceSnapshot += entries.length;
    const done = new Promise<void>((resolve, reject) => this.pending.push({ lines, resolve, reject }));
    this.flushing ??= this.flush();
    return done;
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.journal.write(batch.map((b) => b.lines).join(''));
          await this.journal.sync();
          for (const b of batch) b.resolve();
        } catch (e) {
          for (const b of batch) b.reject(e);
        }
        // Inside the loop: entries appended while compacting are flushed by the next round.
        if (this.entriesSinceSnapshot >= this.compactEvery) await this.compact();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** Writes the whole state as a snapshot (atomically) and starts an empty journal. */
  async compact(): Promise<void> {
    const text = JSON.stringify(this.state);
    const tmp = join(this.dir, `${SNAPSHOT}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, SNAPSHOT));
    await syncDir(this.dir);
    // Entries up to state.seq are in the snapshot; a crash before this truncation only replays nothing.
    await this.journal.truncate(0);
    await this.journal.sync();
    this.entriesSinceSnapshot = 0;
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.journal.close();
  }
}

/** Reads the state without taking the lock (for `tessera status`): snapshot plus journal replay. */
export async function readJobState(dir: string): Promise<JobSnapshot | undefined> {
  const state = await readSnapshot(join(dir, SNAPSHOT));
  replay(await readJournal(join(dir, JOURNAL)), state);
  return state.seq > 0 ? state : undefined;
}

/** Applies the journal's complete lines newer than the snapshot; stops at the first torn line. */
function replay(text: string, state: JobSnapshot): { validBytes: number; replayed: number } {
  let pos = 0;
  let replayed = 0;
  for (let nl = text.indexOf('\n', pos); nl >= 0; nl = text.indexOf('\n', pos)) {
    const line = text.slice(pos, nl);
    if (line) {
      let entry: JournalEntry;
      try {
        entry = JSON.parse(line) as JournalEntry;
      } catch {
        break;
      }
      if (entry.seq > state.seq) {
        applyEntry(state, entry);
        replayed++;
      }
    }
    pos = nl + 1;
  }
  return { validBytes: Buffer.byteLength(text.slice(0, pos)), replayed };
}

async function readJournal(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}

async function readSnapshot(path: string): Promise<JobSnapshot> {
  try {
    const snapshot = JSON.parse(await readFile(path, 'utf8')) as JobSnapshot;
    snapshot.tiles = tileTable(snapshot.tiles);
    return snapshot;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptySnapshot();
    throw new Error(`the job's snapshot ${path} is damaged (${(e as Error).message}); restore it or remove the job's .tessera folder to start over`);
  }
}

export async function removeJobState(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
