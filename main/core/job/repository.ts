import { readFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { applyEntry, emptySnapshot, type JobSnapshot, type JournalEntry, type NewEntry } from './state';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec';
import { Journal, readJournal } from '../../common/journal';

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
 * The job's journal (main/common/journal.ts: JSONL, fsynced, group commit, torn tail cut on open) plus a
 * periodic snapshot that lets the journal start over. Entries at or below the snapshot's `seq` are skipped
 * on replay (a crash between snapshot and truncation only replays them again).
 */
export class FileJobRepository extends BaseRepository {
  private entriesSinceSnapshot = 0;

  private constructor(
    private readonly dir: string,
    state: JobSnapshot,
    private readonly journal: Journal<JournalEntry>,
    private readonly compactEvery: number,
  ) {
    super(state);
  }

  static async open(dir: string, options: { compactEvery?: number } = {}): Promise<FileJobRepository> {
    await mkdir(dir, { recursive: true });
    const state = await readSnapshot(join(dir, SNAPSHOT));
    let replayed = 0;
    const { journal } = await Journal.open<JournalEntry>(join(dir, JOURNAL), (entry) => {
      if (entry.seq > state.seq) {
        applyEntry(state, entry);
        replayed++;
      }
    });
    const repo = new FileJobRepository(dir, state, journal, options.compactEvery ?? 20_000);
    repo.entriesSinceSnapshot = replayed;
    return repo;
  }

  protected async persist(entries: JournalEntry[]): Promise<void> {
    this.entriesSinceSnapshot += entries.length;
    const written = this.journal.append(...entries);
    if (this.entriesSinceSnapshot >= this.compactEvery) void this.compact().catch(() => undefined);
    await written;
  }

  /** Writes the whole state as a snapshot (atomically) and starts an empty journal. */
  async compact(): Promise<void> {
    this.entriesSinceSnapshot = 0;
    await this.journal.compact(join(this.dir, SNAPSHOT), () => encodeSnapshot(this.state));
  }

  async close(): Promise<void> {
    await this.journal.close();
  }
}

/** Reads the state without taking the lock (for `tessera status`): snapshot plus journal replay. */
export async function readJobState(dir: string): Promise<JobSnapshot | undefined> {
  const state = await readSnapshot(join(dir, SNAPSHOT));
  await readJournal<JournalEntry>(join(dir, JOURNAL), (entry) => {
    if (entry.seq > state.seq) applyEntry(state, entry);
  });
  return state.seq > 0 ? state : undefined;
}

async function readSnapshot(path: string): Promise<JobSnapshot> {
  try {
    return decodeSnapshot(await readFile(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptySnapshot();
    throw new Error(`the job's snapshot ${path} is damaged (${(e as Error).message}); restore it or remove the job's .tessera folder to start over`);
  }
}

export async function removeJobState(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
