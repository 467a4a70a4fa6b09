import { mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyEntry, emptySnapshot, type JobSnapshot, type JournalEntry, type TilePlan, type TileRecord } from '../../main/core/job/state';
import { decodeSnapshot, encodeSnapshot } from '../../main/core/job/snapshot-codec';
import { FileJobRepository, readJobState } from '../../main/core/job/repository';
import { planUnits } from '../../main/core/periods';

const AT = '2026-01-01T00:00:00.000Z';
const periods = [
  { id: '2021-01', start: '2021-01-01', end: '2021-02-01' },
  { id: '2021-02', start: '2021-02-01', end: '2021-03-01' },
];

function plan(cols: number, rows: number): TilePlan[] {
  const tiles: TilePlan[] = [];
  for (let i = 0; i < cols; i++)
    for (let j = 0; j < rows; j++) tiles.push({ id: `x${i}_y${j}`, crs: 'EPSG:3035', crsTransform: [10, 0, 4_000_000 + i * 80, 0, -10, 3_000_000 - j * 80], dimensions: [8, j === rows - 1 ? 5 : 8] });
  return planUnits(tiles, periods as never);
}

/** The records as they were built before the compact representation: one fresh object graph per unit. */
function referencePlan(s: JobSnapshot, e: Extract<JournalEntry, { type: 'plan' }>): void {
  s.seq = e.seq;
  for (const t of e.tiles) s.tiles[t.id] ??= structuredClone({ ...t, state: 'pending', attempt: 0, files: [], history: [{ state: 'pending', at: e.at }] }) as TileRecord;
  s.meta.planned = true;
}

/** What a run journals for some units: a full life, a retry back to pending, a wait stamp on a pending unit. */
function events(ids: string[]): JournalEntry[] {
  const file = { id: 'f1', name: 'a.tif', size: 10, md5: 'x', verified: true, cleaned: true };
  const patches: [string, Record<string, unknown>][] = [
    [ids[0]!, { state: 'submitting', attempt: 1, requestId: 'r1', description: 'd1' }],
    [ids[0]!, { state: 'queued', operation: 'projects/p/operations/1' }],
    [ids[0]!, { state: 'done', files: [file] }],
    [ids[1]!, { state: 'submitting', attempt: 1 }],
    [ids[1]!, { state: 'pending', retriesUsed: 1, notBefore: AT, error: 'try again' }],
    [ids[2]!, { notBefore: AT }],
  ];
  return patches.map(([id, patch], k) => ({ seq: 10 + k, at: `2026-01-02T00:00:0${k}.000Z`, type: 'tile', id, patch }) as JournalEntry);
}

