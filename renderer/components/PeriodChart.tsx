import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import type { JobModel } from '../store';

interface Props {
  job: JobModel;
  /** Bumped by the store on every change (the charts redraw at most once a second). */
  version: number;
}

/** Done units of the job over time, sampled by the page while it is open (per job, kept across re-renders). */
const samples = new Map<string, { t: number[]; done: number[] }>();
const SAMPLE_EVERY_MS = 1000;
const KEEP_SAMPLES = 3600;

function sample(job: JobModel): { t: number[]; done: number[] } {
  let s = samples.get(job.name);
  if (!s) samples.set(job.name, (s = { t: [], done: [] }));
  const now = Date.now() / 1000;
  const last = s.t[s.t.length - 1];
  if (last === undefined || now - last >= SAMPLE_EVERY_MS / 1000) {
    s.t.push(now);
    s.done.push(job.counts.done);
    if (s.t.length > KEEP_SAMPLES) {
      s.t.shift();
      s.done.shift();
    }
  } else s.done[s.done.length - 1] = job.counts.done;
  return s;
}

const finite = (v: number | null): number => (v !== null && Number.isFinite(v) ? v : 0);

/** Units per hour between consecutive samples, smoothed over the last minute. */
function throughput(s: { t: number[]; done: number[] }): number[] {
  return s.t.map((t, k) => {
    let j = k;
    while (j > 0 && t - s.t[j - 1]! <= 60) j--;
    const dt = t - s.t[j]!;
    return dt > 0 ? ((s.done[k]! - s.done[j]!) / dt) * 3600 : 0;
  });
}

/**
 * The shape of a time series' progress (docs/dashboard.md#periods-and-result-previews): done units per period as bars, the
 * period's total as a line; and the job's done units and throughput since the page opened. Drawn with
 * uPlot (canvas, ~50 kB), updated in place.
 */
export function PeriodChart({ job, version }: Props) {
  const perPeriod = useRef<HTMLDivElement>(null);
  const overTime = useRef<HTMLDivElement>(null);
  const charts = useRef<{ bars: uPlot | null; time: uPlot | null; job: string; periods: string }>({ bars: null, time: null, job: '', periods: '' });
  const drawnAt = useRef(0);

  useEffect(() => () => {
    charts.current.bars?.destroy();
    charts.current.time?.destroy();
  }, []);

  useEffect(() => {
    const c = charts.current;
    const s = sample(job);
    const now = performance.now();
    if (c.job === job.name && c.periods === job.periods.join() && now - drawnAt.current < SAMPLE_EVERY_MS) return;
    drawnAt.current = now;
    const width = Math.max(200, perPeriod.current?.clientWidth ?? 300);
    const ids = job.periods;
    const x = ids.map((_, k) => k);
    const done = ids.map((p) => job.periodCounts.get(p)?.done ?? 0);
    const total = ids.map((p) => {
      const counts = job.periodCounts.get(p);
      return counts ? Object.entries(counts).reduce((n, [st, v]) => n + (st === 'split' ? 0 : v), 0) : 0;
    });
    if (c.job !== job.name || c.periods !== ids.join()) {
      c.bars?.destroy();
      c.time?.destroy();
      c.bars = null;
      c.time = null;
      c.job = job.name;
      c.periods = ids.join();
    }
    if (ids.length && perPeriod.current) {
      const data: uPlot.AlignedData = [x, done, total];
      if (!c.bars) {
        c.bars = new uPlot(
          {
            width,
            height: 150,
            legend: { show: true },
            cursor: { show: true, drag: { x: false, y: false } },
            scales: { x: { time: false, range: [-0.5, Math.max(0.5, ids.length - 0.5)] }, y: { range: (_u, _min, max) => [0, Math.max(1, finite(max))] } },
            axes: [{ values: (_u, ticks) => ticks.map((t) => ids[Math.round(t)] ?? ''), splits: () => x, size: 34 }, { size: 44 }],
            series: [
              { label: 'period', value: (_u, v) => ids[Math.round(v)] ?? '' },
              { label: 'done', fill: 'rgba(22, 163, 74, 0.55)', stroke: '#15803d', paths: uPlot.paths.bars!({ size: [0.7, 60] }), points: { show: false } },
              { label: 'units', stroke: '#475569', width: 1.5, dash: [4, 3], points: { show: true, size: 5 } },
            ],
          },
          data,
          perPeriod.current,
        );
      } else c.bars.setData(data);
    }
    if (overTime.current) {
      const data: uPlot.AlignedData = [s.t, s.done, throughput(s)];
      if (!c.time) {
        c.time = new uPlot(
          {
            width,
            height: 130,
            cursor: { drag: { x: false, y: false } },
            scales: { x: { time: true, range: (_u, min, max) => (finite(max) - finite(min) < 60 ? [finite(max) - 60, finite(max)] : [min, max]) }, done: { range: (_u, min, max) => [Math.max(0, finite(min)), Math.max(finite(min) + 1, finite(max))] }, rate: { range: (_u, _min, max) => [0, Math.max(1, finite(max))] } },
            axes: [{ size: 30 }, { scale: 'done', size: 44 }, { scale: 'rate', side: 1, size: 44, grid: { show: false } }],
            series: [{}, { label: 'done', scale: 'done', stroke: '#15803d', width: 2 }, { label: 'units / h', scale: 'rate', stroke: '#7c3aed', width: 1.5 }],
          },
          data,
          overTime.current,
        );
      } else c.time.setData(data);
    }
  }, [job, version]);

  return (
    <section className="panel period-chart" data-testid="period-chart" aria-label="Progress per period and over time">
      {job.periods.length > 0 && (
        <>
          <h2>Done per period</h2>
          <div ref={perPeriod} className="chart" data-testid="period-chart-periods" role="img" aria-label={`Done units per period: ${job.periods.map((p) => `${p} ${job.periodCounts.get(p)?.done ?? 0}`).join(', ')}`} />
        </>
      )}
      <h2>Done over time</h2>
      <div ref={overTime} className="chart" data-testid="period-chart-time" role="img" aria-label={`${job.counts.done} units done; throughput since this page opened`} />
    </section>
  );
}
