import { Command, Option } from 'commander';
import { access, constants } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UserError } from '../../core/errors';
import { resolveCrs } from '../../core/geo/crs';
import { buildGrid, DATA_TYPES, writeTilesGeoJson, type DataType } from '../../core/grid';
import { loadRoi } from '../../core/roi';
import { formatBytes, formatCount, formatPixels } from '../output';

interface GridOptions {
  crs: string;
  scale: string;
  tilePixels: string;
  layer?: string;
  out?: string;
  json?: boolean;
  bands: string;
  dataType: DataType;
}

export function gridCommand(): Command {
  return new Command('grid')
    .description('cut a region of interest into pixel-aligned export tiles')
    .argument('<roi>', 'GeoPackage (.gpkg) or GeoJSON (.geojson) with the region of interest, in any CRS')
    .requiredOption('--crs <EPSG:n>', 'export CRS, e.g. EPSG:3035 or EPSG:32632')
    .requiredOption('--scale <size>', 'pixel size in the export CRS units (metres, or degrees for EPSG:4326)')
    .requiredOption('--tile-pixels <n>', 'tile edge in pixels')
    .option('--layer <name>', 'GeoPackage layer (default: the only polygon layer)')
    .option('--out <file.geojson>', 'write the tiles as GeoJSON (EPSG:4326) with their export parameters')
    .option('--json', 'print one JSON object instead of text')
    .option('--bands <n>', 'bands per tile, for the size estimate', '1')
    .addOption(new Option('--data-type <type>', 'pixel type, for the size estimate').choices(Object.keys(DATA_TYPES)).default('Float32'))
    .action(async (roiPath: string, opts: GridOptions) => {
      const crs = resolveCrs(opts.crs);
      const scale = parseNumber(opts.scale, '--scale');
      const tilePixels = parseNumber(opts.tilePixels, '--tile-pixels');
      const bands = parseNumber(opts.bands, '--bands');
      const outPath = opts.out === undefined ? undefined : resolve(opts.out);
      if (outPath) await checkWritableFolder(outPath);
      const roi = await loadRoi(roiPath, { layer: opts.layer });
      const grid = buildGrid(roi, { crs, scale, tilePixels }, { bands, dataType: opts.dataType });
      if (grid.tiles.length === 0) throw new UserError('the ROI covers no tile with positive area');
      if (outPath) await writeTilesGeoJson(outPath, grid.tiles, crs);

      const is = grid.tiles.map((t) => t.i);
      const js = grid.tiles.map((t) => t.j);
      const range = { iMin: Math.min(...is), iMax: Math.max(...is), jMin: Math.min(...js), jMax: Math.max(...js) };
      if (opts.json) {
        const summary = {
          tiles: grid.tiles.length,
          crs: crs.id,
          scale,
          tilePixels,
          tileSize: tilePixels * scale,
          unit: crs.unit,
          roi: { path: roiPath, layer: roi.layer, crs: roi.crs.id, features: roi.features.length, area: grid.roiArea },
          range,
          estimate: { ...grid.estimate, exceedsDefaultMaxPixels: grid.estimate.pixelsPerTile > 1e8 },
          out: outPath ?? null,
          warnings: grid.warnings,
        };
        process.stdout.write(JSON.stringify(summary) + '\n');
      } else {
        const e = grid.estimate;
        const lines = [
          `ROI       ${roiPath} · layer "${roi.layer}" · ${roi.features.length} polygon feature(s) in ${roi.crs.id}`,
          `Grid      ${crs.id} (${crs.name}) · ${scale} ${crs.unit} pixels · ${tilePixels} × ${tilePixels} px tiles (${tilePixels * scale} ${crs.unit})`,
          `Tiles     ${formatCount(grid.tiles.length)} · columns ${range.iMin}…${range.iMax}, rows ${range.jMin}…${range.jMax}`,
          `Estimate  ${formatPixels(e.totalPixels)}, ${formatBytes(e.totalBytes)} at ${e.bands} band(s) ${e.dataType} (${formatBytes(e.bytesPerTile)} per tile, uncompressed)`,
        ];
        if (outPath) lines.push(`Written   ${outPath}`);
        process.stdout.write(lines.join('\n') + '\n');
      }
      for (const w of grid.warnings) process.stderr.write(`warning: ${w}\n`);
    });
}

function parseNumber(text: string, flag: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new UserError(`${flag} must be a number, not "${text}"`);
  return v;
}

async function checkWritableFolder(path: string): Promise<void> {
  try {
    await access(dirname(path), constants.W_OK);
  } catch {
    throw new UserError(`cannot write ${path}: its folder does not exist or is not writable`);
  }
}
