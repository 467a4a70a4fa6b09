// One build tool for every bundle: esbuild (Node-side bundles, and the renderer for the browser).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// What the CommonJS bundles share (the CLI, a recipe's child, the desktop shell): one .cjs file per entry in out/.
const cjsBundle = { absWorkingDir: root, outdir: 'out', outExtension: { '.js': '.cjs' }, bundle: true, format: 'cjs', logLevel: 'warning' };
// Those that run in Node (Node 20, package.json's engines; the desktop shell's main raises it to Electron's).
const nodeBundle = { ...cjsBundle, platform: 'node', target: 'node20' };
// The programs that say their version (the CLI, the desktop shell), with source maps for their stack traces.
const versioned = { sourcemap: 'linked', define: { __TESSERA_VERSION__: JSON.stringify(pkg.version) } };

await build({
  ...nodeBundle,
  ...versioned,
  entryPoints: { 'cli/tessera': 'main/cli/index.ts', 'demo/demo': 'main/demo/index.ts' },
  packages: 'external', // dependencies stay in node_modules (sql.js finds its .wasm there)
});

// A custom recipe's child process (main/core/recipes/sandbox): one self-contained file, the Earth Engine
// client included, because Node's permission model lets the child read that file and nothing else. The
// client's network module is replaced by an offline one, and googleapis (used only for service-account keys)
// by nothing.
const recipeChildAliases = {
  name: 'recipe-child-aliases',
  setup(b) {
    b.onResolve({ filter: /^xmlhttprequest$/ }, () => ({ path: join(root, 'main/core/recipes/sandbox/offline-xhr.ts') }));
    b.onResolve({ filter: /^googleapis$/ }, () => ({ path: 'googleapis', namespace: 'recipe-child-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'recipe-child-stub' }, () => ({ contents: 'module.exports = { google: {} };', loader: 'js' }));
  },
};
await build({ ...nodeBundle, entryPoints: { 'recipe/child': 'main/core/recipes/sandbox/child.ts' }, plugins: [recipeChildAliases] });

// The dashboard (renderer/): one browser bundle, app.js + app.css (Leaflet's CSS included), and index.html.
// `tessera serve` serves out/renderer; the desktop shell loads the same files.
// zod re-exports every locale of its error messages (260 kB minified); the page needs English only.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'zod-english-only' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js';",
      resolveDir: root,
    }));
  },
};
export const rendererBuildOptions = {
  plugins: [zodEnglishOnly],
  bundle: true,
  platform: 'browser',
  target: ['chrome120', 'firefox120', 'safari16'],
  format: 'iife',
  jsx: 'automatic',
  loader: { '.png': 'dataurl', '.svg': 'dataurl' },
  define: { 'process.env.NODE_ENV': '"production"' },
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
};
rmSync(join(root, 'out', 'renderer'), { recursive: true, force: true });
mkdirSync(join(root, 'out', 'renderer'), { recursive: true });
await build({
  ...rendererBuildOptions,
  absWorkingDir: root,
  entryPoints: { app: 'renderer/main.tsx' },
  outdir: 'out/renderer',
});
copyFileSync(join(root, 'renderer', 'index.html'), join(root, 'out', 'renderer', 'index.html'));

// The desktop shell: the Electron main process and its preload, one CommonJS file each.
// - main: `electron` stays external (Electron provides it); electron-store and its dependencies are ESM-only
//   and are folded into the bundle; every other package stays in node_modules as for the CLI.
// - preload: a sandboxed preload can require only `electron` (and a few built-ins): everything else
//   (shared/ipc.ts, zod) is bundled in.
const bundleElectronStore = {
  name: 'bundle-electron-store',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path === 'electron' || args.path.startsWith('node:')) return { path: args.path, external: true };
      if (args.path === 'electron-store' || /[\\/]node_modules[\\/]/.test(args.importer)) return undefined; // bundled
      return { path: args.path, external: true };
    });
  },
};
await build({ ...nodeBundle, ...versioned, entryPoints: { 'electron/main': 'main/electron/main.ts' }, target: 'node22', plugins: [bundleElectronStore] });
await build({
  ...cjsBundle,
  plugins: [zodEnglishOnly],
  entryPoints: { 'electron/preload': 'main/electron/preload.ts' },
  platform: 'browser',
  target: 'chrome130',
  external: ['electron'],
  minify: true,
  sourcemap: 'linked',
});
