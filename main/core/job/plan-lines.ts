import type { JournalEntry, TilePlan } from './state';

/**
 * How a large plan is written to the job's journal (docs/scale.md, "The plan in the journal"). A plan of a
 * million units is about 110 MB of JSON: as one line it existed as one string and one buffer beside the
 * planned records, most of the planning peak. A plan of more than `PLAN_LINE_UNITS` units is written as
 * `plan-part` lines of at most that many units each, made one at a time; every part carries the plan's
 * `seq`, `at`, its number and the number of parts. On replay the parts are put back together and the plan
 * is applied only once its last part is read: a plan cut short by a crash is never taken for a whole one.
 * Smaller plans (and journals written before parts existed) keep the one `plan` line.
 */
export const PLAN_LINE_UNITS = 10_000;

export interface PlanPart {
  seq: number;
  at: string;
  type: 'plan-part';
  /** 1-based, and how many parts the plan has. */
  part: number;
  parts: number;
  tiles: TilePlan[];
}

/** A line of the job's journal: an entry, or one part of a large plan. */
export type JournalLine = JournalEntry | PlanPart;

/** Whether `entries` hold a plan that is written as parts. */
export function hasLargePlan(entries: readonly JournalEntry[], unitsPerLine = PLAN_LINE_UNITS): boolean {
  return entries.some((e) => e.type === 'plan' && e.tiles.length > unitsPerLine);
}

/** The journal lines of `entries` (each with its newline), made only when the journal asks for the next one. */
export function* journalLines(entries: readonly JournalEntry[], unitsPerLine = PLAN_LINE_UNITS): Generator<string> {
  for (const e of entries) {
    if (e.type !== 'plan' || e.tiles.length <= unitsPerLine) {
      yield `${JSON.stringify(e)}\n`;
      continue;
    }
    const parts = Math.ceil(e.tiles.length / unitsPerLine);
    for (let k = 0; k < parts; k++) {
      const part: PlanPart = { seq: e.seq, at: e.at, type: 'plan-part', part: k + 1, parts, tiles: e.tiles.slice(k * unitsPerLine, (k + 1) * unitsPerLine) };
      yield `${JSON.stringify(part)}\n`;
    }
  }
}

/** Puts the parts of a plan back together while the journal is replayed. */
export class PlanAssembly {
  private open: { seq: number; at: string; parts: number; next: number; tiles: TilePlan[] } | undefined;

  /** The entry a line stands for: itself, a whole plan once its last part is read, or undefined while parts are missing. */
  take(line: JournalLine): JournalEntry | undefined {
    if (line.type !== 'plan-part') {
      if (this.open) throw damaged(`a ${line.type} entry (seq ${line.seq}) interrupts the parts of the plan of seq ${this.open.seq}`);
      return line;
    }
    if (line.part === 1) {
      if (this.open) throw damaged(`a plan (seq ${line.seq}) starts inside the parts of the plan of seq ${this.open.seq}`);
      this.open = { seq: line.seq, at: line.at, parts: line.parts, next: 1, tiles: [] };
    }
    const open = this.open;
    if (!open || open.seq !== line.seq || open.parts !== line.parts || open.next !== line.part) throw damaged(`part ${line.part} of the plan of seq ${line.seq} is out of order`);
    for (const t of line.tiles) open.tiles.push(t);
    open.next++;
    if (open.next <= open.parts) return undefined;
    this.open = undefined;
    return { seq: open.seq, at: open.at, type: 'plan', tiles: open.tiles };
  }

  /** Whether parts were read whose plan is not complete (a crash while it was written). */
  get incomplete(): boolean {
    return this.open !== undefined;
  }
}

function damaged(what: string): Error {
  return new Error(`the job's journal is damaged: ${what}; restore the job's .tessera folder from a backup or remove it to start over`);
}
