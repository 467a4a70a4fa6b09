/** One figure of `bench-results.json` (docs/cli.md#benchmark-results). */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  target: string;
  pass: boolean;
  notes?: string;
}

/** Benches print their results as one JSON line prefixed with this marker; the runner collects them. */
export const RESULT_MARKER = 'BENCH_RESULT ';

export function report(result: BenchResult): void {
  process.stdout.write(RESULT_MARKER + JSON.stringify(result) + '\n');
}

/**
 * A figure beside its baseline (the same measure of the notebook loop, or of a smaller job): the value,
 * the baseline and value / baseline, each rounded to `digits` decimals.
 */
export function reportVersus(value: number, baseline: number, digits: number, result: Omit<BenchResult, 'value' | 'baseline' | 'ratio'>): void {
  const round = (x: number) => Number(x.toFixed(digits));
  const { name, unit, target, pass, notes } = result;
  report({ name, value: round(value), unit, baseline: round(baseline), ratio: round(value / baseline), target, pass, ...(notes !== undefined ? { notes } : {}) });
}
