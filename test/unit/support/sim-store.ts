import { applyEntry, emptySnapshot, type JournalEntry, type NewEntry } from '../../../main/core/job/state';
import type { Clock } from '../../../main/core/ports/clock';
import type { Store } from '../../../main/core/ports/store';

/** An in-memory Store whose journal times come from the simulated clock (as a real run's come from the real one). */
export class SimStore implements Store {
  readonly state = emptySnapshot();
  readonly written: JournalEntry[] = [];

  constructor(private readonly clock: Clock) {}

  async append(...entries: NewEntry[]): Promise<void> {
    const at = new Date(this.clock.now()).toISOString();
    for (const [k, e] of entries.entries()) {
      const stamped = { ...e, seq: this.state.seq + 1 + k, at } as JournalEntry;
      applyEntry(this.state, stamped);
      this.written.push(stamped);
    }
  }

  async close(): Promise<void> {}
}
