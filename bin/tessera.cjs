#!/usr/bin/env -S node --no-memory-reducer
'use strict';
// The CLI is built into out/ by `npm install` (the `prepare` script); this shim only finds it.
// The first line starts Node without V8's memory reducer: a run waiting on Earth Engine looks idle, and
// the reducer's extra full collections of a million-unit job's heap cost more than a poll cycle's work
// (docs/scale.md, "CPU per cycle and the collector"). `env -S` execs node, so this stays one process.
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
