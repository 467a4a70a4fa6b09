// Layering is enforced here (VS Code style): what runs where is decided by the folder.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const repoRoot = new URL('.', import.meta.url).pathname;
/** What the emulator may take from main/core: plain helpers with no engine in them (docs/ARCHITECTURE.md#the-emulators-neutral-base). */
// What the emulator may still take from main/core (the rest of the neutral base is main/common/).
const EMULATOR_BASE = ['./geo/crs.ts'];
const nodeBuiltins = ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'crypto', 'http', 'https', 'net', 'stream', 'worker_threads', 'url'];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test/.fixtures/**', 'bench-results.json'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Only the desktop shell (main/electron/**, with its preload) imports Electron. Everything else — tests
    // included — runs in plain Node or a browser, where `require('electron')` tries to download it.
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs', '**/*.cjs', '**/*.mts'],
    ignores: ['main/electron/**', 'main/preload/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'only main/electron/** (and its preload) may import electron; test Electron code through its ports.' }] }],
    },
  },
  {
    // The engine, the emulator and the CLI run in plain Node: they must never need Electron.
    files: ['main/core/**', 'main/cli/**', 'main/emulator/**', 'main/server/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'main/core, the CLI and the emulator run in plain Node; only main/electron/** may import electron.' }], patterns: [{ group: ['electron/*', '**/electron/**'], message: 'only main/electron/** may use Electron.' }] }],
    },
  },
  {
    // The contract and the renderer run in a sandboxed browser context: no Node, no Electron.
    // (The dashboard's component-test page is renderer code too.)
    files: ['shared/**', 'renderer/**', 'test/dashboard/harness/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'shared/ and renderer/ run without Electron APIs; use the preload bridge.' }], patterns: [{ group: nodeBuiltins, message: 'shared/ and renderer/ cannot use Node built-ins.' }, { group: ['**/main/**'], message: 'shared/ and renderer/ may not reach into main/.' }] }],
    },
  },
  {
    // Boundaries that need resolved paths, and no import cycles (docs/ARCHITECTURE.md#enforced-boundaries).
    // `import type` never counts: a cycle of types alone is erased at build time.
    files: ['main/**', 'shared/**', 'renderer/**', 'test/**', 'bench/**', 'scripts/**'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx', '.mts', '.cts'] },
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json'] })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { basePath: repoRoot, zones: [
        { target: './renderer', from: './', except: ['./renderer', './shared', './node_modules'],
          message: 'the renderer imports only shared/, its own files and packages (docs/ARCHITECTURE.md#enforced-boundaries).' },
        { target: './main/emulator', from: './main/core', except: EMULATOR_BASE,
          message: 'the emulator is the witness of Google, not part of the engine: it may use only the neutral base of main/core (docs/ARCHITECTURE.md#the-emulators-neutral-base).' },
        { target: './main/emulator', from: ['./main/cli', './main/server', './main/electron', './main/demo'],
          message: 'the emulator imports none of the programs that use it.' },
        { target: './main/common', from: ['./main/core', './main/cli', './main/server', './main/electron', './main/emulator', './main/demo'],
          message: 'main/common is the neutral base shared by the engine and the emulator: it imports neither (docs/ARCHITECTURE.md#the-emulators-neutral-base).' },
        { target: './main/core', from: ['./main/cli', './main/server', './main/electron', './main/emulator', './main/demo'],
          message: 'main/core is the engine: it never imports its callers, nor the emulator it is tested against.' },
      ] }],
    },
  },
  {
    files: ['**/*.cjs', 'scripts/**/*.mjs'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
