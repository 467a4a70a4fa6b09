// `npm run demo`: the whole pipeline on the built-in emulator, no Google account needed.
// Until the engine lands it shows the first step, the tile grid of a real outline.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { feature } = require('topojson-client');
const topo = require('world-atlas/countries-10m.json');
const out = join(root, 'demo-output');
mkdirSync(out, { recursive: true });
const lux = feature(topo, topo.objects.countries).features.find((f) => f.properties.name === 'Luxembourg');
writeFileSync(join(out, 'luxembourg.geojson'), JSON.stringify(lux));
console.log('Tessera demo: cutting Luxembourg (Natural Earth 1:10m) into 10 km export tiles in EPSG:3035…\n');
const r = spawnSync(process.execPath, [join(root, 'bin', 'tessera.cjs'), 'grid', join(out, 'luxembourg.geojson'),
  '--crs', 'EPSG:3035', '--scale', '10', '--tile-pixels', '1000', '--out', join(out, 'tiles.geojson')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
console.log('\nThe export, download and verification steps are not yet available in the demo: they arrive with the engine.');
