/**
 * The loop people run in notebooks today (issue 4), as the baseline of `vs-seed-loop`, written with the
 * same unmodified clients Tessera uses (`@google/earthengine`, async calls only, and `@googleapis/drive`):
 *
 *   for tile in tiles:
 *       while n_running + n_ready >= maxTasks:        # str(ee.batch.Task.list()).count('RUNNING') …
 *           sleep(60)
 *       ee.batch.Export.image.toDrive(...).start()
 *       for f in drive.ListFile(folder):              # download and delete what is there, one by one
 *           f.GetContentFile(f.name); f.Delete()      # no size or MD5 check
 *   while any task running or ready: sleep(60)
 *   (download and delete the rest)
 *
 * Task states are counted by listing every operation of the project (all pages) — Python's
 * `ee.batch.Task.list()`; READY is EE v1's PENDING. `sleep(60)` is 60 simulated seconds, so it is divided
 * by the emulator's time scale like Tessera's intervals. The tiles and export parameters are the job's
 * own (crs, crsTransform, dimensions; the same image), so both do the same work.
 *
 * Run as a script it prints one JSON line: { makespanMs, tiles, files, bytes, checks, sleeps }.
 *   node --import tsx bench/baselines/seed-loop.ts JOB.json EMULATOR_URL MAX_TASKS
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { drive as driveApi } from '@googleapis/drive';
import { connect } from '../../main/cli/connect';
import { builtInImage } from '../../main/core/engine/recipe';
import { planTiles } from '../../main/core/engine/plan';
import type { EeModule } from '../../main/core/google/earthengine';
import { loadJobFile } from '../../main/core/job/job-file';

interface SeedLoopResult {
  makespanMs: number;
  tiles: number;
  files: number;
  bytes: number;
  /** Times the task list was read, and times the loop slept. */
  checks: number;
  sleeps: number;
}

/** The client calls the loop uses, as the untyped library exposes them. */
type Op = { metadata?: { state?: string } };
type Ee = Omit<EeModule, 'data' | 'batch'> & {
  data: Omit<EeModule['data'], 'listOperations'> & { listOperations(limit: number | undefined, cb: (r: Op[] | null, err?: string) => void): void };
  batch: { Export: { image: { toDrive(p: Record<string, unknown>): { start(ok: () => void, err: (e?: string) => void): void } } } };
};

export async function seedLoop(jobPath: string, emulatorUrl: string, maxTasks: number): Promise<SeedLoopResult> {
  const job = await loadJobFile(jobPath);
  const { tiles } = await planTiles(job);
  const { session, timeScale } = await connect(emulatorUrl, job.project);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ee = require('@google/earthengine') as Ee;
  const { token, expiresAt } = await session.accessToken();
  ee.data.setAuthToken('seed', 'Bearer', token, Math.floor((expiresAt - Date.now()) / 1000), [], undefined, false);
  await new Promise<void>((ok, fail) => ee.initialize(session.endpoints.eeBaseUrl, null, ok, fail, null, session.project));
  const drive = driveApi({ version: 'v3', auth: session.client, rootUrl: session.endpoints.driveRootUrl });
  mkdirSync(job.output, { recursive: true });
  const sleep = () => new Promise((r) => setTimeout(r, (60 / timeScale) * 1000));

  let checks = 0;
  let sleeps = 0;
  let files = 0;
  let bytes = 0;
  const activeTasks = async (): Promise<number> => {
    checks++;
    const ops = await new Promise<Op[]>((ok, fail) => ee.data.listOperations(undefined, (r, err) => (err ? fail(new Error(err)) : ok(r ?? []))));
    return ops.filter((o) => o.metadata?.state === 'RUNNING' || o.metadata?.state === 'PENDING').length;
  };
  let folderId: string | undefined;
  const downloadAndDelete = async (): Promise<void> => {
    if (!folderId) {
      const r = await drive.files.list({ q: `name = '${job.driveFolder}' and mimeType = 'application/vnd.google-apps.folder' and trashed = false`, fields: 'files(id)' });
      folderId = r.data.files?.[0]?.id ?? undefined;
      if (!folderId) return; // EE creates the folder with the first output
    }
    let pageToken: string | undefined;
    const found: { id: string; name: string }[] = [];
    do {
      const r = await drive.files.list({ q: `'${folderId}' in parents and trashed = false`, fields: 'nextPageToken, files(id, name)', pageToken });
      for (const f of r.data.files ?? []) if (f.id && f.name) found.push({ id: f.id, name: f.name });
      pageToken = r.data.nextPageToken ?? undefined;
    } while (pageToken);
    for (const f of found) {
      const r = await drive.files.get({ fileId: f.id, alt: 'media' }, { responseType: 'stream' });
      const out = createWriteStream(join(job.output, f.name));
      await pipeline(r.data as unknown as Readable, out);
      bytes += out.bytesWritten;
      await drive.files.delete({ fileId: f.id });
      files++;
    }
  };

  const t0 = performance.now();
  for (const tile of tiles) {
    while ((await activeTasks()) >= maxTasks) {
      sleeps++;
      await sleep();
    }
    const task = ee.batch.Export.image.toDrive({
      image: builtInImage(ee as unknown as EeModule, job.export.dataType),
      description: `${job.name}_${tile.id}`,
      folder: job.driveFolder,
      fileNamePrefix: `${job.name}_${tile.id}`,
      crs: tile.crs,
      crsTransform: [...tile.crsTransform],
      dimensions: `${tile.dimensions[0]}x${tile.dimensions[1]}`,
      maxPixels: 1e9,
    });
    await new Promise<void>((ok, fail) => task.start(ok, (e) => fail(new Error(e))));
    await downloadAndDelete();
  }
  while ((await activeTasks()) > 0) {
    sleeps++;
    await sleep();
  }
  await downloadAndDelete();
  return { makespanMs: performance.now() - t0, tiles: tiles.length, files, bytes, checks, sleeps };
}

if (require.main === module) {
  const [jobPath, url, maxTasks] = process.argv.slice(2);
  if (!jobPath || !url || !maxTasks) {
    process.stderr.write('usage: seed-loop.ts JOB.json EMULATOR_URL MAX_TASKS\n');
    process.exit(1);
  }
  seedLoop(jobPath, url, Number(maxTasks)).then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n'),
    (e: unknown) => {
      process.stderr.write(`seed loop: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
