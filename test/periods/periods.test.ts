import { describe, expect, it } from 'vitest';
import { comparePeriods, descriptionProblem, parsePeriods, planUnits, tileIdBound, unitParts, type Period } from '../../main/core/periods';
import { countByPeriod } from '../../main/core/periods/status';
import { parseJob } from '../../main/core/job/job-file';
import { filePrefix, periodMosaicPath, taskDescription, unitOutputDir } from '../../main/core/sync/names';
import { judgeFiles, tolerantOutputPattern } from '../../main/core/sync/ownership';
import { tileOfOutputName } from '../../main/core/sync/local-guard';
import { findForeignOperations } from '../../main/core/engine/foreign-ops';
import type { Operation } from '../../main/core/google/earthengine';
import type { TileRecord } from '../../main/core/job/state';
import { foreignOutputFiles } from '../../main/core/doctor/ownership';
import { isPeriodAware, paramsForPeriod, recipeUnit } from '../../main/core/recipes/period';

const ids = (ps: Period[]) => ps.map((p) => p.id);

describe('periods: generated ranges (docs/periods.md)', () => {
  it('months, quarters and years get calendar ids and half-open bounds', () => {
    const months = parsePeriods({ start: '2020-11-01', end: '2021-02-01', every: 'month' });
    expect(months).toEqual([
      { id: '2020-11', start: '2020-11-01', end: '2020-12-01' },
      { id: '2020-12', start: '2020-12-01', end: '2021-01-01' },
      { id: '2021-01', start: '2021-01-01', end: '2021-02-01' },
    ]);
    expect(ids(parsePeriods({ start: '2020-01-01', end: '2021-01-01', every: 'quarter' }))).toEqual(['2020-Q1', '2020-Q2', '2020-Q3', '2020-Q4']);
    expect(parsePeriods({ start: '2019-01-01', end: '2021-01-01', every: 'year' })).toEqual([
      { id: '2019', start: '2019-01-01', end: '2020-01-01' },
      { id: '2020', start: '2020-01-01', end: '2021-01-01' },
    ]);
  });

  it('days, weeks and P{n}D are named by their first day; the last one ends at "end"', () => {
    expect(ids(parsePeriods({ start: '2020-02-28', end: '2020-03-02', every: 'day' }))).toEqual(['2020-02-28', '2020-02-29', '2020-03-01']);
    const weeks = parsePeriods({ start: '2020-01-06', end: '2020-01-24', every: 'week' });
    expect(weeks).toEqual([
      { id: '2020-01-06', start: '2020-01-06', end: '2020-01-13' },
      { id: '2020-01-13', start: '2020-01-13', end: '2020-01-20' },
      { id: '2020-01-20', start: '2020-01-20', end: '2020-01-24' },
    ]);
    expect(ids(parsePeriods({ start: '2021-01-01', end: '2021-02-05', every: 'P16D' }))).toEqual(['2021-01-01', '2021-01-17', '2021-02-02']);
  });

  it.each([
    [{ start: '2020-01-15', end: '2020-03-01', every: 'month' }, /"periods\.start": 2020-01-15 must be the first day of a month/],
    [{ start: '2020-02-01', end: '2021-01-01', every: 'quarter' }, /"periods\.start".*first day of a quarter/],
    [{ start: '2020-01-01', end: '2020-03-15', every: 'month' }, /"periods\.end": 2020-03-15 cuts the last month short; give 2020-04-01/],
    [{ start: '2020-01-01', end: '2020-01-01', every: 'day' }, /"periods\.end": must be after "start"/],
    [{ start: '2021-02-30', end: '2021-04-01', every: 'month' }, /"periods\.start": "2021-02-30" is not a date/],
    [{ start: '2020-01-01', end: '2021-01-01', every: 'fortnight' }, /"periods\.every": "fortnight" is not day, week, month/],
    [{ start: '2020-01-01', end: '2021-01-01' }, /"periods\.every": is missing/],
    [{ start: '2020-01-01', end: '2021-01-01', every: 'P0D' }, /"periods\.every"/],
    [{ start: '1900-01-01', end: '2100-01-01', every: 'day' }, /"periods": makes 73049 periods, more than 10000/],
    [{ start: '2020-01-01', end: '2021-01-01', every: 'month', step: 2 }, /"periods\.step": unknown key/],
    ['monthly', /"periods": must be/],
    [[], /"periods": has no period/],
  ])('%j is refused naming the key', (raw, message) => {
    expect(() => parsePeriods(raw)).toThrow(message);
  });
});

