// One build tool for every Node-side bundle: esbuild (the renderer joins through Vite, which uses it too).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

await build({
  absWorkingDir: root,
  entryPoints: { 'cli/tessera': 'main/cli/index.ts', 'demo/demo': 'main/demo/index.ts' },
  outdir: 'out',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external', // dependencies stay in node_modules (sql.js finds its .wasm there)
  sourcemap: 'linked',
  define: { __TESSERA_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
});
