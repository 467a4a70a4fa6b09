import type { Period } from './periods';

/**
 * What changed in `periods` since the job started, and whether that is allowed (docs/periods.md,
 * "Changing periods"): new periods extend the job; a period that has work (any unit past `pending`)
 * may be neither removed nor changed, since its outputs would no longer mean what its id says. A
 * period without work may change freely; one removed is returned as `dropped` (its units are cancelled).
 */
export type PeriodChange = { ok: true; added: Period[]; dropped: Period[] } | { ok: false; message: string };

export function comparePeriods(before: readonly Period[] | undefined, now: readonly Period[] | undefined, hasWork: (periodId: string) => boolean): PeriodChange {
  if (!before && !now) return { ok: true, added: [], dropped: [] };
  if (!before) return { ok: false, message: 'the job started without "periods"; a job cannot become a time series later (its names would change): give the job a new name' };
  if (!now) return { ok: false, message: 'the job started with "periods"; removing the key would rename every output: put "periods" back, or give the job a new name' };
  const byId = new Map(now.map((p) => [p.id, p]));
  const dropped: Period[] = [];
  for (const old of before) {
    const cur = byId.get(old.id);
    if (cur && cur.start === old.start && cur.end === old.end) continue;
    if (hasWork(old.id)) {
      const what = cur ? `changed from ${old.start}…${old.end} to ${cur.start}…${cur.end}` : 'was removed';
      return { ok: false, message: `period "${old.id}" ${what}, but it already has work (its outputs cover ${old.start}…${old.end}); put it back as it was, or give the job a new name` };
    }
    // Without work nothing was made from the old dates: its units simply build from the new ones.
    if (!cur) dropped.push(old);
  }
  const known = new Set(before.map((p) => p.id));
  return { ok: true, added: now.filter((p) => !known.has(p.id)), dropped };
}