describe('periods: explicit lists', () => {
  it('keeps the given ids and dates', () => {
    expect(parsePeriods([{ id: '2020-dry', start: '2020-05-01', end: '2020-10-01' }, { id: '2020-wet', start: '2020-10-01', end: '2021-05-01' }])).toHaveLength(2);
  });

  it.each([
    [[{ id: 'a_b', start: '2020-01-01', end: '2020-02-01' }], /"periods\[0\]\.id": "a_b" is not allowed; an id is 1–20 letters, digits or "-"/],
    [[{ id: 'x'.repeat(21), start: '2020-01-01', end: '2020-02-01' }], /"periods\[0\]\.id"/],
    [[{ start: '2020-01-01', end: '2020-02-01' }], /"periods\[0\]\.id": is missing/],
    [[{ id: 'a', start: '2020-01-01', end: '2020-02-01' }, { id: 'a', start: '2020-02-01', end: '2020-03-01' }], /"periods\[1\]\.id": "a" is used twice/],
    [[{ id: 'a', start: '2020-02-01', end: '2020-01-01' }], /"periods\[0\]\.end": must be after "start"/],
    [[{ id: 'a', start: '2020-01-01', end: '2020-02-01', label: 'x' }], /"periods\[0\]\.label": unknown key/],
  ])('%j is refused naming the key', (raw, message) => {
    expect(() => parsePeriods(raw)).toThrow(message);
  });
});

describe('periods in the job file', () => {
  const base = { name: 'ts', roi: 'a.geojson', grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 1000 }, drive: { folder: 'ts' }, output: 'out' };

  it('a job without periods has none, and its fingerprint does not change', () => {
    const job = parseJob(base, '/j/job.json');
    expect(job.periods).toBeUndefined();
    expect(Object.keys(job.fingerprint)).not.toContain('periods');
  });

  it('parses periods and periodOrder (default time-first)', () => {
    const job = parseJob({ ...base, periods: { start: '2021-01-01', end: '2021-04-01', every: 'month' } }, '/j/job.json');
    expect(job.periods?.map((p) => p.id)).toEqual(['2021-01', '2021-02', '2021-03']);
    expect(job.periodOrder).toBe('time-first');
    expect(parseJob({ ...base, periods: { start: '2021-01-01', end: '2021-04-01', every: 'month' }, periodOrder: 'space-first' }, '/j/job.json').periodOrder).toBe('space-first');
  });

  it('errors in periods are one line naming the key', () => {
    expect(() => parseJob({ ...base, periods: { start: '2021-01-01', end: '2021-04-01', every: 'monthly' } }, '/j/job.json')).toThrow(/^job file: "periods\.every": "monthly" is not/);
    expect(() => parseJob({ ...base, periodOrder: 'space-first' }, '/j/job.json')).toThrow(/"periodOrder" goes with "periods"/);
  });

  it('a job whose descriptions could pass 100 characters is refused at load, naming the limit', () => {
    const long = { ...base, name: 'a'.repeat(40), splitDepth: 8, periods: [{ id: 'p'.repeat(20), start: '2020-01-01', end: '2020-02-01' }] };
    expect(() => parseJob(long, '/j/job.json')).toThrow(/job file: task descriptions could reach \d+ characters .*Earth Engine's limit of 100 characters/);
    expect(() => parseJob({ ...long, splitDepth: 2 }, '/j/job.json')).not.toThrow();
  });

  it('a preset with a date range takes it from the periods; giving it too is refused', () => {
    const recipe = { preset: 's2-median', params: { bands: ['B4'] } };
    expect(() => parseJob({ ...base, recipe }, '/j/job.json')).toThrow(/params\.start is missing/);
    expect(() => parseJob({ ...base, recipe, periods: { start: '2021-01-01', end: '2021-04-01', every: 'month' } }, '/j/job.json')).not.toThrow();
    expect(() => parseJob({ ...base, recipe: { preset: 's2-median', params: { start: '2021-01-01', end: '2021-02-01' } }, periods: { start: '2021-01-01', end: '2021-04-01', every: 'month' } }, '/j/job.json')).toThrow(
      /"recipe\.params\.start" goes away in a job with "periods"/,
    );
  });
});

