// Runs every benchmark (or the ones named: `npm run bench -- grid`) in its own process, prints each
// figure with its ratio against the baseline measured in the same run, and writes bench-results.json.
// `--compare FILE` (a bench-results.json saved earlier) also prints how each figure changed against it.
// The CLI is rebuilt first: several benchmarks run `tessera emulator` / `tessera run` from bin/.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MARKER = 'BENCH_RESULT ';
const args = process.argv.slice(2);
const compareAt = args.indexOf('--compare');
let saved;
if (compareAt >= 0) {
  const file = args[compareAt + 1];
  if (!file || file.startsWith('--')) {
    console.error('--compare needs a file: a bench-results.json saved from an earlier run');
    process.exit(1);
  }
  try {
    // Read now: this run rewrites bench-results.json, which may be the file given.
    saved = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(saved) || saved.some((r) => typeof r?.name !== 'string' || typeof r?.value !== 'number')) throw new Error('not an array of { name, value, … } figures');
  } catch (e) {
    console.error(`--compare ${file}: cannot use it (${e.message}); give a bench-results.json written by npm run bench`);
    process.exit(1);
  }
  args.splice(compareAt, 2);
}
const wanted = args;
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
if (saved) {
  console.log('');
  for (const line of compareLines(saved, results)) console.log(line);
}
// A run of some benchmarks replaces their figures and keeps the others (the README's table is one file).
const written = wanted.length > 0 ? mergeInto(previousResults(), results) : results;
writeFileSync(join(root, 'bench-results.json'), JSON.stringify(written, null, 2) + '\n');
console.log(
  `\nbench-results.json: ${results.length} figure(s) measured${written.length > results.length ? `, ${written.length - results.length} kept from before` : ''}, ` +
    `${written.filter((r) => !r.pass).length} missed target(s) in the file; ${timings.join(', ')}; total ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
process.exit(failed ? 1 : 0);

/** The figures in bench-results.json now, or none when it is missing or not a list of figures. */
function previousResults() {
  try {
    const list = JSON.parse(readFileSync(join(root, 'bench-results.json'), 'utf8'));
    return Array.isArray(list) ? list.filter((r) => typeof r?.name === 'string') : [];
  } catch {
    return [];
  }
}

/** `before` with each figure measured now put in its place (new figures at the end). */
function mergeInto(before, now) {
  const fresh = new Map(now.map((r) => [r.name, r]));
  const merged = before.map((r) => fresh.get(r.name) ?? r);
  const kept = new Set(before.map((r) => r.name));
  return [...merged, ...now.filter((r) => !kept.has(r.name))];
}

/**
 * One line per figure of this run: its value against the saved one, the change, and whether that is
 * better (throughputs, units ending in "/s", are better higher; every other figure lower) and whether
 * its pass changed. Figures missing on either side are named.
 */
function compareLines(before, now) {
  const old = new Map(before.map((r) => [r.name, r]));
  const lines = ['Change against the saved results:'];
  for (const r of now) {
    const b = old.get(r.name);
    if (!b) {
      lines.push(`  ${r.name}: ${r.value} ${r.unit} (new figure)`);
      continue;
    }
    const delta = r.value - b.value;
    const pct = b.value !== 0 ? ` (${delta >= 0 ? '+' : ''}${((delta / Math.abs(b.value)) * 100).toFixed(1)} %)` : '';
    const higherBetter = /\/s$/.test(r.unit);
    const verdict = delta === 0 ? 'same' : (delta > 0) === higherBetter ? 'better' : 'worse';
    const pass = b.pass === r.pass ? '' : r.pass ? ', now PASS' : ', now MISS';
    lines.push(`  ${r.name}: ${b.value} → ${r.value} ${r.unit}, ${delta >= 0 ? '+' : ''}${Number(delta.toFixed(3))}${pct}, ${verdict}${pass}`);
  }
  const ran = new Set(now.map((r) => r.name));
  const gone = before.filter((r) => !ran.has(r.name)).map((r) => r.name);
  if (gone.length) lines.push(`  not measured in this run: ${gone.join(', ')}`);
  return lines;
}
