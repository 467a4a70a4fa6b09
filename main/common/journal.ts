import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from './atomic-write';

/**
 * The one append-only journal (docs/ARCHITECTURE.md, "The durable store"), used by the job's state, the
 * asset merge and the emulator. One JSON value per line:
 * - `append` resolves once its lines are on disk (write + fdatasync); appends made while a write is under
 *   way share the next write and flush (group commit);
 * - on open, the lines are replayed in order up to the first that is incomplete or does not parse — a
 *   crash mid-append, never acknowledged — and the file is cut there, so new lines never follow a torn one;
 * - `compact` writes a snapshot with the atomic writer and empties the journal, in the same queue as the
 *   appends: no line can be written between the snapshot and the truncation and be lost.
 */
export interface JournalReplay {
  /** Lines replayed. */
  entries: number;
  /** Bytes of the complete, valid lines (where the file is cut on open). */
  validBytes: number;
  /** The 1-based line where replay stopped, and whether complete lines followed it (damage, not a torn tail). */
  damaged?: { line: number; followedByMore: boolean };
}

type Job = { kind: 'lines'; text: string; resolve: () => void; reject: (e: unknown) => void } | { kind: 'compact'; path: string; data: () => string | Uint8Array; resolve: () => void; reject: (e: unknown) => void };

export class Journal<E> {
  private queue: Job[] = [];
  private draining: Promise<void> | undefined;
  private bytes: number;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    size: number,
  ) {
    this.bytes = size;
  }

  /** Opens (creating) the journal at `path`, replays its lines into `apply` and cuts a torn tail. */
  static async open<E>(path: string, apply: (entry: E) => void): Promise<{ journal: Journal<E>; replay: JournalReplay }> {
    await mkdir(dirname(path), { recursive: true });
    const text = await readText(path);
    const replay = replayText(text, apply);
    const fh = await open(path, 'a+');
    try {
      if (replay.validBytes < Buffer.byteLength(text)) {
        await fh.truncate(replay.validBytes);
        await fh.sync();
      }
    } catch (e) {
      await fh.close();
      throw e;
    }
    return { journal: new Journal<E>(path, fh, replay.validBytes), replay };
  }

  /** Bytes in the journal now (written, or queued to be). */
  get size(): number {
    return this.bytes;
  }

  /** Appends the entries and resolves once they are durable. */
  append(...entries: E[]): Promise<void> {
    const text = entries.map((e) => `${JSON.stringify(e)}\n`).join('');
    this.bytes += Buffer.byteLength(text);
    return this.enqueue((resolve, reject) => ({ kind: 'lines', text, resolve, reject }));
  }

  /**
   * Replaces the snapshot at `path` atomically with `data()` — called when the compaction's turn comes, so
   * it sees every entry appended before it — then empties the journal.
   */
  compact(path: string, data: () => string | Uint8Array): Promise<void> {
    return this.enqueue((resolve, reject) => ({ kind: 'compact', path, data, resolve, reject }));
  }

  /** Waits for queued work, then closes the file. */
  async close(): Promise<void> {
    while (this.draining) await this.draining;
    await this.fh.close();
  }

  private enqueue(make: (resolve: () => void, reject: (e: unknown) => void) => Job): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.queue.push(make(resolve, reject)));
    this.draining ??= this.drain();
    return done;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const first = this.queue[0]!;
        if (first.kind === 'compact') {
          this.queue.shift();
          try {
            await writeFileAtomic(first.path, first.data());
            // Everything so far is in the snapshot; a crash before this truncation only replays lines again.
            await this.fh.truncate(0);
            await this.fh.sync();
            this.bytes = this.queue.reduce((n, j) => n + (j.kind === 'lines' ? Buffer.byteLength(j.text) : 0), 0);
            first.resolve();
          } catch (e) {
            first.reject(e);
          }
          continue;
        }
        const batch: Extract<Job, { kind: 'lines' }>[] = [];
        while (this.queue[0]?.kind === 'lines') batch.push(this.queue.shift() as Extract<Job, { kind: 'lines' }>);
        try {
          const buf = Buffer.from(batch.map((b) => b.text).join(''), 'utf8');
          let written = 0;
          while (written < buf.length) written += (await this.fh.write(buf, written, buf.length - written)).bytesWritten;
          await this.fh.datasync();
          for (const b of batch) b.resolve();
        } catch (e) {
          for (const b of batch) b.reject(e);
        }
      }
    } finally {
      this.draining = undefined;
    }
  }
}

/** Replays a journal without opening it for writing (`tessera status` beside a running engine). */
export async function readJournal<E>(path: string, apply: (entry: E) => void): Promise<JournalReplay> {
  return replayText(await readText(path), apply);
}

function replayText<E>(text: string, apply: (entry: E) => void): JournalReplay {
  let pos = 0;
  let entries = 0;
  let line = 0;
  for (let nl = text.indexOf('\n', pos); nl >= 0; nl = text.indexOf('\n', pos)) {
    line++;
    const body = text.slice(pos, nl);
    if (body.trim()) {
      let entry: E;
      try {
        entry = JSON.parse(body) as E;
      } catch {
        return { entries, validBytes: Buffer.byteLength(text.slice(0, pos)), damaged: { line, followedByMore: text.slice(nl + 1).trim() !== '' } };
      }
      apply(entry);
      entries++;
    }
    pos = nl + 1;
  }
  const validBytes = Buffer.byteLength(text.slice(0, pos));
  return pos < text.length ? { entries, validBytes, damaged: { line: line + 1, followedByMore: false } } : { entries, validBytes };
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}
