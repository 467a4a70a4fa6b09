import { readFile } from 'node:fs/promises';
import { float64Warning, maxPixelsProblem, maxPixelsSent, type DataTypeName } from '../../shared/estimate';
import { UserError, isUserError } from '../core/errors';
import { EarthEngine } from '../core/google/earthengine';
import { loadJobFile, type Job } from '../core/job/job-file';
import { jobOutputShape, staticShape } from '../core/recipes/output-shape';
import { connect } from './connect';

/**
 * `tessera grid JOB.json`: a job file in place of the ROI gives the ROI, the grid and (for the estimate)
 * the recipe; the grid options would contradict it and are refused.
 */
export async function gridInputFromJob(path: string, opts: { crs?: string; scale?: string; tilePixels?: string; layer?: string; bands?: string; dataType?: string }): Promise<Job | undefined> {
  if (!/\.json$/i.test(path) || !(await looksLikeJob(path))) return undefined;
  const given = (['crs', 'scale', 'tilePixels', 'layer', 'bands', 'dataType'] as const).filter((k) => opts[k] !== undefined);
  if (given.length) {
    const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new UserError(`${path} is a job file: it gives the ROI, grid and bands; drop ${given.map(flag).join(', ')} (or give the ROI file instead)`);
  }
  return loadJobFile(path);
}

/** A JSON object with a job's "name" and "grid" (a GeoJSON file has neither). */
async function looksLikeJob(path: string): Promise<boolean> {
  try {
    const raw = JSON.parse((await readFile(path, 'utf8')).replace(/^\uFEFF/, '')) as unknown;
    return typeof raw === 'object' && raw !== null && 'grid' in raw && 'name' in raw;
  } catch {
    return false; // not JSON: loadRoi says what is wrong with it
  }
}

export function required(value: string | undefined, flag: string): string {
  if (value === undefined) throw new UserError(`missing ${flag} (or give a job file instead of the ROI)`);
  return value;
}

/**
 * The estimate of a job's outputs: the recipe's real bands when Earth Engine can be asked (`--emulator`,
 * or the stored sign-in), else the preset's declared ones, with a line saying so.
 */
export async function jobEstimate(job: Job, emulator: string | undefined, pixelsPerTile: number, tiles: number) {
  const warnings: string[] = [];
  let shape = staticShape(job);
  if (job.recipe) {
    try {
      const { session } = await connect(emulator, job.project);
      shape = await jobOutputShape(job, await EarthEngine.connect(session));
    } catch (e) {
      if (!isUserError(e) || e.exitCode !== 3) throw e;
      warnings.push(`estimated from the recipe's declared bands (${e.message.replace(/:.*$/, '')}); sign in (or give --emulator) for the bands Earth Engine reports`);
    }
  }
  const f64 = float64Warning(shape, job.export.dataType !== undefined);
  if (f64) warnings.push(f64);
  const tooBig = maxPixelsProblem(pixelsPerTile, job.export.maxPixels);
  if (tooBig) warnings.push(tooBig);
  const bytesPerTile = pixelsPerTile * shape.bytesPerPixel;
  return {
    warnings,
    estimate: {
      bands: shape.bands,
      dataType: shape.dataType as DataTypeName,
      pixelsPerTile,
      bytesPerTile,
      totalPixels: pixelsPerTile * tiles,
      totalBytes: bytesPerTile * tiles,
      source: shape.source,
      maxPixelsSent: maxPixelsSent(pixelsPerTile, job.export.maxPixels),
    },
  };
}