describe('compact state of planned units (docs/scale.md)', () => {
  const units = plan(4, 3);
  const entry = { seq: 1, at: AT, type: 'plan', tiles: units } as const;
  const ids = units.map((u) => u.id);
  const touched = [ids[5]!, ids[7]!, ids[20]!];

  it('plans and applies events to the same state as one object per unit did', () => {
    const compact = emptySnapshot();
    const reference = emptySnapshot();
    compact.meta.createdAt = reference.meta.createdAt;
    applyEntry(compact, entry);
    referencePlan(reference, entry);
    for (const e of events(touched)) {
      applyEntry(compact, e);
      applyEntry(reference, e);
    }
    expect(Object.keys(compact.tiles)).toEqual(Object.keys(reference.tiles));
    expect(JSON.parse(JSON.stringify(compact))).toEqual(JSON.parse(JSON.stringify(reference)));
    // Shared parts never leak from one unit into another.
    expect(compact.tiles[ids[6]!]!.history).toEqual([{ state: 'pending', at: AT }]);
    expect(compact.tiles[ids[6]!]!.files).toEqual([]);
  });

  it('gives planned units one shared, frozen history until their first change (a list per unit was ~60 MB at a million units)', () => {
    const s = emptySnapshot();
    applyEntry(s, entry);
    const [a, b] = [s.tiles[ids[0]!]!, s.tiles[ids[1]!]!];
    expect(a.history).toBe(b.history);
    expect(Object.isFrozen(a.history)).toBe(true);
    applyEntry(s, { seq: 2, at: '2026-01-02T00:00:00.000Z', type: 'tile', id: ids[0]!, patch: { state: 'submitting', attempt: 1 } });
    applyEntry(s, { seq: 3, at: '2026-01-02T00:00:01.000Z', type: 'tile', id: ids[0]!, patch: { state: 'queued' } });
    expect(a.history.map((h) => h.state)).toEqual(['pending', 'submitting', 'queued']);
    expect(b.history).toEqual([{ state: 'pending', at: AT }]);
    // A snapshot read back shares them again.
    const back = decodeSnapshot(Buffer.from(encodeSnapshot(s)).toString('utf8'));
    expect(back.tiles[ids[1]!]!.history).toBe(back.tiles[ids[2]!]!.history);
    expect(back.tiles[ids[0]!]!.history).toHaveLength(3);
  });

  it('writes a snapshot that reads back equal, in the same order, with touched units kept whole', () => {
    const s = emptySnapshot();
    applyEntry(s, entry);
    applyEntry(s, { ...entry, seq: 2, at: '2026-01-03T00:00:00.000Z', tiles: [{ id: 'late', crs: 'EPSG:4326', crsTransform: [1, 0, 0, 0, -1, 0], dimensions: [2, 2] }] });
    for (const e of events(touched)) applyEntry(s, e);
    const text = Buffer.from(encodeSnapshot(s)).toString('utf8');
    const back = decodeSnapshot(text);
    expect(Object.keys(back.tiles)).toEqual(Object.keys(s.tiles));
    expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(JSON.stringify(s)));
    // Untouched units are stored as rows: far smaller than their records.
    expect(text.length).toBeLessThan(JSON.stringify(s).length / 2);
    // The engine can go on from the decoded state: a planned unit takes events like any other.
    applyEntry(back, { seq: 30, at: AT, type: 'tile', id: ids[3]!, patch: { state: 'submitting', attempt: 1 } });
    expect(back.tiles[ids[3]!]!.history.map((h) => h.state)).toEqual(['pending', 'submitting']);
    expect(back.tiles[ids[4]!]!.history.map((h) => h.state)).toEqual(['pending']);
  });

  it('still reads a version-1 snapshot (one record per unit)', () => {
    const s = emptySnapshot();
    referencePlan(s, entry);
    const back = decodeSnapshot(JSON.stringify(s));
    expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(JSON.stringify(s)));
    expect(() => decodeSnapshot('{"version":9}')).toThrow(/unknown snapshot version 9/);
  });

  it('resumes a job from snapshot + journal to the state it had, under 200 bytes per unit on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-scale-state-'));
    const many = plan(60, 50); // 6,000 units
    const repo = await FileJobRepository.open(dir, { compactEvery: 4 });
    await repo.append({ type: 'plan', tiles: many });
    for (const e of events([many[0]!.id, many[1]!.id, many[2]!.id])) await repo.append({ type: 'tile', id: e.type === 'tile' ? e.id : '', patch: e.type === 'tile' ? e.patch : {} });
    await repo.compact();
    await repo.append({ type: 'tile', id: many[9]!.id, patch: { state: 'submitting', attempt: 1 } });
    const live = JSON.parse(JSON.stringify(repo.state)) as JobSnapshot;
    await repo.close();
    expect(JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8')).version).toBe(2);
    const bytes = statSync(join(dir, 'snapshot.json')).size + statSync(join(dir, 'journal.jsonl')).size;
    expect(bytes / many.length).toBeLessThan(200);
    const reopened = await FileJobRepository.open(dir);
    expect(Object.keys(reopened.state.tiles)).toEqual(Object.keys(live.tiles));
    expect(JSON.parse(JSON.stringify(reopened.state))).toEqual(live);
    await reopened.close();
    expect(JSON.parse(JSON.stringify(await readJobState(dir)))).toEqual(live);
  });

  it('reads an old job folder: a version-1 snapshot beside a journal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-scale-v1-'));
    mkdirSync(dir, { recursive: true });
    const s = emptySnapshot();
    referencePlan(s, entry);
    writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(s));
    writeFileSync(join(dir, 'journal.jsonl'), JSON.stringify({ seq: 2, at: AT, type: 'tile', id: ids[0], patch: { state: 'submitting', attempt: 1 } }) + '\n');
    const repo = await FileJobRepository.open(dir);
    expect(repo.state.tiles[ids[0]!]!.state).toBe('submitting');
    expect(Object.keys(repo.state.tiles)).toEqual(ids);
    await repo.close();
  });
});

describe('compaction of a large job (docs/scale.md, "When the snapshot is rewritten")', () => {
  /** The snapshot's identity (it changes each time a compaction replaces the file) and its size. */
  const snapshotOf = (dir: string) => {
    try {
      const s = statSync(join(dir, 'snapshot.json'), { bigint: true });
      return { id: `${s.ino}:${s.mtimeNs}:${s.size}`, bytes: Number(s.size) };
    } catch {
      return { id: 'none', bytes: 0 };
    }
  };

  /**
   * Plans `cols × rows × 2 periods` units, appends `entries` small tile entries (in groups of 40, as a
   * busy run's group commits do) and adds up the snapshots written after the plan's own one: each
   * rewrite encodes the whole state, so its bytes are its cost.
   */
  async function snapshotWrites(cols: number, rows: number, entries: number): Promise<{ rewrites: number; bytesPerEntry: number }> {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-compact-'));
    const units = plan(cols, rows);
    const repo = await FileJobRepository.open(dir, { compactEvery: 10 });
    await repo.append({ type: 'plan', tiles: units });
    const patch = (k: number) => ({ type: 'tile' as const, id: units[k % units.length]!.id, patch: { attempt: k } });
    for (let k = 0; k < 10; k++) await repo.append(patch(k)); // the plan's compaction
    await repo.append(patch(10));
    let last = snapshotOf(dir).id;
    let rewrites = 0;
    let bytes = 0;
    for (let k = 0; k < entries; k += 40) {
      await repo.append(...Array.from({ length: 40 }, (_, i) => patch(k + i)));
      const now = snapshotOf(dir);
      if (now.id !== last) {
        rewrites++;
        bytes += now.bytes;
      }
      last = now.id;
    }
    await repo.close();
    return { rewrites, bytesPerEntry: bytes / entries };
  }

  it('rewrites the snapshot after a number of entries that grows with the job, so its cost per entry stays flat', async () => {
    // Enough entries for the big job to rewrite its snapshot by the rule, not only once after its plan.
    const small = await snapshotWrites(30, 20, 24_000); // 1,200 units
    const big = await snapshotWrites(300, 20, 24_000); // 12,000 units
    expect(small.rewrites).toBeGreaterThan(1);
    expect(big.rewrites).toBeGreaterThan(0);
    // Before: a snapshot every 10 entries whatever its size, 10× the bytes per entry for 10× the units.
    expect(big.bytesPerEntry).toBeLessThanOrEqual(1.5 * small.bytesPerEntry);
  }, 60_000);
});
