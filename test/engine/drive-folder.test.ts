import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { drive as driveApi } from '@googleapis/drive';
import { emulatorSession } from '../../main/core/google/session';
import { rectangleJob } from '../helpers/job';
import { checkFinishedJob, runJob, useEmulator } from '../helpers/emulator';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20 });

describe('a Drive folder shared with strangers', () => {
  it('downloads and deletes only the job’s own outputs, and nothing leaves the output folder', async () => {
    const job = rectangleJob('evil', 4, 3);
    // Seed the folder the export will use, through the real Drive client.
    const session = await emulatorSession(emu.url);
    const drive = driveApi({ version: 'v3', auth: session.client, rootUrl: `${emu.url}/` });
    const folder = await drive.files.create({ requestBody: { name: `tessera-evil`, mimeType: 'application/vnd.google-apps.folder' }, fields: 'id' });
    const seeded = ['../evil.tif', 'evil_x3125_y2344 (1).tif', 'evil_x3125_y23440.tif', 'other_x3125_y2344.tif', 'evil_x3125_y2344.tif.part', 'notes.txt'];
    for (const name of seeded) {
      // Uploads need rootUrl per call: the generated client builds its mediaUrl from call options only.
      await drive.files.create(
        { requestBody: { name, parents: [folder.data.id!] }, media: { mimeType: 'application/octet-stream', body: Readable.from([Buffer.from(`not yours: ${name}`)]) } },
        { rootUrl: `${emu.url}/` },
      );
    }
    const r = await runJob(job.file, emu.url);
    expect(r.code, r.stderr).toBe(0);
    await emu.sync();
    const state = emu.state();
    checkFinishedJob(state, 'evil', job.output, 12);
    // The strangers' files are all still in Drive, untouched.
    for (const name of seeded) {
      const f = state.files.find((x) => x.name === name);
      expect(f, name).toBeDefined();
      expect(f!.deletedAt, name).toBeNull();
      expect(f!.trashed, name).toBe(false);
    }
    // Locally: only the job's twelve outputs, and nothing written beside the output folder.
    const local = readdirSync(job.output);
    expect(local.filter((n) => n.endsWith('.tif'))).toHaveLength(12);
    // Besides them, only the job's mosaic and summary.
    expect(local.filter((n) => !n.endsWith('.tif')).sort()).toEqual(['evil.summary.json', 'evil.summary.txt', 'evil.vrt']);
    expect(local.filter((n) => n.endsWith('.tif')).every((n) => /^evil_x\d+_y\d+\.tif$/.test(n))).toBe(true);
    expect(readdirSync(job.dir).sort()).toEqual(['.tessera', 'area.geojson', 'job.json', 'out']);
  });
});
