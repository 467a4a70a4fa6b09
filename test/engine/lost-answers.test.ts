/**
 * A lost answer is never a failure (docs/ownership.md, "Lost answers"): exports whose connection closes
 * cleanly after they took effect ("other side closed") are re-sent with the same requestId; no tile fails
 * and no attempt makes two operations.
 */
import { describe, expect, it } from 'vitest';
import { checkFinishedJob, runJob, useEmulator } from '../helpers/emulator';
import { rectangleJob } from '../helpers/job';
import { tessera } from '../helpers/cli';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20, slots: 8, lostAnswerMode: 'close', lostAnswerRate: 0.1, seed: 5 });

describe('lost answers', () => {
  it('a 94-tile job under --lost-answer-mode close --lost-answer-rate 0.1 ends exit 0: no failed tile, no requestId used twice', { timeout: 300_000 }, async () => {
    const job = rectangleJob('closed', 47, 2, { maxInFlight: 12, downloads: 4 });
    const r = await runJob(job.file, emu.url, {}, 280_000);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const st = JSON.parse(tessera(['status', job.file, '--json']).stdout) as { tiles: Record<string, number> };
    expect(st.tiles.done).toBe(94);
    expect(st.tiles.failed ?? 0).toBe(0);
    const res = await fetch(`${emu.url}/__emulator/state`);
    const state = (await res.json()) as { operations: { requestId: string | null; description: string | null }[]; requests: Record<string, number> };
    const mine = state.operations.filter((o) => o.description?.startsWith('closed_'));
    const ids = mine.map((o) => o.requestId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(mine).toHaveLength(94);
    // Answers really were lost: some exports were sent more than once.
    expect(state.requests['POST /v1/projects/{project}/image:export']).toBeGreaterThan(94);
    await emu.sync();
    checkFinishedJob(emu.state(), 'closed', job.output, 94);
  });
});
