import { describe, expect, it } from 'vitest';
import type { TileState } from '../../shared/contract';
import { CompactSnapshotSchema, decodeGrid, NO_UNIT, ringAt, STATE_CODE } from '../../shared/compact-view';
import type { TileView } from '../../shared/dashboard';
import { compactGridOf } from '../../main/core/host/compact-grid';
import { outline } from '../../main/core/host/map-geometry';
import { resolveCrs, transformer, WGS84 } from '../../main/core/geo/crs';
import { makeTile } from '../../main/core/grid';
import type { TileRecord } from '../../main/core/job/state';
import { UnitTable } from '../../renderer/units';
import { cellAt } from '../../renderer/map/grid-geometry';

/**
 * The compact snapshot's grid (docs/dashboard.md, "A million units") from the host's records to the page's
 * unit table: a UTM grid (tiles not straight in degrees) keeps each unit's state, its outline's corners
 * and its id; units off the grid stay objects.
 */
const CRS = resolveCrs('EPSG:32632');
const toWgs84 = transformer(CRS, WGS84);
const SPEC = { crs: CRS, scale: 10, tilePixels: 1000 };

function job(periods: string[] = []): { views: Map<string, TileView>; records: Record<string, TileRecord> } {
  const views = new Map<string, TileView>();
  const records: Record<string, TileRecord> = {};
  const add = (id: string, tile: Pick<TileRecord, 'crs' | 'crsTransform' | 'dimensions'>, state: TileState, attempt: number) => {
    records[id] = { id, ...tile, state, attempt, files: [], history: [] } as unknown as TileRecord;
    views.set(id, { id, state, attempt, ring: outline({ id, ...tile }) });
  };
  for (const [p, period] of (periods.length ? periods : [undefined]).entries()) {
    for (let j = 550; j < 553; j++) {
      for (let i = 50; i < 54; i++) {
        if (i === 53 && j === 552) continue; // outside the ROI: no unit
        const t = makeTile(SPEC, i, j);
        const id = period ? `${period}@${t.id}` : t.id;
        add(id, t, (i + j + p) % 3 === 0 ? 'done' : i === 51 && j === 551 ? 'split' : 'pending', (i + j) % 4);
      }
    }
    // A split child: a quarter of x51_y551, off the grid.
    const parent = makeTile(SPEC, 51, 551);
    const child = { crs: parent.crs, crsTransform: [10, 0, parent.crsTransform[2], 0, -10, parent.crsTransform[5]] as TileRecord['crsTransform'], dimensions: [500, 500] as [number, number] };
    add(period ? `${period}@x51_y551_0` : 'x51_y551_0', child, 'running', 1);
  }
  return { views, records };
}

describe('the compact grid of a hosted job', () => {
  it('sends the grid as bytes and corners, the split child as an object; the page reads every unit back', () => {
    const { views, records } = job();
    const { grid, rest } = compactGridOf(views, records);
    expect(rest.map((t) => t.id)).toEqual(['x51_y551_0']);
    expect(grid).toMatchObject({ template: 'x{i}_y{j}', i0: 50, j0: 550, cols: 4, rows: 3, periods: [] });
    // It is what the channel's schema accepts.
    expect(CompactSnapshotSchema.safeParse({ seq: 0, jobs: [] }).success).toBe(true);
    const data = decodeGrid(grid!);
    expect(data.states[2 * 4 + 3]).toBe(NO_UNIT);
    const units = new UnitTable(data);
    units.add(rest[0]!);
    expect(units.size).toBe(views.size);
    expect([...units.keys()].sort()).toEqual([...views.keys()].sort());
    for (const [id, view] of views) {
      const got = units.get(id)!;
      expect({ state: got.state, attempt: got.attempt }, id).toEqual({ state: view.state, attempt: view.attempt });
      if (id.endsWith('_0')) continue;
      // The ring's corners are the tile's true corners (UTM → degrees), within a centimetre or so.
      const [i, j] = id.slice(1).split('_y').map(Number) as [number, number];
      const want = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]].flatMap(([x, y]) => toWgs84(x! * 10_000, y! * 10_000));
      got.ring.forEach((v, k) => expect(Math.abs(v - want[k]!), `${id} corner ${k}`).toBeLessThan(2e-7));
      // A point inside the tile (its centre) finds that cell.
      const [lon, lat] = toWgs84((i + 0.5) * 10_000, (j + 0.5) * 10_000);
      expect(cellAt(data, lon, lat), id).toEqual([i - 50, j - 550]);
    }
    expect(units.has('x53_y552')).toBe(false);
    expect(units.get('x99_y550')).toBeUndefined();
    // A state change updates the bytes and the object already read.
    const seen = units.get('x50_y550')!;
    const before = seen.state;
    expect(units.update('x50_y550', 'failed', 3)).toEqual({ before });
    expect(seen.state).toBe('failed');
    expect(data.states[0]).toBe(STATE_CODE.failed);
    expect(units.update('x50_y550', 'failed', 3)).toBeUndefined();
  });

  it('keeps one layer of bytes per period, units `{period}@{tile}`', () => {
    const { views, records } = job(['2021', '2022']);
    const { grid, rest } = compactGridOf(views, records);
    expect(grid!.periods).toEqual(['2021', '2022']);
    expect(rest.map((t) => t.id).sort()).toEqual(['2021@x51_y551_0', '2022@x51_y551_0']);
    const units = new UnitTable(decodeGrid(grid!));
    for (const [id, view] of views) if (!id.endsWith('_0')) expect(units.get(id)?.state, id).toBe(view.state);
    const done = (p: string) => [...views.values()].filter((v) => v.id.startsWith(`${p}@`) && !v.id.endsWith('_0') && v.state === 'done').length;
    expect(units.gridCounts().map((c) => c[STATE_CODE.done])).toEqual([done('2021'), done('2022')]);
    expect(ringAt(decodeGrid(grid!), 0, 0)).toEqual(units.get('2022@x50_y550')!.ring);
  });

  it('sends a grid of scattered tiles as objects', () => {
    const views = new Map<string, TileView>();
    const records: Record<string, TileRecord> = {};
    for (const [i, j] of [[0, 0], [400, 400]]) {
      const t = makeTile(SPEC, i!, j!);
      records[t.id] = { ...t, state: 'pending', attempt: 0, files: [], history: [] } as unknown as TileRecord;
      views.set(t.id, { id: t.id, state: 'pending', attempt: 0, ring: outline(t) });
    }
    const { grid, rest } = compactGridOf(views, records);
    expect(grid).toBeNull();
    expect(rest).toHaveLength(2);
  });
});
