import { describe, expect, it } from 'vitest';
import { DriveSpace } from '../../main/core/engine/drive-space';
import type { DriveQuota } from '../../main/core/google/drive';

const GB = 1e9;

/** A Drive whose `about` answers `usage` and counts the reads; the clock is set by hand. */
function fakeDrive(limit: number | null, usage: number) {
  const d = { reads: 0, usage, now: 0 };
  const space = new DriveSpace({
    read: async (): Promise<DriveQuota> => {
      d.reads++;
      return { limit, usage: d.usage, usageInDrive: d.usage, usageInDriveTrash: 0 };
    },
    now: () => d.now,
    maxAgeMs: 30 * 60_000,
    freshMs: 5_000,
  });
  return { d, space };
}

describe('Drive space for the quota gate', () => {
  it('about is not re-read while projected free space stays above the reserve', async () => {
    const { d, space } = fakeDrive(15 * GB, 1 * GB);
    // 100 tiles of 50 MB each, four in flight, every output deleted after its download.
    for (let k = 0; k < 100; k++) {
      d.now += 60_000 / 100;
      expect(await space.hasRoom(4 * 0.05 * GB, 0.05 * GB, 1 * GB)).toBe(true);
      space.appeared(`t${k}`, 0.05 * GB);
      space.listed(`t${k}`, 0.048 * GB);
      space.deleted(`t${k}`, 0.048 * GB);
    }
    expect(d.reads).toBe(1);
    expect(space.projected()!.usage).toBeCloseTo(1 * GB, 0);
  });

  it('counts outputs that are not deleted (trash, keep), and reads again, fresh, before closing the gate', async () => {
    const { d, space } = fakeDrive(10 * GB, 8 * GB);
    expect(await space.hasRoom(0, 0.5 * GB, 1 * GB)).toBe(true);
    space.appeared('t1', 1 * GB);
    d.now += 60_000;
    // Projected: 9 GB used + 0.5 GB next + 1 GB reserve > 10 GB. Meanwhile the user emptied 3.5 GB.
    d.usage = 5.5 * GB;
    expect(await space.hasRoom(0, 0.5 * GB, 1 * GB)).toBe(true);
    expect(d.reads).toBe(2);
  });

  it('closes the gate without another read when the last reading is fresh', async () => {
    const { d, space } = fakeDrive(10 * GB, 9 * GB);
    expect(await space.hasRoom(0, 0.5 * GB, 1 * GB)).toBe(false);
    d.now += 1_000;
    expect(await space.hasRoom(0, 0.5 * GB, 1 * GB)).toBe(false);
    expect(d.reads).toBe(1);
  });

  it('files deleted that were there at the reading free their space; a forgotten reading is read again', async () => {
    const { d, space } = fakeDrive(10 * GB, 9.5 * GB);
    await space.current();
    space.deleted('old', 2 * GB);
    expect(space.projected()!.usage).toBeCloseTo(7.5 * GB, 0);
    expect(await space.hasRoom(0, 0.5 * GB, 1 * GB)).toBe(true);
    space.forget(); // a task failed: Drive full
    await space.current();
    expect(d.reads).toBe(2);
  });

  it('an unlimited Drive is read once, and again only for the gauge after maxAge', async () => {
    const { d, space } = fakeDrive(null, 50 * GB);
    for (let k = 0; k < 50; k++) expect(await space.hasRoom(100 * GB, 100 * GB, 1 * GB)).toBe(true);
    expect(d.reads).toBe(1);
    d.now += 30 * 60_000 + 1;
    await space.current();
    expect(d.reads).toBe(2);
  });
});
