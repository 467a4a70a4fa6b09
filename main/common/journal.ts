import { mkdir, open, type FileHandle } from 'node:fs/promises';
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
 *   appends: no line can be written between the snapshot and the truncation and be lost;
 * - `appendLines` writes lines made one at a time straight into the file, with one flush at the end, so a
 *   value of a hundred megabytes (a million-unit plan) never exists as one string or buffer (docs/scale.md);
 * - the file is read back in blocks, never as one string. A caller can keep lines together as a group:
 *   its `apply` returns true while a group is still incomplete, and a file that ends inside a group is
 *   cut before the group's first line, as for a torn line (the group was never acknowledged).
 */
export interface JournalReplay {
  /** Lines replayed. */
  entries: number;
  /** Bytes of the complete, valid lines (where the file is cut on open). */
  validBytes: number;
  /** The 1-based line where replay stopped, and whether complete lines followed it (damage, not a torn tail). */
  damaged?: { line: number; followedByMore: boolean };
}

/** Returns `true` (exactly) when the entry opens or continues a group of lines that is not complete yet. */
export type ApplyEntry<E> = (entry: E) => unknown;

type Job =
  | { kind: 'lines'; text: string; resolve: () => void; reject: (e: unknown) => void }
  | { kind: 'stream'; lines: Iterable<string>; resolve: () => void; reject: (e: unknown) => void }
  | { kind: 'compact'; path: string; data: () => string | Uint8Array | Iterable<Uint8Array>; resolve: () => void; reject: (e: unknown) => void };

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
  static async open<E>(path: string, apply: ApplyEntry<E>): Promise<{ journal: Journal<E>; replay: JournalReplay }> {
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(path, 'a+');
    let replay: JournalReplay;
    try {
      replay = await replayFile(fh, apply);
      if (replay.validBytes < (await fh.stat()).size) {
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
   * Writes `lines` (each a JSON value with its newline, made when its turn comes) one after the other and
   * resolves once all are durable: one flush at the end. A crash part-way leaves complete lines of the
   * first part only; the caller marks them as a group (see `ApplyEntry`) so they are not taken for the whole.
   */
  appendLines(lines: Iterable<string>): Promise<void> {
    return this.enqueue((resolve, reject) => ({ kind: 'stream', lines, resolve, reject }));
  }

  /**
   * Replaces the snapshot at `path` atomically with `data()` — called when the compaction's turn comes, so
   * it sees every entry appended before it — then empties the journal.
   */
  compact(path: string, data: () => string | Uint8Array | Iterable<Uint8Array>): Promise<void> {
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
        if (first.kind === 'stream') {
          this.queue.shift();
          try {
            for (const line of first.lines) {
              const buf = Buffer.from(line, 'utf8');
              await this.write(buf);
              this.bytes += buf.length;
            }
            await this.fh.datasync();
            first.resolve();
          } catch (e) {
            first.reject(e);
          }
          continue;
        }
        const batch: Extract<Job, { kind: 'lines' }>[] = [];
        while (this.queue[0]?.kind === 'lines') batch.push(this.queue.shift() as Extract<Job, { kind: 'lines' }>);
        try {
          await this.write(Buffer.from(batch.map((b) => b.text).join(''), 'utf8'));
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

  private async write(buf: Buffer): Promise<void> {
    let written = 0;
    while (written < buf.length) written += (await this.fh.write(buf, written, buf.length - written)).bytesWritten;
  }
}

/** Replays a journal without opening it for writing (`tessera status` beside a running engine). */
export async function readJournal<E>(path: string, apply: ApplyEntry<E>): Promise<JournalReplay> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: 0, validBytes: 0 };
    throw e;
  }
  try {
    return await replayFile(fh, apply);
  } finally {
    await fh.close();
  }
}

/** Bytes read at a time: a journal (or one line of it) can be a hundred megabytes. */
const BLOCK = 1 << 20;
const NEWLINE = 0x0a;

/** Reads lines from the start of `fh` in blocks and replays them (see the class comment for what stops it). */
async function replayFile<E>(fh: FileHandle, apply: ApplyEntry<E>): Promise<JournalReplay> {
  let entries = 0;
  let line = 0;
  /** Bytes up to the end of the last complete line, and the pieces of the line being read. */
  let pos = 0;
  let pending: Buffer[] = [];
  let group: { start: number; line: number } | undefined;
  const block = Buffer.allocUnsafe(BLOCK);
  let offset = 0;
  const stop = (damaged: { line: number; followedByMore: boolean }): JournalReplay =>
    group ? { entries, validBytes: group.start, damaged: { line: group.line, followedByMore: damaged.followedByMore } } : { entries, validBytes: pos, damaged };
  for (;;) {
    const { bytesRead } = await fh.read(block, 0, BLOCK, offset);
    if (bytesRead === 0) break;
    offset += bytesRead;
    let from = 0;
    for (let nl = block.indexOf(NEWLINE, from); nl >= 0 && nl < bytesRead; nl = block.indexOf(NEWLINE, from)) {
      line++;
      pending.push(Buffer.from(block.subarray(from, nl)));
      const bytes = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
      const body = bytes.toString('utf8');
      pending = [];
      const end = pos + bytes.length + 1;
      from = nl + 1;
      if (body.trim()) {
        let entry: E;
        try {
          entry = JSON.parse(body) as E;
        } catch {
          return stop({ line, followedByMore: await nonBlankFollows(fh, block.subarray(from, bytesRead), offset) });
        }
        if (apply(entry) === true) group ??= { start: pos, line };
        else group = undefined;
        entries++;
      }
      pos = end;
    }
    if (from < bytesRead) pending.push(Buffer.from(block.subarray(from, bytesRead)));
  }
  if (pending.some((p) => p.length > 0)) return stop({ line: line + 1, followedByMore: false });
  return group ? stop({ line: group.line, followedByMore: false }) : { entries, validBytes: pos };
}

/** Whether anything but whitespace follows a damaged line (damage, not a torn tail). */
async function nonBlankFollows(fh: FileHandle, rest: Buffer, offset: number): Promise<boolean> {
  if (rest.toString('utf8').trim()) return true;
  const block = Buffer.allocUnsafe(BLOCK);
  for (;;) {
    const { bytesRead } = await fh.read(block, 0, BLOCK, offset);
    if (bytesRead === 0) return false;
    offset += bytesRead;
    if (block.subarray(0, bytesRead).toString('utf8').trim()) return true;
  }
}
