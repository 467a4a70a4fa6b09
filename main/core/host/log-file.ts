import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A job's `<stateDir>/log` as the host writes it: lines appended in batches (one write per burst, 200 ms
 * after its first line), in order. The log is a convenience: a write that fails is dropped (a full disk
 * is reported by the run itself).
 */
export class JobLogFile {
  private lines: string[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly stateDir: string,
    private readonly enabled: boolean,
  ) {}

  write(line: string, at: string): void {
    if (!this.enabled) return;
    this.lines.push(`${at} ${line}\n`);
    this.flushing ??= new Promise<void>((resolve) => setTimeout(resolve, 200)).then(() => this.flush());
  }

  async flush(): Promise<void> {
    while (this.lines.length) {
      const text = this.lines.join('');
      this.lines = [];
      try {
        await mkdir(this.stateDir, { recursive: true });
        await appendFile(join(this.stateDir, 'log'), text);
      } catch {
        // the log is a convenience: a full disk is reported by the run itself
      }
    }
    this.flushing = undefined;
  }
}
