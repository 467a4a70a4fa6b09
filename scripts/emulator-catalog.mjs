// Writes main/emulator/ee/algorithms.json: the entries of Google's algorithm catalog
// (test/fixtures/google/algorithms.json, or the path given) for exactly the functions the emulator's evaluator
// follows, copied unchanged and in Google's order. Run it after adding a function to the evaluator's table:
//   npx tsx scripts/emulator-catalog.mjs [path/to/algorithms.json]
// (tsx because the list of names lives in the TypeScript evaluator: one list, no copy to keep in step).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = resolve(process.argv[2] ?? join(root, 'test', 'fixtures', 'google', 'algorithms.json'));
const target = join(root, 'main', 'emulator', 'ee', 'algorithms.json');

const evaluator = await import('../main/emulator/ee/evaluator.ts');
const supportedFunctions = evaluator.supportedFunctions ?? evaluator.default?.supportedFunctions;
const wanted = new Set(supportedFunctions());

const google = JSON.parse(readFileSync(source, 'utf8'));
const picked = google.algorithms.filter((a) => wanted.has(a.name.replace(/^algorithms\//, '')));
const found = new Set(picked.map((a) => a.name.replace(/^algorithms\//, '')));
const missing = [...wanted].filter((n) => !found.has(n));
if (missing.length > 0) {
  console.error(`not in ${source}: ${missing.join(', ')}`);
  process.exit(1);
}
writeFileSync(target, `${JSON.stringify({ algorithms: picked }, null, 1)}\n`);
console.log(`${target}: ${picked.length} of ${google.algorithms.length} algorithms`);
