import { join, relative, sep } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write';
import { transformer, resolveCrs, WGS84 } from '../geo/crs';
import { tileOutline } from '../grid/geojson-out';
import type { Job } from '../job/job-file';
import type { JobSnapshot, TileRecord } from '../job/state';
import { unitParts } from '../periods/units';
import { filePrefix, unitOutputDir } from '../sync/names';
import { stacCollection } from './collection';
import { stacItem } from './item';

/**
 * Writes the job's STAC catalog as units finish (docs/stac.md): `{output}/collection.json` and, beside
 * each finished unit's GeoTIFF, `{prefix}.json` — its Item. Every file is written atomically; an Item is
 * written once per writer (a restarted run writes them again, same content), the Collection each time
 * items were added. Only jobs with periods and local image outputs get a catalog.
 */
export interface StacState {
  /** Unit ids whose Item is written, and each Item's path relative to the output folder and its bbox. */
  items: Map<string, { href: string; bbox: [number, number, number, number] }>;
}

export function newStacState(): StacState {
  return { items: new Map() };
}

const posix = (p: string) => p.split(sep).join('/');

export async function writeStac(job: Job, state: JobSnapshot, done: Iterable<TileRecord>, stac: StacState): Promise<string | undefined> {
  const periods = job.periods;
  if (!periods || job.assetFolder) return undefined;
  const byId = new Map(periods.map((p) => [p.id, p]));
  let fwd: ((x: number, y: number) => [number, number]) | undefined;
  let added = 0;
  for (const unit of done) {
    if (unit.state !== 'done' || stac.items.has(unit.id)) continue;
    const tifs = unit.files.filter((f) => f.verified && f.name.endsWith('.tif')).sort((a, b) => (a.name < b.name ? -1 : 1));
    const period = byId.get(unitParts(unit.id).periodId ?? '');
    if (!tifs.length || !period) continue;
    fwd ??= transformer(resolveCrs(unit.crs), WGS84);
    const dir = unitOutputDir(job.output, unit.id);
    const prefix = filePrefix(job.name, unit.id);
    const item = stacItem({
      id: prefix,
      collection: job.name,
      period,
      crs: unit.crs,
      crsTransform: unit.crsTransform,
      dimensions: unit.dimensions,
      outline: tileOutline({ id: unit.id, i: 0, j: 0, crs: unit.crs, crsTransform: unit.crsTransform, dimensions: unit.dimensions }, fwd),
      files: tifs.map((f) => ({ href: `./${f.name}`, name: f.name })),
      collectionHref: posix(relative(dir, join(job.output, 'collection.json'))),
    });
    const path = join(dir, `${prefix}.json`);
    await writeFileAtomic(path, `${JSON.stringify(item, null, 1)}\n`);
    stac.items.set(unit.id, { href: `./${posix(relative(job.output, path))}`, bbox: item.bbox });
    added++;
  }
  const path = join(job.output, 'collection.json');
  if (added === 0) return stac.items.size ? path : undefined;
  let bbox: [number, number, number, number] | undefined;
  const hrefs: string[] = [];
  for (const { href, bbox: b } of stac.items.values()) {
    hrefs.push(href);
    bbox = bbox ? [Math.min(bbox[0], b[0]), Math.min(bbox[1], b[1]), Math.max(bbox[2], b[2]), Math.max(bbox[3], b[3])] : [...b];
  }
  hrefs.sort();
  const collection = stacCollection({ id: job.name, description: `Tessera job ${job.name}: ${periods.length} periods from ${periods[0]!.start}`, bbox, start: periods.reduce((a, p) => (p.start < a ? p.start : a), periods[0]!.start), end: periods.reduce((a, p) => (p.end > a ? p.end : a), periods[0]!.end), items: hrefs });
  await writeFileAtomic(path, `${JSON.stringify(collection, null, 1)}\n`);
  return path;
}
