/** The dashboard's gauge for a Cloud Storage job (docs/cloud-storage.md): the bucket, not Drive's quota. */
import { describe, expect, it } from 'vitest';
import { bucketGaugeText } from '../../renderer/bucket-gauge';

const MIB = 1024 * 1024;
const objects = { pendingBytes: 3 * MIB, pendingFiles: 2, unlistedTiles: 0, unlistedBytes: 0, reserveBytes: 0, downloadedBytes: 5 * MIB, cleanup: 'delete' as const };

describe('the Cloud Storage gauge', () => {
  it('names gs://bucket/prefix and counts this job\'s objects, with no limit', () => {
    const t = bucketGaugeText({ bucket: 'tiles', prefix: 'runs/bavaria' }, objects);
    expect(t.title).toBe('Cloud Storage: gs://tiles/runs/bavaria');
    expect(t.label).toBe('3 MiB of this job · no limit');
    expect(t.waiting).toBe('3 MiB · 2 objects');
    expect(t.waitingBytes).toBe(3 * MIB);
    expect(t.downloaded).toBe('5 MiB');
  });

  it('estimates tiles not listed yet and names a bucket without prefix', () => {
    const t = bucketGaugeText({ bucket: 'tiles', prefix: '' }, { ...objects, pendingFiles: 0, pendingBytes: 0, unlistedTiles: 1, unlistedBytes: MIB });
    expect(t.title).toBe('Cloud Storage: gs://tiles');
    expect(t.waiting).toBe('≈ 1 MiB + 1 tile not listed yet');
  });
});
