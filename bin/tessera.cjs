#!/usr/bin/env node
'use strict';
// The CLI is built into out/ by `npm install` (the `prepare` script); this shim only finds it.
const path = require('node:path');
const built = path.join(__dirname, '..', 'out', 'cli', 'tessera.cjs');
let cli;
try {
  cli = require(built);
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(built)) {
    process.stderr.write('tessera: the CLI is not built yet; run `npm install` (or `npm run build`) in the checkout\n');
    process.exit(1);
  }
  throw e;
}
cli.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