describe('the description limit', () => {
  it('is computed from the deepest split child, the longest period id and the last attempt', () => {
    const periods = parsePeriods({ start: '2021-01-01', end: '2021-03-01', every: 'month' });
    expect(descriptionProblem({ job: 'j', tileId: 'x1_y2', splitDepth: 2, retries: 3, periods })).toBeUndefined();
    expect(tileIdBound({ scale: 10, tilePixels: 1000 })).toBe('xm9999_ym9999');
    const problem = descriptionProblem({ job: 'j'.repeat(40), tileId: 'x'.repeat(30), splitDepth: 3, retries: 10, periods: [{ id: 'p'.repeat(20), start: '2020-01-01', end: '2020-02-01' }] });
    expect(problem).toMatch(/could reach 105 characters/);
  });
});

describe('names of units (docs/names.md, docs/periods.md#names)', () => {
  it('without periods nothing changes', () => {
    expect(filePrefix('bav', 'x1_y2_q0')).toBe('bav_x1_y2_q0');
    expect(taskDescription('bav', 'x1_y2', 3)).toBe('bav_x1_y2_a3');
    expect(unitOutputDir('/out', 'x1_y2')).toBe('/out');
  });

  it('with periods: prefix, description, folder and mosaic carry the period; split children keep it', () => {
    const [unit] = planUnits([{ id: 'x1_ym2' }], [{ id: '2021-01', start: '2021-01-01', end: '2021-02-01' }]);
    expect(unit!.id).toBe('2021-01@x1_ym2');
    expect(filePrefix('bav', unit!.id)).toBe('bav_x1_ym2_2021-01');
    expect(filePrefix('bav', `${unit!.id}_q0`)).toBe('bav_x1_ym2_q0_2021-01');
    expect(taskDescription('bav', unit!.id, 2)).toBe('bav_x1_ym2_2021-01_a2');
    expect(unitOutputDir('/out', unit!.id)).toBe('/out/2021-01');
    expect(periodMosaicPath('/out', 'bav', '2021-01')).toBe('/out/2021-01/bav_2021-01.vrt');
    expect(unitParts('2021-01@x1_ym2_q3')).toEqual({ periodId: '2021-01', tileId: 'x1_ym2_q3' });
  });

  it('ownership accepts the period names and nothing looser', () => {
    const p = tolerantOutputPattern('bav', '2021-01@x1_y2');
    expect(p.test('bav_x1_y2_2021-01.tif')).toBe(true);
    expect(p.test('bav_x1_y2_2021-01-0000000000-0000000256.tif')).toBe(true);
    expect(p.test('bav_x1_y2.tif')).toBe(false);
    expect(p.test('bav_x1_y2_2021-02.tif')).toBe(false);
    expect(p.test('bav_x1_y2_q0_2021-01.tif')).toBe(false);
    const f = { id: '1', name: 'bav_x1_y2_2021-01.tif', size: 1, md5: 'x', createdTime: '2021-06-01T00:00:01Z' };
    expect(judgeFiles([f], 'bav', '2021-01@x1_y2', '2021-06-01T00:00:00Z').owned).toHaveLength(1);
    expect(tileOfOutputName('bav', 'bav_x1_y2_q1_2021-01.tif', true)).toBe('2021-01@x1_y2_q1');
    // A period id that looks like a split suffix still reads right when the job has periods.
    expect(tileOfOutputName('bav', 'bav_x1_y2_q1.tif', true)).toBe('q1@x1_y2');
    expect(tileOfOutputName('bav', 'bav_x1_y2_q1.tif', false)).toBe('x1_y2_q1');
  });

  it('tessera doctor reads period names: the file of a live unit is not foreign, a stray one is', () => {
    const unit = { id: '2021-01@x1_y2', state: 'running', attempt: 1, files: [], history: [{ state: 'submitting', at: '2021-06-01T00:00:00Z' }] } as unknown as TileRecord;
    const tiles = Object.fromEntries([[unit.id, unit]]);
    const file = (id: string, name: string) => ({ id, name, createdTime: '2021-06-01T00:00:05Z', parent: 'f' });
    const foreign = foreignOutputFiles('bav', [file('1', 'bav_x1_y2_2021-01.tif'), file('2', 'bav_x1_y2_2021-02.tif')], tiles);
    expect(foreign.map((f) => f.id)).toEqual(['2']);
  });

  it('a foreign operation of a period job is traced to its unit', () => {
    const tiles = Object.fromEntries([['2021-01@x1_y2', { id: '2021-01@x1_y2', state: 'pending', attempt: 0 } as TileRecord]]);
    const op = { name: 'projects/p/operations/1', metadata: { description: 'bav_x1_y2_2021-01_a1', state: 'RUNNING' } } as Operation;
    expect(findForeignOperations([op], 'bav', tiles).map((f) => [f.tileId, f.attempt])).toEqual([['2021-01@x1_y2', 1]]);
  });
});

