import { mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TilePlan } from '../../main/core/job/state';
import { FileJobRepository, readJobState } from '../../main/core/job/repository';
import { PLAN_LINE_UNITS } from '../../main/core/job/plan-lines';

const AT = '2026-01-01T00:00:00.000Z';

/** `n` units of 8 × 8 px in one row of tiles. */
function units(n: number): TilePlan[] {
  return Array.from({ length: n }, (_, i) => ({ id: `x${i}_y0`, crs: 'EPSG:3035', crsTransform: [10, 0, 4_000_000 + i * 80, 0, -10, 3_000_000], dimensions: [8, 8] }) as TilePlan);
}

function jobDir(): string {
  return mkdtempSync(join(tmpdir(), 'tessera-plan-lines-'));
}

/** A job folder whose journal holds its meta line and the plan of `tiles` (in parts when large). */
async function plannedJob(tiles: TilePlan[]): Promise<string> {
  const dir = jobDir();
  const repo = await FileJobRepository.open(dir);
  await repo.append({ type: 'meta', patch: { fingerprint: { roi: 'f' } as never } }, { type: 'plan', tiles });
  await repo.close();
  return dir;
}

const lines = (dir: string) => readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean);

describe('a large plan in the job journal (docs/scale.md, "The plan in the journal")', () => {
  const big = units(PLAN_LINE_UNITS * 2 + 500);

  it('is written as several bounded lines and read back whole', async () => {
    const dir = jobDir();
    const repo = await FileJobRepository.open(dir);
    await repo.append({ type: 'meta', patch: { fingerprint: { roi: 'f' } as never } }, { type: 'plan', tiles: big });
    await repo.append({ type: 'tile', id: big[7]!.id, patch: { state: 'submitting', attempt: 1 } });
    await repo.close();

    const written = lines(dir);
    // meta, three parts of the plan, the tile entry: no line holds more than PLAN_LINE_UNITS units.
    expect(written).toHaveLength(5);
    for (const l of written) expect(Buffer.byteLength(l)).toBeLessThan(PLAN_LINE_UNITS * 200);

    const again = await FileJobRepository.open(dir);
    expect(Object.keys(again.state.tiles)).toEqual(big.map((u) => u.id));
    expect(again.state.meta.planned).toBe(true);
    expect(again.state.tiles[big[7]!.id]!.state).toBe('submitting');
    expect(again.state.seq).toBe(3);
    await again.close();
    expect(Object.keys((await readJobState(dir))!.tiles)).toHaveLength(big.length);
  });

  it('cut short by a crash is not taken for a plan, and the job plans again from there', async () => {
    const dir = await plannedJob(big);
    const [meta, part1, part2, part3] = lines(dir);
    // Killed while writing the last part: two whole parts and half of the third reached the disk.
    writeFileSync(join(dir, 'journal.jsonl'), `${meta}\n${part1}\n${part2}\n${part3!.slice(0, 1000)}`);

    expect(Object.keys((await readJobState(dir))!.tiles)).toHaveLength(0);
    const resumed = await FileJobRepository.open(dir);
    expect(Object.keys(resumed.state.tiles)).toHaveLength(0);
    expect(resumed.state.meta.planned).toBe(false);
    expect(resumed.state.meta.fingerprint).toEqual({ roi: 'f' });
    // The incomplete plan is cut away (never acknowledged), so the new plan does not follow its parts.
    expect(statSync(join(dir, 'journal.jsonl')).size).toBe(Buffer.byteLength(`${meta}\n`));
    await resumed.append({ type: 'plan', tiles: big });
    await resumed.close();

    const again = await FileJobRepository.open(dir);
    expect(Object.keys(again.state.tiles)).toHaveLength(big.length);
    expect(again.state.meta.planned).toBe(true);
    await again.close();
  });

  it('cut exactly between parts is not taken for a plan either', async () => {
    const dir = await plannedJob(big);
    const [meta, part1, part2] = lines(dir);
    writeFileSync(join(dir, 'journal.jsonl'), `${meta}\n${part1}\n${part2}\n`);

    const resumed = await FileJobRepository.open(dir);
    expect(Object.keys(resumed.state.tiles)).toHaveLength(0);
    expect(resumed.state.meta.planned).toBe(false);
    expect(statSync(join(dir, 'journal.jsonl')).size).toBe(Buffer.byteLength(`${meta}\n`));
    await resumed.close();
  });

  it('with a part missing in the middle is refused as damage, and the journal is left as it was', async () => {
    const dir = await plannedJob(big);
    const [meta, part1, , part3] = lines(dir);
    const damaged = `${meta}\n${part1}\n${part3}\n`;
    writeFileSync(join(dir, 'journal.jsonl'), damaged);

    await expect(FileJobRepository.open(dir)).rejects.toThrow(/journal is damaged: part 3 of the plan of seq 2 is out of order/);
    expect(readFileSync(join(dir, 'journal.jsonl'), 'utf8')).toBe(damaged);
  });

  it('written as one line by earlier versions still opens', async () => {
    const dir = jobDir();
    mkdirSync(dir, { recursive: true });
    const old = [
      { seq: 1, at: AT, type: 'meta', patch: { fingerprint: { roi: 'f' } as never } },
      { seq: 2, at: AT, type: 'plan', tiles: big },
      { seq: 3, at: AT, type: 'tile', id: big[20_000]!.id, patch: { state: 'submitting', attempt: 1 } },
    ];
    writeFileSync(join(dir, 'journal.jsonl'), old.map((e) => `${JSON.stringify(e)}\n`).join(''));

    const repo = await FileJobRepository.open(dir);
    expect(Object.keys(repo.state.tiles)).toHaveLength(big.length);
    expect(repo.state.tiles[big[20_000]!.id]!.state).toBe('submitting');
    expect(repo.state.seq).toBe(3);
    await repo.append({ type: 'tile', id: big[1]!.id, patch: { state: 'submitting', attempt: 1 } });
    await repo.close();
    const state = (await readJobState(dir))!;
    expect(state.tiles[big[1]!.id]!.state).toBe('submitting');
    expect(Object.keys(state.tiles)).toHaveLength(big.length);
  });
});
