import { readFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { applyEntry, emptySnapshot, type JobSnapshot, type JournalEntry, type NewEntry } from './state';
import { decodeSnapshot, snapshotChunks } from './snapshot-codec';
import { Journal, readJournal } from '../../common/journal';
import { hasLargePlan, journalLines, PlanAssembly, type JournalLine } from './plan-lines';

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
 *
 * A snapshot writes every unit, so its cost grows with the job. It is written once the journal holds
 * `compactEvery` entries *and* at least half the snapshot's bytes: the entries between two snapshots
 * grow with the snapshot, and its cost per entry stays flat (docs/scale.md, "When the snapshot is
 * rewritten"). The journal then never holds more than half a snapshot beyond `compactEvery` entries.
 */
export class FileJobRepository extends BaseRepository {
  private entriesSinceSnapshot = 0;
  private compacting = false;

  private constructor(
    private readonly dir: string,
    state: JobSnapshot,
    private readonly journal: Journal<JournalLine>,
    private readonly compactEvery: number,
    /** Bytes of the snapshot on disk (0: none yet). */
    private snapshotBytes: number,
  ) {
    super(state);
  }

  static async open(dir: string, options: { compactEvery?: number } = {}): Promise<FileJobRepository> {
    await mkdir(dir, { recursive: true });
    const { state, bytes } = await readSnapshot(join(dir, SNAPSHOT));
    let replayed = 0;
    // A large plan's parts (plan-lines.ts) form one group: a journal that ends inside it is cut before it.
    const plan = new PlanAssembly();
    const { journal } = await Journal.open<JournalLine>(join(dir, JOURNAL), (line) => {
      if (line.seq <= state.seq) return false;
      const entry = plan.take(line);
      if (!entry) return true;
      applyEntry(state, entry);
      replayed++;
      return false;
    });
    const repo = new FileJobRepository(dir, state, journal, options.compactEvery ?? 20_000, bytes);
    repo.entriesSinceSnapshot = replayed;
    return repo;
  }

  protected async persist(entries: JournalEntry[]): Promise<void> {
    this.entriesSinceSnapshot += entries.length;
    const written = hasLargePlan(entries) ? this.journal.appendLines(journalLines(entries)) : this.journal.append(...entries);
    // One compaction at a time: the next is judged against the size of the one under way, known once written.
    if (!this.compacting && this.entriesSinceSnapshot >= this.compactEvery && this.journal.size >= this.snapshotBytes / 2) void this.compact().catch(() => undefined);
    await written;
  }

  /** Writes the whole state as a snapshot (atomically) and starts an empty journal. */
  async compact(): Promise<void> {
    this.entriesSinceSnapshot = 0;
    this.compacting = true;
    try {
      await this.journal.compact(join(this.dir, SNAPSHOT), () => this.countedChunks());
    } finally {
      this.compacting = false;
    }
  }

  /**
   * The snapshot's buffers, each made when the writer takes it (at the compaction's turn in the journal's
   * queue, all in one synchronous run: atomic-write.ts) and let go once written; its size is kept once the
   * last is made (the next compaction's trigger compares with it).
   */
  private *countedChunks(): Generator<Buffer> {
    let bytes = 0;
    for (const chunk of snapshotChunks(this.state)) {
      bytes += chunk.length;
      yield chunk;
    }
    this.snapshotBytes = bytes;
  }

  async close(): Promise<void> {
    await this.journal.close();
  }
}

/** Reads the state without taking the lock (for `tessera status`): snapshot plus journal replay. */
export async function readJobState(dir: string): Promise<JobSnapshot | undefined> {
  const { state } = await readSnapshot(join(dir, SNAPSHOT));
  const plan = new PlanAssembly();
  await readJournal<JournalLine>(join(dir, JOURNAL), (line) => {
    if (line.seq <= state.seq) return false;
    const entry = plan.take(line);
    if (!entry) return true;
    applyEntry(state, entry);
    return false;
  });
  return state.seq > 0 ? state : undefined;
}

async function readSnapshot(path: string): Promise<{ state: JobSnapshot; bytes: number }> {
  try {
    const data = await readFile(path);
    return { state: decodeSnapshot(data.toString('utf8')), bytes: data.byteLength };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { state: emptySnapshot(), bytes: 0 };
    throw new Error(`the job's snapshot ${path} is damaged (${(e as Error).message}); restore it or remove the job's .tessera folder to start over`);
  }
}

export async function removeJobState(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
