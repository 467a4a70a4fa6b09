import { describe, expect, it } from 'vitest';
import { classifyTaskFailure, retryDelaySeconds, isOffline, localDiskProblem } from '../../main/core/engine/failures';
import { DRIVE_FULL_MESSAGE } from '../../shared/messages';

describe('what a failed task means', () => {
  it.each([
    ['Computation timed out.', 'split'],
    ['User memory limit exceeded.', 'split'],
    ['Internal error.', 'transient'],
    ['Internal error encountered.', 'transient'],
    ['The service is currently unavailable.', 'transient'],
    ["Quota exceeded for quota metric 'Number of read requests' and limit 'Number of read requests per minute per user'", 'transient'],
    ['Too many concurrent aggregations.', 'transient'],
    ['Invalid JSON: Error: read ECONNRESET', 'transient'],
    [DRIVE_FULL_MESSAGE, 'drive-full'],
    ['Export too large: specified 200000000 pixels (max: 100000000). Specify higher maxPixels value if you intend to export a large area.', 'permanent'],
    ["Image.select: Pattern 'B99' did not match any bands.", 'permanent'],
    ['not emulated: function Image.fancy', 'permanent'],
  ])('%s → %s', (message, kind) => {
    expect(classifyTaskFailure(message)).toBe(kind);
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(retryDelaySeconds(1, () => 0.5)).toBe(30);
    expect(retryDelaySeconds(3, () => 0.5)).toBe(120);
    expect(retryDelaySeconds(30, () => 0.5)).toBe(1800);
    expect(retryDelaySeconds(1, () => 0)).toBe(15);
    expect(retryDelaySeconds(1, () => 0.999)).toBeCloseTo(44.97, 1);
  });

  it('tells offline and disk problems apart from a failed request', () => {
    expect(isOffline(new Error('Invalid JSON: Error: connect ECONNREFUSED 127.0.0.1:9'))).toBe(true);
    expect(isOffline(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))).toBe(true);
    expect(isOffline(new Error('read ECONNRESET'))).toBe(false);
    expect(localDiskProblem(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toMatch(/full/);
    expect(localDiskProblem(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeUndefined();
  });
});
