/**
 * `npm run demo`: the whole pipeline on the built-in emulator, no Google account needed. It starts the
 * emulator in this process, writes a job for a real outline (Luxembourg, Natural Earth 1:10m), and runs
 * the real `tessera run` against it: tiles are exported, downloaded, verified and deleted from Drive.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { feature } from 'topojson-client';
import { startEmulator } from '../emulator';

const root = join(__dirname, '..', '..');
const out = join(process.cwd(), 'demo-output');

async function main(): Promise<void> {
  // Our own folder: start it over so the demo always shows the whole run.
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const topo = require('world-atlas/countries-10m.json');
  const countries = feature(topo, topo.objects.countries) as unknown as { features: { properties: { name: string } }[] };
  const lux = countries.features.find((f) => f.properties.name === 'Luxembourg');
  writeFileSync(join(out, 'luxembourg.geojson'), JSON.stringify(lux));
  const job = {
    name: 'demo-lux',
    roi: { path: 'luxembourg.geojson' },
    grid: { crs: 'EPSG:3035', scale: 100, tilePixels: 100 },
    drive: { folder: 'tessera-demo' },
    output: 'tiles',
    maxInFlight: 4,
  };
  writeFileSync(join(out, 'job.json'), JSON.stringify(job, null, 2) + '\n');

  // ~35 tasks of ~2 simulated minutes on 2 slots: ~40 simulated minutes, about a minute at this speed.
  const emu = await startEmulator({ timeScale: 40 });
  console.log(`Tessera demo\n  Google emulator: ${emu.url} (Earth Engine, Drive and sign-in; simulated time ×40)`);
  console.log(`  Job: ${relative(process.cwd(), join(out, 'job.json'))}: Luxembourg in EPSG:3035, 10 km tiles of 100 m pixels\n`);
  const started = Date.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'tessera.cjs'), 'run', join(out, 'job.json'), '--emulator', emu.url], { stdio: 'inherit' });
    child.on('close', (c) => resolve(c ?? 1));
  });
  await emu.sync();
  const state = emu.state();
  await emu.stop();
  if (code !== 0) {
    console.error(`\nthe demo run ended with exit code ${code}`);
    process.exit(code);
  }
  const tiles = readdirSync(join(out, 'tiles')).filter((n) => n.endsWith('.tif'));
  const mosaic = join(out, 'tiles', `${job.name}.vrt`);
  const bytes = tiles.reduce((s, n) => s + statSync(join(out, 'tiles', n)).size, 0);
  const exports = state.operations.filter((o) => o.state === 'SUCCEEDED').length;
  const deleted = state.files.filter((f) => f.deletedAt !== null && f.name.endsWith('.tif')).length;
  console.log(`
Done in ${((Date.now() - started) / 1000).toFixed(0)} s:
  ${exports} Earth Engine exports, one per tile, at most 2 running at once
  ${tiles.length} GeoTIFFs (${(bytes / 1e6).toFixed(1)} MB) in ${relative(process.cwd(), join(out, 'tiles'))}/, each checked against Drive's size and MD5
  ${deleted} files deleted from Drive only after their verified copy was on disk
Look at one:  gdalinfo ${relative(process.cwd(), join(out, 'tiles', tiles[0] ?? ''))}${existsSync(mosaic) ? `
The mosaic:   gdalinfo ${relative(process.cwd(), mosaic)}   (a VRT over every tile; open it in QGIS)` : ''}
Summary:      ${relative(process.cwd(), join(out, 'tiles', `${job.name}.summary.txt`))}
Status:       npx tessera status ${relative(process.cwd(), join(out, 'job.json'))}`);
}

main().catch((e: unknown) => {
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
