/** What `tessera run` says after a stop names where the exported outputs wait: Drive or the bucket. */
import { describe, expect, it } from 'vitest';
import { outputsPlace, stopReport } from '../../main/cli/session';
import type { JobProgress } from '../../shared/contract';

const progress = { job: 'bav', total: 4, queued: 1, running: 0, tiles: { done: 1, exported: 2 } } as unknown as JobProgress;

describe('stopReport', () => {
  it('a Drive job: exported tiles wait in Drive', () => {
    const lines = stopReport('stopped by Ctrl-C', progress, 'bav.json', outputsPlace({}));
    expect(lines).toContain('  2 tiles exported and waiting in Drive (downloads resume where they stopped).');
  });

  it('a bucket job: exported tiles wait in Cloud Storage, Drive is not mentioned', () => {
    const lines = stopReport('stopped by Ctrl-C', progress, 'bav.json', outputsPlace({ gcs: { bucket: 'tiles', prefix: 'bav' } }));
    expect(lines).toContain('  2 tiles exported and waiting in Cloud Storage at gs://tiles/bav (downloads resume where they stopped).');
    expect(lines.join('\n')).not.toMatch(/Drive/);
  });
});
