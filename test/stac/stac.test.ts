import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stacCollection, stacItem, inclusiveEnd, writeStac, newStacState } from '../../main/core/stac';
import { parseJob } from '../../main/core/job/job-file';
import { emptySnapshot, type TileRecord } from '../../main/core/job/state';
import { stacErrors } from './validate';

const period = { id: '2021-02', start: '2021-02-01', end: '2021-03-01' };
const transform: [number, number, number, number, number, number] = [10, 0, 4_000_000, 0, -10, 3_001_280];

describe('STAC objects (docs/stac.md)', () => {
  it('an Item of a finished unit is valid STAC 1.0.0 with the projection extension', () => {
    const item = stacItem({
      id: 'ts_x3125_y2344_2021-02', collection: 'ts', period, crs: 'EPSG:3035', crsTransform: transform, dimensions: [128, 64],
      outline: [[10, 50], [10.1, 50], [10.1, 50.1], [10, 50.1], [10, 50]], files: [{ href: './ts_x3125_y2344_2021-02.tif', name: 'ts_x3125_y2344_2021-02.tif' }], collectionHref: '../collection.json',
    });
    expect(stacErrors(item, 'item')).toEqual([]);
    expect(item.properties).toMatchObject({ datetime: '2021-02-01T00:00:00Z', start_datetime: '2021-02-01T00:00:00Z', end_datetime: '2021-02-28T23:59:59.999Z', 'proj:epsg': 3035, 'proj:transform': transform, 'proj:shape': [64, 128] });
    expect(item.bbox).toEqual([10, 50, 10.1, 50.1]);
    expect(item.assets.data).toMatchObject({ href: './ts_x3125_y2344_2021-02.tif', type: 'image/tiff; application=geotiff', roles: ['data'] });
  });

  it('the validator is not a rubber stamp: a broken Item is refused', () => {
    const item = stacItem({ id: 'x', collection: 'ts', period, crs: 'EPSG:3035', crsTransform: transform, dimensions: [1, 1], outline: [[0, 0], [1, 0], [1, 1], [0, 0]], files: [], collectionHref: '../collection.json' });
    expect(stacErrors({ ...item, properties: { ...item.properties, datetime: 'yesterday' } }, 'item').length).toBeGreaterThan(0);
    expect(stacErrors({ ...item, properties: { ...item.properties, 'proj:shape': [1] } }, 'item').length).toBeGreaterThan(0);
    expect(stacErrors({ ...item, bbox: undefined } as never, 'item').length).toBeGreaterThan(0);
  });

  it('the Collection is valid and spans the periods', () => {
    const c = stacCollection({ id: 'ts', description: 'd', bbox: [10, 50, 11, 51], start: '2021-01-01', end: '2021-04-01', items: ['./2021-01/a.json'] });
    expect(stacErrors(c, 'collection')).toEqual([]);
    expect((c.extent as { temporal: { interval: string[][] } }).temporal.interval).toEqual([['2021-01-01T00:00:00Z', '2021-03-31T23:59:59.999Z']]);
    expect(inclusiveEnd('2021-01-01')).toBe('2020-12-31T23:59:59.999Z');
  });
});

describe('writing the catalog as units finish', () => {
  it('adds an Item per finished unit and rewrites the Collection, each file whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-stac-'));
    const job = parseJob({ name: 'ts', roi: 'a.geojson', grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 128 }, drive: { folder: 'ts' }, output: 'out', periods: { start: '2021-01-01', end: '2021-03-01', every: 'month' } }, join(dir, 'job.json'));
    const unit = (id: string, state: TileRecord['state']): TileRecord => ({
      id, crs: 'EPSG:3035', crsTransform: transform, dimensions: [128, 128], state, attempt: 1, history: [],
      files: [{ id: 'f', name: `ts_${id.split('@')[1]}_${id.split('@')[0]}.tif`, size: 1, md5: 'x', verified: true, cleaned: true }],
    });
    for (const m of ['2021-01', '2021-02']) mkdirSync(join(dir, 'out', m), { recursive: true }); // the units' outputs are there
    const state = emptySnapshot();
    const stac = newStacState();
    const a = unit('2021-01@x3125_y2344', 'done');
    const b = unit('2021-02@x3125_y2344', 'running');
    const path = await writeStac(job, state, [a, b], stac);
    expect(path).toBe(join(dir, 'out', 'collection.json'));
    const itemPath = join(dir, 'out', '2021-01', 'ts_x3125_y2344_2021-01.json');
    const item = JSON.parse(readFileSync(itemPath, 'utf8')) as { stac_extensions: string[]; links: { rel: string; href: string }[]; assets: { data: { href: string } } };
    expect(stacErrors(item, 'item')).toEqual([]);
    expect(item.assets.data.href).toBe('./ts_x3125_y2344_2021-01.tif');
    expect(item.links.find((l) => l.rel === 'collection')?.href).toBe('../collection.json');
    expect(existsSync(join(dir, 'out', '2021-02', 'ts_x3125_y2344_2021-02.json'))).toBe(false);
    await writeStac(job, state, [a, { ...b, state: 'done' }], stac);
    const collection = JSON.parse(readFileSync(path!, 'utf8')) as { stac_extensions: string[]; links: { rel: string; href: string }[] };
    expect(stacErrors(collection, 'collection')).toEqual([]);
    expect(collection.links.filter((l) => l.rel === 'item').map((l) => l.href)).toEqual(['./2021-01/ts_x3125_y2344_2021-01.json', './2021-02/ts_x3125_y2344_2021-02.json']);
  });
});
