import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../main/common/atomic-write';
import { applyEntry, emptySnapshot, type JobSnapshot, type TilePlan } from '../../main/core/job/state';
import { decodeSnapshot, snapshotChunks } from '../../main/core/job/snapshot-codec';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A planned job of `n` units (about 60 bytes each in the snapshot). */
function planned(n: number): JobSnapshot {
  const s = emptySnapshot();
  const tiles: TilePlan[] = [];
  for (let k = 0; k < n; k++) tiles.push({ id: `2021-01@x${k}_y0`, crs: 'EPSG:3035', crsTransform: [10, 0, 4_000_000 + k * 80, 0, -10, 3_000_000], dimensions: [8, 8] });
  applyEntry(s, { seq: 1, at: '2026-01-01T00:00:00.000Z', type: 'plan', tiles });
  return s;
}

describe('the snapshot is made while it is written (docs/scale.md, "The snapshot on disk")', () => {
  it('makes each buffer of about a megabyte only when the writer takes it, never all of them at once', () => {
    const state = planned(60_000);
    let read = 0;
    const tiles = state.tiles;
    const counted = new Proxy(tiles, { get: (t, id) => (read++, Reflect.get(t, id)) });
    const chunks = snapshotChunks({ ...state, tiles: counted })[Symbol.iterator]();
    const first = chunks.next();
    expect(first.done).toBe(false);
    expect(first.value!.length).toBeLessThan(1.1 * 2 ** 20);
    // The first megabyte holds a fraction of the units: the rest are not encoded yet.
    expect(read).toBeLessThan(30_000);
    const rest = [...{ [Symbol.iterator]: () => chunks }];
    expect(read).toBe(60_000);
    for (const c of rest) expect(c.length).toBeLessThan(1.1 * 2 ** 20);
    expect(rest.length).toBeGreaterThanOrEqual(2);
    const back = decodeSnapshot(Buffer.concat([first.value!, ...rest]).toString('utf8'));
    expect(Object.keys(back.tiles)).toEqual(Object.keys(tiles));
  });

  it('writes a sequence of chunks in one synchronous run, so live state cannot change between two of them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-chunks-'));
    dirs.push(dir);
    const seen: string[] = [];
    function* chunks(): Generator<Uint8Array> {
      // Anything else that runs (an append changing the state) would run here, between two chunks.
      void Promise.resolve().then(() => seen.push('microtask'));
      setImmediate(() => seen.push('immediate'));
      for (let k = 0; k < 4; k++) {
        seen.push(`chunk ${k}`);
        yield Buffer.from(`${k}`.repeat(1000));
      }
    }
    await writeFileAtomic(join(dir, 'snapshot.json'), chunks());
    expect(seen.slice(0, 4)).toEqual(['chunk 0', 'chunk 1', 'chunk 2', 'chunk 3']);
    expect(readFileSync(join(dir, 'snapshot.json'), 'utf8')).toBe(['0', '1', '2', '3'].map((d) => d.repeat(1000)).join(''));
  });
});
