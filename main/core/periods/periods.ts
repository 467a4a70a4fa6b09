/**
 * The job key `periods` (docs/periods.md): a generated range or an explicit list of half-open UTC date
 * intervals, each with an id that becomes part of file names and task descriptions. Pure: no I/O, no
 * clock; every error is one line naming the key, so the job file can be fixed without reading code.
 */

/** One period of a job: `start` inclusive, `end` exclusive, both `YYYY-MM-DD` (UTC days). */
export interface Period {
  readonly id: string;
  readonly start: string;
  readonly end: string;
}

export type PeriodEvery = 'day' | 'week' | 'month' | 'quarter' | 'year' | `P${number}D`;

/** Ids are part of names at Google: letters, digits and "-", like job names, but shorter. */
export const PERIOD_ID = /^[A-Za-z0-9-]{1,20}$/;
/** More periods than this is a typo (`every: "day"` over a century), not a time series. */
export const MAX_PERIODS = 10_000;

export class PeriodError extends Error {}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** A `YYYY-MM-DD` that names a real day, as UTC milliseconds; undefined otherwise. */
export function parseDay(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = DATE.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  // 2021-02-30 would roll over into March: refused rather than silently moved.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return ms;
}

export function formatDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function addMonths(ms: number, n: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, d.getUTCDate());
}

const fail = (key: string, why: string): never => {
  throw new PeriodError(`"${key}": ${why}`);
};

function day(key: string, value: unknown): number {
  if (value === undefined) fail(key, 'is missing; give a date as YYYY-MM-DD');
  return parseDay(value) ?? fail(key, `${JSON.stringify(value)} is not a date as YYYY-MM-DD (a real day)`);
}

/** Parses `periods` as written in the job file; `key` names it in errors. */
export function parsePeriods(raw: unknown, key = 'periods'): Period[] {
  const periods = Array.isArray(raw) ? explicitList(raw, key) : raw !== null && typeof raw === 'object' ? generated(raw as Record<string, unknown>, key) : fail(key, 'must be { "start", "end", "every" } or a list of { "id", "start", "end" }');
  if (periods.length === 0) fail(key, 'has no period; give at least one, or leave the key out');
  if (periods.length > MAX_PERIODS) fail(key, `makes ${periods.length} periods, more than ${MAX_PERIODS}; choose a longer "every" or a shorter range`);
  return periods;
}

function explicitList(list: unknown[], key: string): Period[] {
  const seen = new Set<string>();
  return list.map((item, i) => {
    const at = `${key}[${i}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) fail(at, 'must be { "id", "start", "end" }');
    const p = item as Record<string, unknown>;
    const unknown = Object.keys(p).filter((k) => !['id', 'start', 'end'].includes(k));
    if (unknown.length) fail(`${at}.${unknown[0]}`, 'unknown key; a period has "id", "start" and "end"');
    if (typeof p.id !== 'string' || !PERIOD_ID.test(p.id)) fail(`${at}.id`, `${p.id === undefined ? 'is missing' : `${JSON.stringify(p.id)} is not allowed`}; an id is 1–20 letters, digits or "-"`);
    const id = p.id as string;
    if (seen.has(id)) fail(`${at}.id`, `"${id}" is used twice; period ids must be unique`);
    seen.add(id);
    const start = day(`${at}.start`, p.start);
    const end = day(`${at}.end`, p.end);
    if (end <= start) fail(`${at}.end`, `must be after "start" (end is exclusive: ${formatDay(start)} to ${formatDay(start + DAY_MS)} is one day)`);
    return { id, start: formatDay(start), end: formatDay(end) };
  });
}

function generated(spec: Record<string, unknown>, key: string): Period[] {
  const unknown = Object.keys(spec).filter((k) => !['start', 'end', 'every'].includes(k));
  if (unknown.length) fail(`${key}.${unknown[0]}`, 'unknown key; a generated range has "start", "end" and "every"');
  const start = day(`${key}.start`, spec.start);
  const end = day(`${key}.end`, spec.end);
  if (end <= start) fail(`${key}.end`, 'must be after "start" (the range is half-open: end is not included)');
  const every = spec.every;
  if (typeof every !== 'string') fail(`${key}.every`, 'is missing; give day, week, month, quarter, year or P{n}D (e.g. P16D)');
  const e = every as string;
  const stepDays = e === 'day' ? 1 : e === 'week' ? 7 : /^P[1-9]\d{0,3}D$/.test(e) ? Number(e.slice(1, -1)) : undefined;
  if (stepDays !== undefined) {
    const count = Math.ceil((end - start) / (stepDays * DAY_MS));
    if (count > MAX_PERIODS) fail(key, `makes ${count} periods, more than ${MAX_PERIODS}; choose a longer "every" or a shorter range`);
    const out: Period[] = [];
    // The last period ends at "end" even when the range is not a whole number of steps (documented).
    for (let t = start; t < end; t += stepDays * DAY_MS) out.push({ id: formatDay(t), start: formatDay(t), end: formatDay(Math.min(t + stepDays * DAY_MS, end)) });
    return out;
  }
  const months = e === 'month' ? 1 : e === 'quarter' ? 3 : e === 'year' ? 12 : fail(`${key}.every`, `${JSON.stringify(every)} is not day, week, month, quarter, year or P{n}D (e.g. P16D)`);
  const s = new Date(start);
  const aligned = s.getUTCDate() === 1 && s.getUTCMonth() % months === 0;
  const unit = e === 'month' ? 'the first day of a month' : e === 'quarter' ? 'the first day of a quarter (Jan, Apr, Jul, Oct)' : 'January 1';
  if (!aligned) fail(`${key}.start`, `${formatDay(start)} must be ${unit} for "every": "${e}", so that ids such as ${idFor(Date.UTC(s.getUTCFullYear(), 0, 1), e)} name whole periods`);
  const out: Period[] = [];
  let t = start;
  while (t < end) {
    const next = addMonths(t, months);
    if (next > end) fail(`${key}.end`, `${formatDay(end)} cuts the last ${e} short; give ${formatDay(next)} (end is exclusive) or ${formatDay(t)}`);
    out.push({ id: idFor(t, e), start: formatDay(t), end: formatDay(next) });
    t = next;
    if (out.length > MAX_PERIODS) break;
  }
  return out;
}

function idFor(ms: number, every: string): string {
  const d = new Date(ms);
  const y = String(d.getUTCFullYear()).padStart(4, '0');
  if (every === 'year') return y;
  if (every === 'quarter') return `${y}-Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
  return `${y}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The period as recipes and STAC see it: ISO dates, end exclusive, and as UTC instants. */
export function periodInstants(p: Period): { start: string; end: string } {
  return { start: `${p.start}T00:00:00Z`, end: `${p.end}T00:00:00Z` };
}
