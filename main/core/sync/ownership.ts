import type { DriveFile } from '../google/drive';
import { filePrefix } from './names';

/**
 * Which Drive files are a tile's output, and which belong to someone else (docs/ownership.md, "Drive
 * files"). A file is the tile's output only when it is in the folder the operation wrote to (the caller
 * lists only that folder), its name is one of the tile's output names, and Drive created it no earlier
 * than the operation. Everything else with a matching name is foreign: left by an earlier run of a job
 * with the same name, or the user's own.
 */

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A tile's output names, tolerant of the part suffix: Earth Engine's split parts are `-{yMin}-{xMin}`
 * with ten zero-padded digits in every output seen, but nothing promises the padding, so any digits are
 * taken (docs/ownership.md, "Names").
 */
export function tolerantOutputPattern(job: string, tileId: string): RegExp {
  return new RegExp(`^${escapeRe(filePrefix(job, tileId))}(?:-(\\d+)-(\\d+))?\\.(tif|csv|geojson)$`);
}

/** The pixel offsets of a split part (`[yMin, xMin]`), or undefined for a whole-tile file. */
export function partOffsets(name: string, job: string, tileId: string): [number, number] | undefined {
  const m = tolerantOutputPattern(job, tileId).exec(name);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  return [Number(m[1]), Number(m[2])];
}

export interface OwnershipVerdict {
  /** The tile's own outputs. */
  owned: DriveFile[];
  /** Files with one of the tile's output names that Tessera must not touch. */
  foreign: DriveFile[];
  /** Names of which more than one file passes the rule: nobody can tell which is Earth Engine's. */
  ambiguous: string[];
}

/**
 * Sorts the files of the operation's folder. `createTime` is the operation's (RFC 3339); without it (a
 * journal written before the rule existed) names alone decide, as they did then.
 */
export function judgeFiles(files: readonly DriveFile[], job: string, tileId: string, createTime: string | undefined): OwnershipVerdict {
  const pattern = tolerantOutputPattern(job, tileId);
  const since = createTime === undefined ? undefined : Date.parse(createTime);
  const owned: DriveFile[] = [];
  const foreign: DriveFile[] = [];
  for (const f of files) {
    if (!pattern.test(f.name)) continue;
    if (since === undefined || Number.isNaN(since)) {
      owned.push(f);
      continue;
    }
    const created = f.createdTime === undefined ? Number.NaN : Date.parse(f.createdTime);
    // No createdTime means it cannot be shown to be ours: foreign (the harsher reading).
    if (!Number.isNaN(created) && created >= since) owned.push(f);
    else foreign.push(f);
  }
  const seen = new Map<string, number>();
  for (const f of owned) seen.set(f.name, (seen.get(f.name) ?? 0) + 1);
  const ambiguous = [...seen].filter(([, n]) => n > 1).map(([name]) => name);
  return { owned: owned.filter((f) => !ambiguous.includes(f.name)), foreign, ambiguous };
}

export interface Completeness {
  complete: boolean;
  /** Names of the outputs still missing, as Earth Engine would write them. */
  missing: string[];
}

/**
 * Whether the owned files are all of the tile's output. Tables and unsplit images are one file. Split
 * images are parts on a regular grid: the part size is read from the offsets present (Earth Engine may
 * cut smaller than `fileDimensions` asked), else taken as `fileDimensions`, and every cell of that grid
 * must be there.
 */
export function completeness(owned: readonly DriveFile[], job: string, tileId: string, dimensions: readonly [number, number], fileDimensions: number, table: boolean): Completeness {
  const prefix = filePrefix(job, tileId);
  if (table || owned.some((f) => !f.name.endsWith('.tif'))) {
    return owned.length >= 1 ? { complete: true, missing: [] } : { complete: false, missing: [`${prefix}.${table ? 'csv' : 'tif'}`] };
  }
  if (owned.some((f) => f.name === `${prefix}.tif`)) return { complete: true, missing: [] };
  const [w, h] = dimensions;
  const offsets = owned.map((f) => partOffsets(f.name, job, tileId)).filter((o): o is [number, number] => o !== undefined);
  if (offsets.length === 0 && w <= fileDimensions && h <= fileDimensions) return { complete: false, missing: [`${prefix}.tif`] };
  const step = (values: number[]) => {
    const positive = values.filter((v) => v > 0);
    return positive.length ? Math.min(...positive) : fileDimensions;
  };
  const sy = step(offsets.map((o) => o[0]));
  const sx = step(offsets.map((o) => o[1]));
  const have = new Set(offsets.map(([y, x]) => `${y}/${x}`));
  const missing: string[] = [];
  for (let y = 0; y < h; y += sy) {
    for (let x = 0; x < w; x += sx) {
      if (!have.has(`${y}/${x}`)) missing.push(`${prefix}-${pad10(y)}-${pad10(x)}.tif`);
    }
  }
  return { complete: missing.length === 0, missing };
}

function pad10(n: number): string {
  return String(n).padStart(10, '0');
}
