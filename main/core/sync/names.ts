import { isAbsolute, join, relative, sep } from 'node:path';
import { unitParts } from '../periods/units';

/**
 * File name prefix of a unit's outputs and its task description (docs/names.md#file-name-prefix). The id
 * is the journal's: a tile id, or `{periodId}@{tileId}` in a job with periods (docs/periods.md#names),
 * whose names become `{job}_{tileId}_{periodId}`.
 */
export function filePrefix(job: string, unitId: string): string {
  const { tileId, periodId } = unitParts(unitId);
  return periodId === undefined ? `${job}_${tileId}` : `${job}_${tileId}_${periodId}`;
}

export function taskDescription(job: string, unitId: string, attempt: number): string {
  return `${filePrefix(job, unitId)}_a${attempt}`;
}

/** The local folder of a unit's outputs: the job's output folder, or its period's subfolder. */
export function unitOutputDir(output: string, unitId: string): string {
  const { periodId } = unitParts(unitId);
  return periodId === undefined ? output : join(output, periodId);
}

/** The mosaic of one period: `{output}/{periodId}/{job}_{periodId}.vrt` (docs/periods.md#names). */
export function periodMosaicPath(output: string, job: string, periodId: string): string {
  return join(output, periodId, `${job}_${periodId}.vrt`);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A tile's outputs: `{job}_{tileId}.tif` or split parts `-yMin-xMin`, never matched by prefix alone. */
export function outputPattern(job: string, tileId: string): RegExp {
  return new RegExp(`^${escapeRe(filePrefix(job, tileId))}(-\\d{10}-\\d{10})?\\.(tif|csv|geojson)$`);
}

/**
 * Where a Drive file lands locally. Names come from the network: only a plain file name is accepted, and
 * the result is checked to stay inside the output folder.
 */
export function safeOutputPath(outputDir: string, name: string): string {
  if (!name || name === '.' || name === '..' || /[/\\\0]/.test(name) || name.includes('..')) {
    throw new Error(`refusing the Drive file name ${JSON.stringify(name)}: not a plain file name`);
  }
  const path = join(outputDir, name);
  const rel = relative(outputDir, path);
  if (!rel || rel.startsWith('..') || isAbsolute(rel) || rel.includes(sep)) {
    throw new Error(`refusing the Drive file name ${JSON.stringify(name)}: it would leave the output folder`);
  }
  return path;
}

/**
 * What follows `{job}_` in a unit's names: the tile id (split children `_q0`…), then, in a job with
 * periods, `_{periodId}`. Groups: 1 tile id, 2 period id. With periods the period part is required, so
 * a period id that looks like a split suffix (`q1`) still reads unambiguously.
 */
export function unitNameSource(withPeriods: boolean): string {
  return `(x(?:m?\\d+)_y(?:m?\\d+)(?:_q[0-3])*)${withPeriods ? '_([A-Za-z0-9-]{1,20})' : '()'}`;
}

/** Whether a journal's units are (tile, period) pairs: every unit id of such a job has the separator. */
export function hasPeriodUnits(units: Readonly<Record<string, unknown>>): boolean {
  for (const id in units) return id.includes('@');
  return false;
}
