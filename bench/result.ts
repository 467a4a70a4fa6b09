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
