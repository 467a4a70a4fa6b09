/**
 * `tessera serve` and the desktop app run a job whose destination is a Cloud Storage bucket through the same
 * host as a Drive job (docs/cloud-storage.md): every object is downloaded, verified and deleted.
 */
import { readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobHost } from '../../main/core/engine/host';
import { emulatorSession } from '../../main/core/google/session';
import { rectangleJob } from '../helpers/job';
import { useEmulator } from '../helpers/emulator';
import { loadJobFile } from '../../main/core/job/job-file';
import { NewJobRequestSchema } from '../../shared/dashboard';
import { destinationOf, isServiceAccount } from '../../renderer/components/wizard/destination';

const emu = useEmulator({ timeScale: 1000, taskBaseSeconds: 20, buckets: 'tiles' });

describe('JobHost with a bucket job', () => {
  it('downloads, verifies and deletes every object of the job', { timeout: 60_000 }, async () => {
    const job = rectangleJob('hostgcs', 2, 1, { drive: undefined, destination: { type: 'gcs', bucket: 'tiles', prefix: 'served' } });
    const host = new JobHost({ connect: async () => ({ session: await emulatorSession(emu.url), timeScale: 1000 }), progressIntervalMs: 50 });
    await host.add(job.file);
    host.start('hostgcs');
    await host.settled();
    const view = host.snapshot().jobs[0]!;
    await host.stop();
    expect(view.outcome?.exitCode, view.outcome?.message ?? undefined).toBe(0);
    // The dashboard shows the bucket instead of the Drive gauge, with this job's bytes.
    expect(view.bucket).toEqual({ bucket: 'tiles', prefix: 'served' });
    expect(view.drive.pendingBytes).toBe(0);
    expect(view.drive.downloadedBytes).toBeGreaterThan(0);
    await emu.sync();
    const mine = emu.state().objects.filter((o) => o.bucket === 'tiles' && /^served\/hostgcs_x\d+_y\d+\.tif$/.test(o.name));
    expect(mine).toHaveLength(2);
    for (const o of mine) {
      expect(o.deletedAt, o.name).not.toBeNull();
      const local = readFileSync(join(job.output, o.name.split('/').pop()!));
      expect(createHash('md5').update(local).digest('base64')).toBe(o.md5Hash);
    }
    expect(readdirSync(job.output).filter((f) => f.endsWith('.tif'))).toHaveLength(2);
  });
});

describe('the wizard with a bucket destination', () => {
  it('writes destination {type: "gcs", bucket, prefix} in the job file, and the job loads as a bucket job', async () => {
    const base = rectangleJob('wizgcs', 1, 1);
    const host = new JobHost({ connect: async () => ({ session: await emulatorSession(emu.url), timeScale: 1000 }) });
    const file = join(base.dir, 'made', 'wizgcs.json');
    const choice = destinationOf({ destType: 'gcs', drive: 'tessera', bucket: 'gs://tiles', prefix: ' runs/wiz ' });
    await host.createJob({
      file,
      start: false,
      job: { name: 'wizgcs', roi: { path: join(base.dir, 'area.geojson') }, grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 128 }, ...choice, output: join(base.dir, 'out') },
    });
    await host.stop();
    const written = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(written.destination).toEqual({ type: 'gcs', bucket: 'tiles', prefix: 'runs/wiz' });
    expect(written.drive).toBeUndefined();
    expect((await loadJobFile(file)).gcs).toEqual({ bucket: 'tiles', prefix: 'runs/wiz' });
  });

  it('asks for exactly one destination, and steers a service account to a bucket', () => {
    const job = { name: 'x', roi: { path: '/a.geojson' }, grid: { crs: 'EPSG:3035', scale: 10, tilePixels: 128 }, output: '/o' };
    const parse = (extra: object) => NewJobRequestSchema.safeParse({ file: '/x.json', job: { ...job, ...extra } });
    expect(parse({}).success).toBe(false);
    expect(parse({ drive: { folder: 'f' }, destination: { type: 'gcs', bucket: 'b' } }).success).toBe(false);
    expect(parse({ destination: { type: 'gcs', bucket: '' } }).error?.issues[0]?.path).toEqual(['job', 'destination', 'bucket']);
    expect(parse({ drive: { folder: 'f' } }).success).toBe(true);
    expect(isServiceAccount('tessera-runner@sa-project.iam.gserviceaccount.com')).toBe(true);
    expect(isServiceAccount('ana@example.org')).toBe(false);
  });
});
