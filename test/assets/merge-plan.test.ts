/**
 * The merge's plan and the job keys that steer it (issue 13): batches of at most 100 tile assets per
 * expression, levels of intermediate assets, the asset count a merge adds (for the asset gate), and the
 * `destination` keys `merge`, `imageMerge`, `mergedAsset`.
 */
import { describe, expect, it } from 'vitest';
import { MERGE_BATCH, mergeOutputCount, mergeTarget, mergeWanted, planSteps } from '../../main/core/engine/merge';
import { parseJob } from '../../main/core/job/job-file';

const base = { name: 'pj', roi: 'a.geojson', grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 64 }, output: 'out' };
const F = 'projects/p-proj/assets/f';
const job = (destination: Record<string, unknown>) => parseJob({ ...base, destination: { type: 'asset', folder: F, ...destination } }, '/tmp/j/job.json');

describe('merge plan', () => {
  it('merges up to 100 tiles in one expression, more in levels of intermediate assets', () => {
    const j = job({});
    const names = (n: number) => Array.from({ length: n }, (_, i) => `${F}/pj_x${i}_y0`);
    expect(MERGE_BATCH).toBe(100);
    expect(planSteps(j, names(100), `${F}/pj`)).toEqual([{ id: 'final', level: 1, inputs: names(100), output: `${F}/pj` }]);
    const steps = planSteps(j, names(25_001), `${F}/pj`);
    const byLevel = (l: number) => steps.filter((s) => s.level === l);
    expect(byLevel(1)).toHaveLength(251);
    expect(byLevel(2)).toHaveLength(3);
    expect(byLevel(3)).toEqual([{ id: 'final', level: 3, inputs: [`${F}/pj_merge_2_0`, `${F}/pj_merge_2_1`, `${F}/pj_merge_2_2`], output: `${F}/pj` }]);
    expect(steps.every((s) => s.inputs.length <= 100)).toBe(true);
    expect(byLevel(1).flatMap((s) => s.inputs)).toEqual(names(25_001)); // every tile exactly once, in order
    expect(mergeOutputCount('table', 25_001)).toBe(steps.length);
    expect(mergeOutputCount('table', 50)).toBe(1);
    expect(mergeOutputCount('table', 101)).toBe(3);
    expect(mergeOutputCount('mosaic', 10_000)).toBe(1);
  });

  it('reads merge, imageMerge and mergedAsset; defaults by kind; refuses them on Drive jobs', () => {
    expect(mergeWanted(job({}), true)).toBe(true);
    expect(mergeWanted(job({}), false)).toBe(false);
    expect(mergeWanted(job({ imageMerge: 'mosaic' }), false)).toBe(true);
    expect(mergeWanted(job({ merge: false }), true)).toBe(false);
    expect(mergeTarget(job({}), 'table')).toBe(`${F}/pj`);
    expect(mergeTarget(job({}), 'mosaic')).toBe(`${F}_mosaic`);
    expect(mergeTarget(job({ mergedAsset: 'projects/p-proj/assets/all/pts/' }), 'table')).toBe('projects/p-proj/assets/all/pts');
    // Changing them does not change what the tiles export.
    expect(job({ merge: false, imageMerge: 'mosaic' }).fingerprint).toEqual(job({}).fingerprint);
    expect(() => job({ imageMerge: 'tiles' })).toThrow(/imageMerge/);
    expect(() => job({ mergedAsset: 'projects/other-proj/assets/x' })).toThrow(/same project/);
    expect(() => parseJob({ ...base, destination: { type: 'drive', folder: 'x', merge: true } }, '/tmp/j/job.json')).toThrow(/belong to asset jobs/);
  });
});
