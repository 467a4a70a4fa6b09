// Runs every benchmark (or the ones named: `npm run bench -- grid`) in its own process, prints each
// figure with its ratio against the baseline measured in the same run, and writes bench-results.json.
// The CLI is rebuilt first: several benchmarks run `tessera emulator` / `tessera run` from bin/.
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MARKER = 'BENCH_RESULT ';
const wanted = process.argv.slice(2);
const benches = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace('.bench.ts', ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name));
if (benches.length === 0) {
  console.error(`no benchmark named ${wanted.join(', ')}`);
  process.exit(1);
}
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('the build failed');
  process.exit(1);
}
// Benchmarks sign in to their own emulators only: never read or write the user's stored sign-in.
const env = { ...process.env, TESSERA_CREDENTIALS: join(tmpdir(), `tessera-bench-${process.pid}-credentials.json`) };
const results = [];
const timings = [];
let failed = false;
const started = Date.now();
for (const name of benches) {
  console.log(`== ${name}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', `${name}.bench.ts`)], {
    cwd: root,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 20 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const line of (r.stdout ?? '').split('\n')) {
    if (line.startsWith(MARKER)) results.push(JSON.parse(line.slice(MARKER.length)));
    else if (line) console.log(line);
  }
  timings.push(`${name} ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (r.status !== 0) {
    console.error(`${name} exited with ${r.status ?? r.signal}`);
    failed = true;
  }
}

// One Markdown table (pasted as is into the README's "Performance" section), then the notes.
const fmt = (v) => (v === null || v === undefined ? '—' : String(v));
const rows = [['figure', 'value', 'unit', 'baseline', 'ratio', 'target', 'pass']];
for (const r of results) rows.push([r.name, fmt(r.value), r.unit, fmt(r.baseline), fmt(r.ratio), r.target, r.pass ? 'PASS' : 'MISS']);
const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
const line = (row) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
console.log('');
console.log(line(rows[0]));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of rows.slice(1)) console.log(line(row));
console.log('');
for (const r of results) if (r.notes) console.log(`- ${r.name}: ${r.notes}`);
writeFileSync(join(root, 'bench-results.json'), JSON.stringify(results, null, 2) + '\n');
console.log(`\nbench-results.json: ${results.length} figure(s), ${results.filter((r) => !r.pass).length} missed target(s); ${timings.join(', ')}; total ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(failed ? 1 : 0);