describe('planning order and changes', () => {
  const months = parsePeriods({ start: '2021-01-01', end: '2021-03-01', every: 'month' });
  it('time-first sends period 1 everywhere first; space-first every period of a tile first', () => {
    const tiles = [{ id: 'x0_y0' }, { id: 'x1_y0' }];
    expect(planUnits(tiles, months).map((u) => u.id)).toEqual(['2021-01@x0_y0', '2021-01@x1_y0', '2021-02@x0_y0', '2021-02@x1_y0']);
    expect(planUnits(tiles, months, 'space-first').map((u) => u.id)).toEqual(['2021-01@x0_y0', '2021-02@x0_y0', '2021-01@x1_y0', '2021-02@x1_y0']);
    expect(planUnits(tiles, undefined)).toEqual(tiles);
  });

  it('adding extends; removing or changing a period with work is refused with the reason', () => {
    const more = parsePeriods({ start: '2021-01-01', end: '2021-04-01', every: 'month' });
    expect(comparePeriods(months, more, () => true)).toEqual({ ok: true, added: [more[2]], dropped: [] });
    const fewer = more.slice(1);
    expect(comparePeriods(months, fewer, (id) => id === '2021-01')).toMatchObject({ ok: false, message: expect.stringMatching(/period "2021-01" was removed, but it already has work/) });
    expect(comparePeriods(months, fewer, () => false)).toEqual({ ok: true, added: [more[2]], dropped: [months[0]] });
    const moved = [{ ...months[0]!, end: '2021-01-15' }, months[1]!];
    expect(comparePeriods(months, moved, () => true)).toMatchObject({ ok: false, message: expect.stringMatching(/"2021-01" changed from 2021-01-01…2021-02-01 to 2021-01-01…2021-01-15/) });
    expect(comparePeriods(months, moved, () => false)).toMatchObject({ ok: true });
    expect(comparePeriods(undefined, months, () => false)).toMatchObject({ ok: false, message: expect.stringMatching(/started without "periods"/) });
    expect(comparePeriods(undefined, undefined, () => true)).toEqual({ ok: true, added: [], dropped: [] });
  });

  it('counts units per period and state for status', () => {
    const units = [{ id: '2021-01@x0_y0', state: 'done' as const }, { id: '2021-01@x1_y0', state: 'failed' as const }, { id: '2021-02@x0_y0', state: 'pending' as const }];
    expect(countByPeriod(units, [...months, { id: '2021-03', start: '2021-03-01', end: '2021-04-01' }])).toEqual({ '2021-01': { done: 1, failed: 1 }, '2021-02': { pending: 1 }, '2021-03': {} });
  });
});

describe('recipes and periods (docs/periods.md#recipes)', () => {
  const feb = { id: '2021-02', start: '2021-02-01', end: '2021-03-01' };
  it('period-aware presets take start and end from the period; others are left alone', () => {
    expect(paramsForPeriod('s2-median', { bands: ['B4'] }, feb)).toEqual({ bands: ['B4'], start: '2021-02-01', end: '2021-03-01' });
    expect(paramsForPeriod('landsat-stm', {}, feb)).toEqual({ start: '2021-02-01', end: '2021-03-01' });
    expect(paramsForPeriod('asset', { id: 'a/b' }, feb)).toEqual({ id: 'a/b' });
    expect(paramsForPeriod('points', { image: { preset: 's2-median', params: {} } }, feb)).toEqual({ image: { preset: 's2-median', params: { start: '2021-02-01', end: '2021-03-01' } } });
    expect(paramsForPeriod('s2-median', { bands: ['B4'] }, undefined)).toEqual({ bands: ['B4'] });
    expect(isPeriodAware('asset')).toBe(false);
    expect(isPeriodAware('points', { image: { preset: 'asset' } })).toBe(false);
  });

  it('a unit reaches the recipe as its tile plus its period', () => {
    const periods = new Map([[feb.id, feb]]);
    const unit = { id: '2021-02@x1_y2_q0', crs: 'EPSG:3035', crsTransform: [10, 0, 0, 0, -10, 0], dimensions: [1, 1] as [number, number] };
    expect(recipeUnit(unit, periods)).toEqual({ tile: { ...unit, id: 'x1_y2_q0' }, period: feb });
    expect(recipeUnit({ ...unit, id: 'x1_y2' }, periods).period).toEqual(feb); // the preflight's bare tile: the first period
    expect(() => recipeUnit({ ...unit, id: '2020-01@x1_y2' }, periods)).toThrow(/names period "2020-01", which the job file does not have/);
  });
});
