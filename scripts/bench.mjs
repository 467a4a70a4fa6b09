// Runs every benchmark (or the ones named: `npm run bench -- grid`) in its own process, prints each
// figure with its ratio against the baseline measured in the same run, and writes bench-results.json.
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
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
const results = [];
let failed = false;
for (const name of benches) {
  console.log(`== ${name}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', `${name}.bench.ts`)], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 20 * 60_000,
  });
  for (const line of (r.stdout ?? '').split('\n')) {
    if (line.startsWith(MARKER)) results.push(JSON.parse(line.slice(MARKER.length)));
    else if (line) console.log(line);
  }
  if (r.status !== 0) {
    console.error(`${name} exited with ${r.status ?? r.signal}`);
    failed = true;
  }
}
for (const r of results) {
  const ratio = r.ratio === null ? '' : `  ratio ${r.ratio}× vs baseline ${r.baseline} ${r.unit}`;
  console.log(`${r.pass ? 'PASS' : 'MISS'}  ${r.name}: ${r.value} ${r.unit}${ratio}  (target: ${r.target})`);
}
writeFileSync(join(root, 'bench-results.json'), JSON.stringify(results, null, 2) + '\n');
console.log(`bench-results.json: ${results.length} figure(s)`);
process.exit(failed ? 1 : 0);
