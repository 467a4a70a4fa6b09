/**
 * Drive on the simulated clock (docs/emulator.md#simulated-clock) and the emulator options (driveListingDelaySeconds, lostAnswerMode,
 * omitDestinationUrisRate, timeoutMessage) through Google's unmodified clients.
 */
import type { drive_v3 } from '@googleapis/drive';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../main/emulator';
import { eeCall, plain, startTask, useEmulatorWithEe, waitFor, type Ee } from './google-clients';

const PROJECT = 'late-project';
const CALM = { lostAnswerRate: 0, lostAnswerMode: 'reset', driveListingDelaySeconds: 0, omitDestinationUrisRate: 0, timeoutPixels: null, timeoutMessage: 'Computation timed out.' } as const;

let emu: EmulatorHandle;
let ee: Ee;
let drive: drive_v3.Drive;

function task(description: string, folder: string, requestId = randomUUID(), pixels = 16): Ee {
  const t = ee.batch.Export.image.toDrive({
    image: ee.Image(1).toFloat(), description, folder, fileNamePrefix: description,
    crs: 'EPSG:32632', crsTransform: [10, 0, 600000, 0, -10, 5400000], dimensions: `${pixels}x${pixels}`,
  });
  (t as unknown as { id: string }).id = requestId;
  return t;
}

async function finished(id: string): Promise<{ done?: boolean; error?: { message: string }; metadata: { state: string; createTime: string; endTime?: string; destinationUris?: string[] } }> {
  const name = `projects/${PROJECT}/operations/${id}`;
  return waitFor(`operation ${id}`, async () => {
    const op = plain<{ done?: boolean; error?: { message: string }; metadata: { state: string; createTime: string; endTime?: string; destinationUris?: string[] } }>(ee, await eeCall((cb) => ee.data.getOperation(name, cb)));
    return op.done ? op : undefined;
  });
}

useEmulatorWithEe({ timeScale: 1000, taskBaseSeconds: 30, dispatchSeconds: 1, slots: 4, seed: 7 }, PROJECT, (started) => ({ emu, ee, drive } = started));
afterEach(() => {
  emu.configure(CALM);
});

describe('Drive on the simulated clock (§6)', () => {
  it("gives an export's files a createdTime no earlier than its operation's createTime, at timeScale 1000", async () => {
    const op = await finished(await startTask(task('clock', 'clock-folder')));
    expect(op.metadata.state).toBe('SUCCEEDED');
    const listed = await drive.files.list({ q: "name = 'clock.tif'", fields: 'files(id, createdTime, modifiedTime)' });
    const file = listed.data.files![0]!;
    // Simulated time runs 1000× ahead of real time: real timestamps would be far older than the operation.
    expect(Date.parse(file.createdTime!)).toBeGreaterThanOrEqual(Date.parse(op.metadata.createTime));
    expect(file.createdTime).toBe(op.metadata.endTime);
    expect(file.modifiedTime).toBe(file.createdTime);
  });
});

describe('late listings (driveListingDelaySeconds)', () => {
  it('keeps a new file out of files.list for the delay (simulated seconds) while files.get finds it at once', async () => {
    emu.configure({ driveListingDelaySeconds: 3000 }); // 3 s of real time at timeScale 1000
    await finished(await startTask(task('late', 'late-folder')));
    const id = emu.state().files.find((f) => f.name === 'late.tif')!.id;
    const listed = await drive.files.list({ q: "name = 'late.tif'", fields: 'files(id)' });
    expect(listed.data.files).toEqual([]);
    const got = await drive.files.get({ fileId: id, fields: 'id, name' });
    expect(got.data.name).toBe('late.tif');
    const later = await waitFor('the listing', async () => {
      const r = await drive.files.list({ q: "name = 'late.tif'", fields: 'files(id)' });
      return r.data.files?.length ? r.data.files : undefined;
    }, 20_000, 200);
    expect(later.map((f) => f.id)).toEqual([id]);
  });
});

describe('lost answers (lostAnswerMode)', () => {
  it('close: the connection closes cleanly without a byte; the export exists once and the same requestId gets it back', async () => {
    emu.configure({ lostAnswerRate: 1, lostAnswerMode: 'close' });
    const requestId = randomUUID();
    const err = await startTask(task('closed', 'lost-folder', requestId)).then(() => undefined, (e: Error) => e.message);
    expect(err).toMatch(/socket hang up|other side closed|ECONNRESET|Invalid JSON/);
    emu.configure({ lostAnswerRate: 0 });
    const ops = emu.state().operations.filter((o) => o.requestId === requestId);
    expect(ops).toHaveLength(1);
    const id = await startTask(task('closed', 'lost-folder', requestId));
    expect(`projects/${PROJECT}/operations/${id}`).toBe(ops[0]!.name);
  });

  it('timeout: no answer ever comes (the client has to give up); the export took effect', async () => {
    emu.configure({ lostAnswerRate: 1, lostAnswerMode: 'timeout' });
    const requestId = randomUUID();
    // The client would wait as long as its own timeout allows: a bounded wait stands in for it here.
    const outcome = await Promise.race([
      startTask(task('hung', 'lost-folder', requestId)).then(() => 'answered', () => 'failed'),
      new Promise((resolve) => setTimeout(() => resolve('no answer'), 1500)),
    ]);
    expect(outcome).toBe('no answer');
    expect(emu.state().operations.filter((o) => o.requestId === requestId)).toHaveLength(1);
  });
});

describe('shapes of success and failure', () => {
  it('omitDestinationUrisRate 1: a SUCCEEDED Drive export has no destinationUris (its files are in Drive all the same)', async () => {
    emu.configure({ omitDestinationUrisRate: 1 });
    const op = await finished(await startTask(task('nouris', 'nouris-folder')));
    expect(op.metadata.state).toBe('SUCCEEDED');
    expect(op.metadata.destinationUris).toBeUndefined();
    expect(emu.state().files.some((f) => f.name === 'nouris.tif' && f.deletedAt === null)).toBe(true);
  });

  it('timeoutMessage: a task above timeoutPixels fails with the configured wording', async () => {
    emu.configure({ timeoutPixels: 100, timeoutMessage: 'Deadline expired before operation could complete.' });
    const op = await finished(await startTask(task('deadline', 'deadline-folder', randomUUID(), 64)));
    expect(op.metadata.state).toBe('FAILED');
    expect(op.error?.message).toBe('Deadline expired before operation could complete.');
  });

  it('refuses an unknown lostAnswerMode with one readable line', () => {
    expect(() => emu.configure({ lostAnswerMode: 'vanish' as 'close' })).toThrow(/lostAnswerMode/);
  });
});
