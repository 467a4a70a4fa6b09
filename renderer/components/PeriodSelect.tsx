import type { JobModel } from '../store';

interface Props {
  job: JobModel;
  period: string | null;
  onChange: (period: string | null) => void;
}

/**
 * The period the map, legend, progress and tile details show (docs/dashboard.md#periods-and-result-previews, `period-select`):
 * a native `<select>` — keyboard and screen readers work as everywhere — whose first option is all periods
 * (each tile in the state of its least advanced unit), then one option per period id (value = the id),
 * each with its units done. A job without periods has none.
 */
export function PeriodSelect({ job, period, onChange }: Props) {
  if (job.periods.length === 0) return null;
  const doneOf = (p: string) => job.periodCounts.get(p)?.done ?? 0;
  const totalOf = (p: string) => {
    const c = job.periodCounts.get(p);
    if (!c) return 0;
    let n = 0;
    for (const [s, v] of Object.entries(c)) if (s !== 'split') n += v;
    return n;
  };
  return (
    <section className="panel periods" aria-label="Periods">
      <label className="period-label">
        <span>Period</span>
        <select data-testid="period-select" value={period ?? ''} onChange={(e) => onChange(e.target.value === '' ? null : e.target.value)}>
          <option value="">All {job.periods.length} periods</option>
          {job.periods.map((p) => (
            <option key={p} value={p}>
              {p} — {doneOf(p)} of {totalOf(p)} done
            </option>
          ))}
        </select>
      </label>
      {period === null && <p className="muted period-hint">Each tile in the state of its least advanced period.</p>}
    </section>
  );
}
