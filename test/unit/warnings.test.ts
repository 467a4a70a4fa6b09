import { describe, expect, it } from 'vitest';
import { readableWarning, WarningRollup } from '../../main/core/engine/warnings';
import { createDisplay } from '../../main/cli/display';
import type { EngineEvent } from '../../shared/contract';

const json429 = '{"error":{"code":429,"message":"Rate Limit Exceeded","errors":[{"message":"Rate Limit Exceeded","domain":"usageLimits","reason":"rateLimitExceeded"}],"status":"RESOURCE_EXHAUSTED"}}';

describe('Google’s errors as one readable line', () => {
  it('unwraps a JSON error body into its message and HTTP status', () => {
    expect(readableWarning(`x3125_y2343: ${json429}; trying again next cycle`)).toBe('x3125_y2343: Rate Limit Exceeded (HTTP 429 RESOURCE_EXHAUSTED); trying again next cycle');
  });

  it('names tiles instead of operations and puts a batched poll’s lines on one line, grouped by message', () => {
    const ops: Record<string, string> = { 'projects/p/operations/AAA': 'x1_y1', 'projects/p/operations/BBB': 'x2_y1', 'projects/p/operations/CCC': 'x3_y1' };
    const raw = [
      "projects/p/operations/AAA: Quota exceeded for quota metric 'Number of read requests'.",
      "projects/p/operations/BBB: Quota exceeded for quota metric 'Number of read requests'.",
      'projects/p/operations/CCC: The service is currently unavailable.; trying again next cycle',
    ].join('\n');
    const line = readableWarning(raw, (op) => ops[op]);
    expect(line).not.toContain('\n');
    expect(line).not.toContain('projects/');
    expect(line).toBe("x1_y1, x2_y1: Quota exceeded for quota metric 'Number of read requests'.; x3_y1: The service is currently unavailable.; trying again next cycle");
  });
});

describe('repeated warnings roll up', () => {
  it('shows the first of a kind, then one line with the count and the tiles', () => {
    let t = 0;
    const r = new WarningRollup(60_000, 200, () => t);
    const shown: string[] = [];
    for (let k = 0; k < 12; k++) shown.push(...r.add(`x${k}_y1: Rate Limit Exceeded (HTTP 429); trying again next cycle`));
    expect(shown).toEqual(['x0_y1: Rate Limit Exceeded (HTTP 429); trying again next cycle']);
    t = 61_000;
    expect(r.add('x1_y9: Internal error.')).toEqual(['…: Rate Limit Exceeded (HTTP 429); trying again next cycle (×11 more; tiles x1_y1, x2_y1, x3_y1 and 8 more)', 'x1_y9: Internal error.']);
    expect(r.flush()).toEqual([]);
  });

  it('the run display prints a flood of identical warnings as two lines, and no raw JSON', () => {
    const written: string[] = [];
    const out = { isTTY: false, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const logged: string[] = [];
    const d = createDisplay(out, (l) => logged.push(l));
    for (let k = 0; k < 30; k++) {
      const e: EngineEvent = { type: 'log', job: 'j', level: 'warn', message: `x${k}_y1: ${json429}; trying again next cycle`, at: new Date().toISOString() };
      d.event(e);
    }
    d.close();
    const lines = written.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/×29 more/);
    expect(written.join('')).not.toContain('{"error"');
    // The job's log keeps every line (readable too).
    expect(logged).toHaveLength(30);
  });
});
