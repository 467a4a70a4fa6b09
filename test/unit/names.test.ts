import { describe, expect, it } from 'vitest';
import { outputPattern, safeOutputPath, taskDescription, filePrefix } from '../../main/core/sync/names';

describe('output names (docs/names.md)', () => {
  const p = outputPattern('bav', 'x1_y2');
  it.each([
    ['bav_x1_y2.tif', true],
    ['bav_x1_y2-0000000000-0000032768.tif', true],
    ['bav_x1_y2.csv', true],
    ['bav_x1_y20.tif', false], // a prefix match is not a match
    ['bav_x1_y2 (1).tif', false], // Drive's duplicate naming
    ['bav_x1_y2-12-34.tif', false],
    ['other_x1_y2.tif', false],
    ['../bav_x1_y2.tif', false],
    ['bav_x1_y2.tif.part', false],
  ])('%s → %s', (name, ok) => {
    expect(p.test(name)).toBe(ok);
  });

  it('descriptions and prefixes follow the contract', () => {
    expect(taskDescription('bav', 'x12_ym3', 2)).toBe('bav_x12_ym3_a2');
    expect(filePrefix('bav', 'x12_ym3')).toBe('bav_x12_ym3');
  });

  it('keeps every local path inside the output folder', () => {
    expect(safeOutputPath('/data/out', 'bav_x1_y2.tif')).toBe('/data/out/bav_x1_y2.tif');
    for (const evil of ['../evil.tif', '..', '.', '', 'a/b.tif', 'a\\b.tif', '/etc/passwd', 'x\0.tif', '..\\..\\evil.tif']) {
      expect(() => safeOutputPath('/data/out', evil)).toThrow(/refusing/);
    }
  });
});
