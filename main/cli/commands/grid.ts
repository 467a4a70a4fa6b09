import { Command, Option } from 'commander';
import { access, constants } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UserError } from '../../core/errors';
import { resolveCrs } from '../../core/geo/crs';
import { buildGrid, DATA_TYPES, writeTilesGeoJson, type DataType } from '../../core/grid';
import { loadRoi } from '../../core/roi';
import { formatBytes, formatCount, formatPixels } from '../output';
import { maxPixelsSent } from '../../../shared/estimate';
import { gridInputFromJob, jobEstimate, required } from '../grid-job';

interface GridOptions {
  crs: string;
  scale: string;
  tilePixels: string;
  layer?: string;
  out?: string;
  json?: boolean;
  bands?: string;
  dataType?: DataType;
  emulator?: string;
}

export function gridCommand(): Command {
  return new Command('grid')
    .description('cut a region of interest (or a job file’s) into pixel-aligned export tiles')
    .argument('<roi>', 'GeoPackage (.gpkg) or GeoJSON (.geojson) with the region of interest, in any CRS; or a job file (JOB.json) to take its ROI, grid and recipe')
    .option('--crs <EPSG:n>', 'export CRS, e.g. EPSG:3035 or EPSG:32632 (not with a job file)')
    .option('--scale <size>', 'pixel size in the export CRS units (metres, or degrees for EPSG:4326)')
    .option('--tile-pixels <n>', 'tile edge in pixels')
    .option('--layer <name>', 'GeoPackage layer (default: the only polygon layer)')
    .option('--out <file.geojson>', 'write the tiles as GeoJSON (EPSG:4326) with their export parameters')
    .option('--json', 'print one JSON object instead of text')
    .option('--bands <n>', 'bands per tile, for the size estimate (default 1; a job file takes them from its recipe)')
    .addOption(new Option('--data-type <type>', 'pixel type, for the size estimate (default Float32)').choices(Object.keys(DATA_TYPES)))
    .option('--emulator <url>', "with a job file: ask this emulator for the recipe's bands (else the stored sign-in, if any)")
    .action(async (roiPath: string, opts: GridOptions) => {
      // `tessera grid JOB.json`: the job's ROI, grid and recipe (grid-job.ts).
      const fromJob = await gridInputFromJob(roiPath, opts);
      const crs = resolveCrs(fromJob?.grid.crs ?? required(opts.crs, '--crs'));
      const scale = fromJob?.grid.scale ?? parseNumber(required(opts.scale, '--scale'), '--scale');
      const tilePixels = fromJob?.grid.tilePixels ?? parseNumber(required(opts.tilePixels, '--tile-pixels'), '--tile-pixels');
      const bands = parseNumber(opts.bands ?? '1', '--bands');
      const outPath = opts.out === undefined ? undefined : resolve(opts.out);
      if (outPath) await checkWritableFolder(outPath);
      const roi = await loadRoi(fromJob?.roi.path ?? roiPath, { layer: fromJob ? fromJob.roi.layer : opts.layer });
      const grid = buildGrid(roi, { crs, scale, tilePixels }, { bands, dataType: opts.dataType ?? 'Float32' });
      if (grid.tiles.length === 0) throw new UserError('the ROI covers no tile with positive area');
      if (outPath) await writeTilesGeoJson(outPath, grid.tiles, crs);
      const shaped = fromJob ? await jobEstimate(fromJob, opts.emulator, grid.estimate.pixelsPerTile, grid.tiles.length) : undefined;
      const estimate = shaped?.estimate ?? { ...grid.estimate, source: 'options' as const, maxPixelsSent: maxPixelsSent(grid.estimate.pixelsPerTile, undefined) };
      const warnings = [...grid.warnings, ...(shaped?.warnings ?? [])];

      const range = grid.tiles.range();
      if (opts.json) {
        const summary = {
          tiles: grid.tiles.length,
          crs: crs.id,
          scale,
          tilePixels,
          tileSize: tilePixels * scale,
          unit: crs.unit,
          job: fromJob?.name ?? null,
          roi: { path: fromJob?.roi.path ?? roiPath, layer: roi.layer, crs: roi.crs.id, features: roi.features.length, area: grid.roiArea },
          range,
          estimate: { ...estimate, exceedsDefaultMaxPixels: grid.estimate.pixelsPerTile > 1e8 },
          out: outPath ?? null,
          warnings,
        };
        process.stdout.write(JSON.stringify(summary) + '\n');
      } else {
        const e = estimate;
        const lines = [
          `ROI       ${fromJob?.roi.path ?? roiPath} · layer "${roi.layer}" · ${roi.features.length} polygon feature(s) in ${roi.crs.id}`,
          `Grid      ${crs.id} (${crs.name}) · ${scale} ${crs.unit} pixels · ${tilePixels} × ${tilePixels} px tiles (${tilePixels * scale} ${crs.unit})`,
          `Tiles     ${formatCount(grid.tiles.length)} · columns ${range.iMin}…${range.iMax}, rows ${range.jMin}…${range.jMax}`,
          `Estimate  ${formatPixels(e.totalPixels)}, ${formatBytes(e.totalBytes)} at ${e.bands} band(s) ${e.dataType} (${formatBytes(e.bytesPerTile)} per tile, uncompressed)`,
        ];
        if (outPath) lines.push(`Written   ${outPath}`);
        process.stdout.write(lines.join('\n') + '\n');
      }
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
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
