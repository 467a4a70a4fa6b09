import { fdatasync } from 'node:fs';

/** Bytes written between two early flushes. */
const FLUSH_EVERY = 64 << 20;

/**
 * Starts flushing the file to disk while it is still arriving (docs/performance.md, "Downloads"): the
 * disk writes what came so far while the network brings the rest, so the fsync before the rename waits
 * only for the last stretch instead of the whole file (about a second per GiB on our machine: as long as
 * receiving it). The guarantee is unchanged — nothing is renamed into place before that final fsync — and
 * a failed early flush fails the download (a later fsync may not report the same lost write again).
 */
export class EarlyFlush {
  private since = 0;
  private pending: Promise<void> | undefined;
  private error: unknown;

  constructor(
    /** The file stream: its descriptor once open (`fd`), and whether it is closed. */
    private readonly out: { readonly destroyed: boolean },
    private readonly every = FLUSH_EVERY,
    private readonly flush: (fd: number, done: (e: NodeJS.ErrnoException | null) => void) => void = fdatasync,
  ) {}

  wrote(bytes: number): void {
    this.since += bytes;
    const fd = (this.out as { fd?: number | null }).fd;
    if (this.since < this.every || this.pending || typeof fd !== 'number' || this.out.destroyed || this.error) return;
    this.since = 0;
    this.pending = new Promise<void>((resolve) =>
      this.flush(fd, (e) => {
        if (e) this.error ??= e;
        this.pending = undefined;
        resolve();
      }),
    );
  }

  /** Waits for a flush under way (the stream must not close its descriptor under it). */
  async settled(): Promise<void> {
    await this.pending;
  }

  throwIfFailed(): void {
    if (this.error) throw this.error;
  }
}
